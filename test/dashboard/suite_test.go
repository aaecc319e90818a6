package dashboard_test

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/batonhq/baton/cmd/manager/app"
	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/steps"
)

// One control plane and one full manager (cmd/manager/app, bin/manager's defaults) in
// this process, its metrics endpoint on a free port. The manager runs here rather than as
// bin/manager because the specs need one handler of their own: stubborn, which ignores the
// end of its context until the suite releases it, so that a handler is abandoned and
// baton_abandoned_handlers_total has a series to serve.
var (
	k8s        client.WithWatch
	suiteCtx   context.Context
	metricsURL string
)

// stubborn is the command type whose handler ignores its context; stubbornStarted is
// closed when it first runs.
const stubborn = "stubborn"

var stubbornStarted = make(chan struct{})

func TestDashboard(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "the Grafana dashboard against a running manager's /metrics")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var cancel context.CancelFunc
	suiteCtx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	By("starting kube-apiserver, etcd and the manager with its metrics endpoint on")
	addr, err := localcluster.FreeAddress()
	Expect(err).NotTo(HaveOccurred())
	metricsURL = "http://" + addr + "/metrics"
	registry := steps.NewRegistry()
	release := make(chan struct{})
	var once sync.Once
	Expect(registry.Register(stubborn, "", steps.HandlerFunc(func(context.Context, steps.Request) (any, error) {
		once.Do(func() { close(stubbornStarted) })
		<-release // ignores its context: abandoned once its sequence is cancelled
		return nil, nil
	}))).To(Succeed())
	cluster, err := localcluster.Start(suiteCtx, registry, func(o *app.Options) { o.MetricsBindAddress = addr })
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(cluster.Stop()).To(Succeed()) })
	DeferCleanup(func() { close(release) }) // runs first: no handler outlives the suite
	k8s = cluster.Client

	Expect(localcluster.WaitOK(metricsURL, time.Minute)).To(Succeed())
})
