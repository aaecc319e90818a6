# baton — build, generate, test. `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
CONTROLLER_GEN := go tool -modfile=hack/tools/go.mod controller-gen
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GENERATED_SUM := cat api/v1alpha1/zz_generated.deepcopy.go config/crd/bases/*.yaml config/rbac/role.yaml 2>/dev/null | sha256sum
LDFLAGS := -X github.com/batonhq/baton/cmd/internal/version.Version=$(VERSION)

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: generate
generate: ## Generate deepcopy methods for api/.
	$(CONTROLLER_GEN) object paths=./api/...

.PHONY: manifests
manifests: ## Generate CRDs and the RBAC role into config/.
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=baton-manager paths=./... output:rbac:artifacts:config=config/rbac

.PHONY: fmt
fmt: ## gofmt the tree.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## go vet every package.
	go vet ./...

.PHONY: build
build: ## Build bin/manager and bin/kubectl-baton.
	go build -ldflags "$(LDFLAGS)" -o bin/manager ./cmd/manager
	go build -ldflags "$(LDFLAGS)" -o bin/kubectl-baton ./cmd/kubectl-baton

.PHONY: envtest
envtest: ## Build kube-apiserver, etcd and kubectl from Go modules (once); print their directory last.
	@hack/envtest.sh

.PHONY: verify-generated
verify-generated: ## Fail when `make generate manifests` would change a generated file.
	@before=$$($(GENERATED_SUM)) && $(MAKE) -s generate manifests && \
	 [ "$$before" = "$$($(GENERATED_SUM))" ] || { echo "generated files are not current: 'make generate manifests' failed or rewrote them; run it and commit the result" >&2; exit 1; }

.PHONY: demo
demo: ## Start a local control plane, the manager and a simulated operator, run the example sequences live, print their reports; KEEP=1 keeps it up until Ctrl-C.
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh | tail -n 1)" go run ./cmd/baton-local $(if $(KEEP),-keep)

.PHONY: test
test: verify-generated vet build ## Everything CI runs: generated files current, vet, build, all tests on a real API server.
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh | tail -n 1)" go test ./... -count=1 -timeout 20m
