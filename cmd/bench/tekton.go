package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/batonhq/baton/internal/localcluster"
)

// tektonNamespace is where Tekton's controller reads its ConfigMaps and takes its leases
// (SYSTEM_NAMESPACE; the namespace of every ConfigMap in its config/).
const tektonNamespace = "tekton-pipelines"

// tektonKinds are the resources Tekton's controller writes for a PipelineRun of custom
// tasks; Events are counted apart, as for baton.
var tektonKinds = []string{"pipelineruns", "customruns", "taskruns"}

// tektonRelease is what hack/tekton.sh built: the controller binary and the module's
// config/ (its CRDs in config/300-crds).
type tektonRelease struct {
	Version, Binary, CRDs, Config string
}

// buildTekton runs hack/tekton.sh, which builds Tekton Pipelines' controller at the version
// pinned in hack/tekton/go.mod once (bin/tekton-<version>/) and prints where it and the
// module's config/ are.
func buildTekton(ctx context.Context, log logr.Logger, repo string) (tektonRelease, error) {
	log.Info("building Tekton Pipelines' controller (cached in bin/ after the first run)")
	bctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(bctx, filepath.Join(repo, "hack", "tekton.sh"))
	cmd.Dir = repo
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return tektonRelease{}, fmt.Errorf("hack/tekton.sh: %w\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		return tektonRelease{}, fmt.Errorf("hack/tekton.sh printed %q, want the binary, the CRDs and config/", out)
	}
	r := tektonRelease{Binary: lines[len(lines)-3], CRDs: lines[len(lines)-2], Config: lines[len(lines)-1]}
	// bin/tekton-<version>/controller
	r.Version = strings.TrimPrefix(filepath.Base(filepath.Dir(r.Binary)), "tekton-")
	return r, nil
}

// yamlDocuments splits a file of YAML documents, dropping empty ones.
func yamlDocuments(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if len(bytes.TrimSpace(doc)) > 0 {
			docs = append(docs, doc)
		}
	}
}

// eachDocument calls do with every YAML document of the *.yaml files in dir (not its
// subdirectories).
func eachDocument(dir string, do func(path string, doc []byte) error) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	for _, path := range files {
		docs, err := yamlDocuments(path)
		if err != nil {
			return err
		}
		for _, doc := range docs {
			if err := do(path, doc); err != nil {
				return err
			}
		}
	}
	return nil
}

// tektonCRDs reads the CRDs in dir (config/300-crds) with their conversion set to None:
// the CRDs name Tekton's webhook as their converter, and the bench runs no webhook. The
// bench's objects are v1 PipelineRuns and the controller's v1beta1 CustomRuns, each
// stored in the version it is written in, so nothing needs converting.
func tektonCRDs(dir string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	var crds []*apiextensionsv1.CustomResourceDefinition
	err := eachDocument(dir, func(path string, doc []byte) error {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(doc, crd); err != nil {
			return fmt.Errorf("decoding a CRD in %s: %w", path, err)
		}
		if crd.Kind == "CustomResourceDefinition" {
			crd.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.NoneConverter}
			crds = append(crds, crd)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("no CRDs in %s", dir)
	}
	return crds, nil
}

// tektonConfigMaps reads every ConfigMap in dir (config/, not its subdirectories):
// config-defaults, feature-flags, config-observability, config-logging, the leader
// election ConfigMaps, config-registry-cert, config-spire, config-events, config-tracing,
// ... The controller reads several at start and watches the rest; missing ones stop it
// or log errors, so all of them are installed, as a release's manifest installs them.
func tektonConfigMaps(dir string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	err := eachDocument(dir, func(path string, doc []byte) error {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return fmt.Errorf("decoding %s: %w", path, err)
		}
		if u.GetKind() == "ConfigMap" && u.GetAPIVersion() == "v1" {
			if u.GetNamespace() == "" {
				u.SetNamespace(tektonNamespace)
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no ConfigMaps in %s", dir)
	}
	return out, nil
}

// installTektonConfig creates Tekton's namespace and its ConfigMaps.
func installTektonConfig(ctx context.Context, c client.Client, maps []*unstructured.Unstructured) error {
	if err := ensureNamespace(ctx, c, tektonNamespace); err != nil {
		return err
	}
	for _, cm := range maps {
		if err := ensureNamespace(ctx, c, cm.GetNamespace()); err != nil {
			return err
		}
		if err := c.Create(ctx, cm.DeepCopy()); err != nil {
			return fmt.Errorf("creating ConfigMap %s/%s: %w", cm.GetNamespace(), cm.GetName(), err)
		}
	}
	return nil
}

// tektonQPS is the client rate the bench gives Tekton's controller: its main doubles
// -kube-api-qps and -kube-api-burst (one client for two controllers) and the default of
// 2 × 5 QPS would make the client, not the API server, its bound. knative refuses a
// negative QPS, so no limit is spelled as one no workload here reaches.
const tektonQPS, tektonBurst = 2000, 4000

// startTekton starts Tekton's controller as a process against kubeconfig, with the
// environment its Deployment sets (config/controller.yaml), placeholder images (it runs
// no Pod: custom tasks only), its listeners on free local ports, and waits until it is
// serving metrics. The returned manager is stopped like baton's, on every path.
func startTekton(ctx context.Context, rel tektonRelease, kubeconfig, dir string) (*manager, error) {
	var ports [3]string
	for i := range ports {
		addr, err := localcluster.FreeAddress()
		if err != nil {
			return nil, err
		}
		ports[i] = addr[strings.LastIndexByte(addr, ':')+1:]
	}
	m := &manager{name: "Tekton's controller", metrics: "http://127.0.0.1:" + ports[0] + "/metrics", exited: make(chan error, 1)}
	const placeholder = "bench.invalid/tekton/"
	args := []string{
		"-kubeconfig=" + kubeconfig,
		fmt.Sprintf("-kube-api-qps=%d", tektonQPS),
		fmt.Sprintf("-kube-api-burst=%d", tektonBurst),
		"-entrypoint-image=" + placeholder + "entrypoint",
		"-nop-image=" + placeholder + "nop",
		"-sidecarlogresults-image=" + placeholder + "sidecarlogresults",
		"-workingdirinit-image=" + placeholder + "workingdirinit",
		"-shell-image=" + placeholder + "busybox",
		"-shell-image-win=" + placeholder + "powershell",
	}
	env := append(os.Environ(),
		"SYSTEM_NAMESPACE="+tektonNamespace,
		"CONFIG_DEFAULTS_NAME=config-defaults",
		"CONFIG_LOGGING_NAME=config-logging",
		"CONFIG_OBSERVABILITY_NAME=config-observability",
		"CONFIG_FEATURE_FLAGS_NAME=feature-flags",
		"CONFIG_LEADERELECTION_NAME=config-leader-election-controller",
		"CONFIG_SPIRE=config-spire",
		"METRICS_DOMAIN=tekton.dev/pipeline",
		"METRICS_PROMETHEUS_HOST=127.0.0.1",
		"METRICS_PROMETHEUS_PORT="+ports[0],
		"PROBES_PORT="+ports[1],
		"PROFILING_PORT="+ports[2],
	)
	cmd := exec.Command(rel.Binary, args...)
	cmd.Env = env
	if err := m.start(cmd, filepath.Join(dir, "tekton-controller.log")); err != nil {
		return nil, err
	}
	// Its probe answers once it runs; the bench's canary PipelineRun then says it reconciles.
	probe := "http://127.0.0.1:" + ports[1] + "/readiness"
	err := poll(ctx, time.Minute, 200*time.Millisecond, "Tekton's controller to answer its probe", func() (bool, error) {
		if err := m.alive(); err != nil {
			return false, err
		}
		return httpOK(ctx, probe) == nil, nil
	})
	if err != nil {
		return nil, errors.Join(err, m.stop())
	}
	return m, nil
}
