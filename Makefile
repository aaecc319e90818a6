# baton — build, generate, test. `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
CONTROLLER_GEN := go tool -modfile=hack/tools/go.mod controller-gen
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GENERATED_SUM := cat api/v1alpha1/zz_generated.deepcopy.go config/crd/bases/*.yaml config/rbac/role.yaml charts/baton/templates/*/*.yaml charts/baton/dashboards/* 2>/dev/null | sha256sum
LDFLAGS := -X github.com/batonhq/baton/cmd/internal/version.Version=$(VERSION)
# The image (Dockerfile) copies bin/manager as make build leaves it: static, no cgo.
GOBUILD := CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)"
IMAGE ?= localhost/baton:latest
# podman on this kind of machine: runc (crun fails on its cgroups), host network, and no
# default rlimits (the runtime may not set them here).
PODMAN_CONF := $(CURDIR)/bin/containers.conf
PODMAN := CONTAINERS_CONF=$(PODMAN_CONF) podman
ENVTEST_ASSETS = $$(hack/envtest.sh | tail -n 1)

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
vet: ## gofmt and go vet every package.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')) && [ -z "$$unformatted" ] || { echo "gofmt would change: $$unformatted" >&2; exit 1; }
	go vet ./...

.PHONY: build
build: ## Build bin/manager and bin/kubectl-baton.
	$(GOBUILD) -o bin/manager ./cmd/manager
	$(GOBUILD) -o bin/kubectl-baton ./cmd/kubectl-baton

.PHONY: envtest
envtest: ## Build kube-apiserver, etcd and kubectl from Go modules (once); print their directory last.
	@hack/envtest.sh

.PHONY: verify-generated
verify-generated: ## Fail when `make generate manifests chart` would change a generated file.
	@before=$$($(GENERATED_SUM)) && $(MAKE) -s generate manifests chart && \
	 [ "$$before" = "$$($(GENERATED_SUM))" ] || { echo "generated files are not current: 'make generate manifests chart' failed or rewrote them; run it and commit the result" >&2; exit 1; }

.PHONY: chart
chart: ## Generate the Helm chart's templates (charts/baton) from config/; check values.yaml against config/.
	go run ./hack/chartgen

.PHONY: demo
demo: ## Start a local control plane, the manager and a simulated operator, run the example sequences live, print their reports; KEEP=1 keeps it up until Ctrl-C.
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh | tail -n 1)" go run ./cmd/baton-local $(if $(KEEP),-keep)

.PHONY: bench
bench: ## Measure the baseline and this tree's manager on fresh control planes, and with BENCH_PEER=tekton Tekton Pipelines (hack/tekton.sh); prints markdown tables with the goals (BENCH_BASELINE, BENCH_FULL=1, BENCH_SCALE, BENCH_STORED, BENCH_PEER).
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh | tail -n 1)" go run ./cmd/bench

.PHONY: test
test: verify-generated vet build ## Everything CI runs: generated files current, vet, build, all tests on a real API server, under the race detector.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test -race ./... -count=1 -timeout 20m

.PHONY: podman
podman: ## Install podman and runc with apt-get when missing.
	@command -v podman >/dev/null && command -v runc >/dev/null || { \
	  echo "installing podman and runc with apt-get" >&2; \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y podman runc; } || { \
	  echo "make: podman and runc are missing and apt-get could not install them; the image and its test need them" >&2; exit 1; }; }

$(PODMAN_CONF):
	@mkdir -p $(@D) && printf '[containers]\ndefault_ulimits = []\n' > $@

.PHONY: image
image: build podman $(PODMAN_CONF) ## Build the manager image $(IMAGE) (FROM scratch) with podman, from bin/manager.
	cp /etc/ssl/certs/ca-certificates.crt bin/ca-certificates.crt
	$(PODMAN) build --runtime runc --network host -t $(IMAGE) .

.PHONY: test-image
test-image: image ## Run the image's manager, hardened as config/manager says, against a local control plane.
	go vet -tags image ./test/deploy/
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" IMAGE=$(IMAGE) CONTAINERS_CONF=$(PODMAN_CONF) \
	  go test -tags image ./test/deploy/ -run '^TestImage$$' -count=1 -v -timeout 10m

HELM = $$(hack/helm.sh | tail -n 1)

.PHONY: test-chart
test-chart: ## Build helm (hack/helm.sh); lint charts/baton, dry-run it on a real API server, install it over Kubescape's CRD, upgrade, uninstall, and run the manager with its arguments.
	go vet -tags chart ./test/chart/
	HELM="$(HELM)" KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" \
	  go test -tags chart ./test/chart/ -count=1 -v -timeout 15m

# Where a release publishes an archive (hack/dist -uri): a template over .Version, .Archive, .OS, .Arch.
DIST_URI ?= https://github.com/batonhq/baton/releases/download/{{.Version}}/{{.Archive}}

.PHONY: dist
dist: ## Build kubectl-baton archives for linux, darwin and windows on amd64 and arm64 into dist/, their sha256 and the krew manifest dist/baton.yaml (DIST_URI).
	go run ./hack/dist -version "$(VERSION)" -ldflags "$(LDFLAGS)" -uri '$(DIST_URI)' -o dist

.PHONY: test-dist
test-dist: dist ## Validate dist/baton.yaml with krew's validator, install every archive offline with krew and run `kubectl baton` through kubectl's plugin discovery.
	go vet -tags dist ./test/dist/
	KREW_BIN="$$(hack/krew.sh | tail -n 1)" KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" DIST_DIR="$(CURDIR)/dist" VERSION="$(VERSION)" \
	  go test -tags dist ./test/dist/ -count=1 -v -timeout 10m

# Each fuzz target runs FUZZTIME; `go test -fuzz` takes one target of one package at a time.
FUZZTIME ?= 10s
FUZZ_TARGETS := ./api/v1alpha1/fuzz:FuzzDurationUnmarshalJSON ./api/v1alpha1/fuzz:FuzzOperatorCommandArgs \
	./engine:FuzzDecide ./engine:FuzzRetries ./engine:FuzzGateLabels ./engine:FuzzCompileExpression \
	./engine:FuzzStoredJSONSize

.PHONY: fuzz
fuzz: ## Run every fuzz target of baton's decoders for FUZZTIME each (seed corpora in testdata/fuzz).
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $${t#*:} in $${t%%:*} for $(FUZZTIME)"; \
	  go test "$${t%%:*}" -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME); \
	done
