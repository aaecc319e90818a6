package sequence_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/steps"
)

// One control plane with the baton manager for the package.
var (
	cluster  *localcluster.Cluster
	k8s      client.WithWatch
	suiteCtx context.Context
)

func TestSequence(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sequence on a real API server")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var cancel context.CancelFunc
	suiteCtx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)
	var err error
	cluster, err = localcluster.Start(suiteCtx, steps.NewRegistry())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cluster.Stop)
	k8s = cluster.Client
})
