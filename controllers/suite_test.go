package controllers_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/batonhq/baton/controllers"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/internal/localcluster"
)

// One real API server for the package; each spec gets its own namespace, and a manager
// runs in this process the way bin/manager runs in a cluster.
var (
	env     *envtest.Environment
	cfg     *rest.Config
	k8s     client.WithWatch
	suiteCt context.Context
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "controllers on a real API server")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var cancel context.CancelFunc
	suiteCt, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	var err error
	env, cfg, k8s, err = localcluster.StartEnv()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
})

// testOptions are the controller options of the specs: short TTL defaults and fast
// retries so every rule shows within seconds; --claim-after at the manager's default.
func testOptions() controllers.Options {
	return controllers.Options{
		Engine: engine.Options{
			DefaultTTL:      time.Minute,
			AssemblyTimeout: time.Minute,
			MaxPayloadBytes: 1 << 10,
			ReportMaxBytes:  4 << 10,
			ExternalMaxAge:  30 * time.Minute,
			RetryBaseDelay:  100 * time.Millisecond,
			RetryMaxDelay:   time.Second,
		},
		MaxConcurrentSteps:      8,
		MaxConcurrentReconciles: 4,
		ClaimAfter:              time.Second,
		Executer:                "baton-test",
	}
}

// startManager runs a manager with the test handlers, watching the handlers' namespace,
// until the returned stop is called (or the spec ends), and waits until it stopped.
func startManager(opts controllers.Options, h *handlers) (stop func()) {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  localcluster.Scheme(),
		Metrics: metricsserver.Options{BindAddress: "0"},
		// Each spec's manager watches only the spec's namespace (--namespace), so what an
		// earlier spec left running is no business of a later one.
		Cache: cache.Options{DefaultNamespaces: map[string]cache.Config{h.ns: {}},
			DefaultTransform: controllers.CacheTransform},
		// Each manager registers a controller named "sequence"; the specs start several.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(suiteCt)
	r := controllers.NewSequenceReconciler(mgr.GetClient(), mgr.GetAPIReader(), mgr.GetEventRecorder("baton"),
		clock.RealClock{}, h.registry(), opts)
	Expect(r.SetupWithManager(ctx, mgr)).To(Succeed())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			Eventually(done, 30*time.Second).Should(BeClosed())
		}
	}
	DeferCleanup(stop)
	return stop
}
