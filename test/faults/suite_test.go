package faults_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/batonhq/baton/internal/localcluster"
)

// One control plane for the package, its API server restartable in place; each spec
// gets its own namespace and its own manager processes, watching only that namespace.
var (
	env        *envtest.Environment
	cfg        *rest.Config
	k8s        client.WithWatch
	suiteCtx   context.Context
	kubeconfig string
	managerBin string
)

func TestFaults(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "faults survived by bin/manager")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var cancel context.CancelFunc
	suiteCtx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	dir := GinkgoT().TempDir()
	By("building bin/manager from this tree")
	var err error
	managerBin, err = localcluster.BuildManager(dir)
	Expect(err).NotTo(HaveOccurred())

	By("starting kube-apiserver and etcd")
	certDir := filepath.Join(dir, "apiserver")
	Expect(os.Mkdir(certDir, 0o700)).To(Succeed())
	env, cfg, k8s, err = localcluster.StartEnv(localcluster.RestartableAPIServer(certDir))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	kubeconfig, err = localcluster.WriteKubeconfig(env, dir)
	Expect(err).NotTo(HaveOccurred())
	// A spec that restarted the API server leaves it up; give clients slack anyway.
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
})
