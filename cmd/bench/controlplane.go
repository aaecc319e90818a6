package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/batonhq/baton/internal/localcluster"
)

// controlPlane is a fresh kube-apiserver and etcd for one build, with that build's CRDs.
type controlPlane struct {
	env        *envtest.Environment
	cfg        *rest.Config // admin, no client-side rate limit
	client     client.WithWatch
	raw        kubernetes.Interface
	kubeconfig string
	// pids are the processes whose CPU is measured: envtest's kube-apiserver and etcd,
	// this process, and the manager once it runs.
	pids [nRoles]int
}

// startControlPlane starts kube-apiserver and etcd with the CRDs of tree and extra (the
// peer's) and writes a kubeconfig for the manager into dir. Stop it on every path.
func startControlPlane(tree, dir string, extra ...*apiextensionsv1.CustomResourceDefinition) (*controlPlane, error) {
	env, err := localcluster.New()
	if err != nil {
		return nil, err
	}
	env.CRDDirectoryPaths = []string{filepath.Join(tree, "config", "crd", "bases")}
	env.CRDs = extra
	cfg, err := localcluster.StartGuarded(env)
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd: %w", err)
	}
	cp := &controlPlane{env: env}
	if err := cp.init(cfg, dir); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	return cp, nil
}

func (cp *controlPlane) init(cfg *rest.Config, dir string) error {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side limit: the bench measures the server
	// No cfg.Timeout: it would cut the watches; every call has a context instead.
	cp.cfg = cfg
	cp.pids[roleAPIServer], cp.pids[roleEtcd], cp.pids[roleBench] = childPID("kube-apiserver"), childPID("etcd"), os.Getpid()
	var err error
	if cp.client, err = client.NewWithWatch(cfg, client.Options{Scheme: localcluster.Scheme()}); err != nil {
		return err
	}
	if cp.raw, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	cp.kubeconfig, err = localcluster.WriteKubeconfig(cp.env, dir)
	return err
}

func (cp *controlPlane) stop() error { return cp.env.Stop() }

// apiMetrics scrapes the API server's request counters and latencies.
func (cp *controlPlane) apiMetrics(ctx context.Context) (apiMetrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	body, err := cp.raw.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return apiMetrics{}, fmt.Errorf("scraping the API server's /metrics: %w", err)
	}
	samples, err := parseSamples(bytes.NewReader(body), apiMetricNames...)
	if err != nil {
		return apiMetrics{}, err
	}
	return apiMetricsFrom(samples), nil
}
