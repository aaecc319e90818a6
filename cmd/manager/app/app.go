// Package app is the baton manager as a library: a team that ships its own binary registers
// its handlers in a steps.Registry and calls Main, and gets the same flags and behaviour as
// bin/manager.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/internal/version"
	"github.com/batonhq/baton/controllers"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/steps"
)

// Options are the manager's flags.
type Options struct {
	MetricsBindAddress      string
	PprofBindAddress        string
	HealthProbeBindAddress  string
	LeaderElect             bool
	LeaderElectionNamespace string
	Namespaces              []string
	DefaultTTL              time.Duration
	AssemblyTimeout         time.Duration
	MaxPayloadBytes         int64
	ReportMaxBytes          int64
	FinishedRetention       time.Duration
	MaxConcurrentSteps      int
	MaxConcurrentReconciles int
	// ClaimAfter is how long an idempotent handler runs unclaimed: one that returns
	// within it costs one status write; 0 claims every step before it runs.
	ClaimAfter     time.Duration
	HTTPAllow      []string
	ExternalMaxAge time.Duration
	CommandEvents  string
	// KubeAPIQPS and KubeAPIBurst limit the client on this side; 0 sets no client-side
	// limit, leaving the API server's priority and fairness to protect it, as
	// controller-runtime itself does.
	KubeAPIQPS   float64
	KubeAPIBurst int
}

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	return Options{
		MetricsBindAddress:      ":8080",
		PprofBindAddress:        "0",
		HealthProbeBindAddress:  ":8081",
		DefaultTTL:              time.Hour,
		AssemblyTimeout:         10 * time.Minute,
		MaxPayloadBytes:         256 << 10,
		ReportMaxBytes:          engine.DefaultReportMaxBytes,
		MaxConcurrentSteps:      16,
		MaxConcurrentReconciles: 16,
		ClaimAfter:              time.Second,
		ExternalMaxAge:          30 * time.Minute,
		CommandEvents:           string(controllers.EventsWarnings),
	}
}

// BindFlags registers the manager's flags on fs, with o's values as their defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, `Address the Prometheus metrics endpoint binds to; "0" disables it.`)
	fs.StringVar(&o.PprofBindAddress, "pprof-bind-address", o.PprofBindAddress, `Address Go's pprof endpoints bind to, for profiling; "0" (the default) disables them.`)
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, `Address the healthz and readyz probes bind to; "0" disables them.`)
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect a leader so that only one manager acts at a time.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the leader-election lease. Default: the pod's namespace.")
	fs.Func("namespace", "Namespace to watch; repeat or comma-separate for several. Default: all.", func(v string) error {
		o.Namespaces = append(o.Namespaces, splitList(v)...)
		return nil
	})
	fs.DurationVar(&o.DefaultTTL, "default-ttl", o.DefaultTTL, "TTL of a command whose spec.ttl is 0.")
	fs.DurationVar(&o.AssemblyTimeout, "assembly-timeout", o.AssemblyTimeout, "How long a sequence may wait for all its members, from its first member's creation.")
	fs.Int64Var(&o.MaxPayloadBytes, "max-payload-bytes", o.MaxPayloadBytes, "Largest payload an in-process step may return; larger fails it with PayloadTooLarge.")
	fs.Int64Var(&o.ReportMaxBytes, "report-max-bytes", o.ReportMaxBytes, "Cap on a sequence's whole report as the API server stores it (escaped characters included); past it, payloads are replaced by size and sha256, then lines dropped.")
	fs.DurationVar(&o.FinishedRetention, "finished-retention", o.FinishedRetention, "Delete a finished sequence and its commands this long after it finished; 0 keeps them.")
	fs.IntVar(&o.MaxConcurrentSteps, "max-concurrent-steps", o.MaxConcurrentSteps, "In-process handlers running at once.")
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", o.MaxConcurrentReconciles, "Sequences reconciled at once.")
	fs.DurationVar(&o.ClaimAfter, "claim-after", o.ClaimAfter, "How long an idempotent in-process handler runs before it is claimed; one that returns sooner is claimed and completed in one write. 0: claim every step before it runs.")
	fs.Func("http-allow", "Host pattern the http step may call (path.Match glob); repeat or comma-separate. Default: none.", func(v string) error {
		o.HTTPAllow = append(o.HTTPAllow, splitList(v)...)
		return nil
	})
	fs.DurationVar(&o.ExternalMaxAge, "external-max-age", o.ExternalMaxAge, "Age past which an external executor ignores a command (the Kubescape operator's cutoff); 0 turns the check off.")
	fs.StringVar(&o.CommandEvents, "command-events", o.CommandEvents, "Events recorded on commands: warnings (every Warning and nothing else), outcomes (adds one per terminal outcome and GateOpened) or all (adds Ready and Started). A sequence always gets one event when it starts running and one when it ends.")
	fs.Float64Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "Client-side limit on API requests per second; 0: none (the API server's priority and fairness protects it).")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Client-side burst above --kube-api-qps; 0: none.")
}

func splitList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// Main parses the command line, registers the built-in steps beside the caller's handlers,
// runs the manager until SIGTERM or SIGINT, and exits.
func Main(registry *steps.Registry) {
	opts := DefaultOptions()
	zapOpts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	zapOpts.BindFlags(flag.CommandLine)
	// --kubeconfig is registered by controller-runtime's config package.
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(opts, registry); err != nil {
		ctrl.Log.Error(err, "manager stopped")
		os.Exit(1)
	}
}

func run(opts Options, registry *steps.Registry) error {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	if err := RegisterBuiltins(cfg, opts, registry); err != nil {
		return err
	}
	return Run(ctrl.SetupSignalHandler(), cfg, opts, registry)
}

// RegisterBuiltins adds noop, sleep, expr, apply, wait and http to registry. apply and
// wait act with a direct (uncached) client of their own, with the manager's identity.
func RegisterBuiltins(cfg *rest.Config, opts Options, registry *steps.Registry) error {
	scheme, err := Scheme()
	if err != nil {
		return fmt.Errorf("building the scheme: %w", err)
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("creating the client of the built-in steps: %w", err)
	}
	return steps.RegisterBuiltins(registry, steps.BuiltinConfig{Client: c, HTTPAllow: opts.HTTPAllow})
}

// Scheme returns the kinds the manager works with: the built-in ones and baton's.
func Scheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := batonv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return scheme, nil
}

// Run runs the manager against cfg until ctx ends, with the handlers in registry.
func Run(ctx context.Context, cfg *rest.Config, opts Options, registry *steps.Registry) error {
	if registry == nil {
		return errors.New("a steps.Registry is required")
	}
	log := ctrl.Log.WithName("baton")
	log.Info("starting", "version", version.Version, "namespaces", opts.Namespaces)

	scheme, err := Scheme()
	if err != nil {
		return fmt.Errorf("building the scheme: %w", err)
	}
	events, err := controllers.ParseCommandEvents(opts.CommandEvents)
	if err != nil {
		return err
	}
	cfg = clientConfig(cfg, opts)
	cfg.Wrap(controllers.CountWrites) // baton_api_writes_total: the manager's writes by resource
	flush := &eventFlush{}
	cfg.Wrap(flush.wrap)
	defer flush.wait() // after the manager stopped: its last Events are written
	mgrOpts := ctrl.Options{
		Scheme: scheme,
		Cache: cache.Options{
			DefaultNamespaces: namespaces(opts.Namespaces),
			DefaultTransform:  controllers.CacheTransform,
		},
		Metrics:                metricsserver.Options{BindAddress: opts.MetricsBindAddress},
		HealthProbeBindAddress: opts.HealthProbeBindAddress,
		PprofBindAddress:       opts.PprofBindAddress,
		LeaderElection:         opts.LeaderElect,
		LeaderElectionID:       leaderElectionID(opts.Namespaces),
	}
	if err := checkSchema(ctx, cfg, log); err != nil {
		return err
	}
	lease, err := claimScope(ctx, cfg, opts, &mgrOpts, log)
	if err != nil {
		return err
	}
	defer lease.release() // once stopped; a no-op under leader election
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := mgr.Add(lease.keeper()); err != nil {
		return fmt.Errorf("adding the scope check: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the ready check: %w", err)
	}
	reconciler := controllers.NewSequenceReconciler(mgr.GetClient(), mgr.GetAPIReader(),
		mgr.GetEventRecorder("baton"), clock.RealClock{}, registry, controllers.Options{
			Engine: engine.Options{
				DefaultTTL:      opts.DefaultTTL,
				AssemblyTimeout: opts.AssemblyTimeout,
				MaxPayloadBytes: opts.MaxPayloadBytes,
				ReportMaxBytes:  opts.ReportMaxBytes,
				ExternalMaxAge:  opts.ExternalMaxAge,
			},
			FinishedRetention:       opts.FinishedRetention,
			MaxConcurrentSteps:      opts.MaxConcurrentSteps,
			MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
			ClaimAfter:              opts.ClaimAfter,
			Executer:                executer(),
			CommandEvents:           events,
		})
	if err := reconciler.SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("setting up the sequence controller: %w", err)
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the manager: %w", err)
	}
	log.Info("stopped")
	return nil
}

// clientConfig applies --kube-api-qps and --kube-api-burst; 0 means no client-side limit.
func clientConfig(cfg *rest.Config, opts Options) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = float32(opts.KubeAPIQPS), opts.KubeAPIBurst
	if opts.KubeAPIQPS <= 0 {
		cfg.QPS, cfg.Burst, cfg.RateLimiter = -1, 0, nil // client-go: a negative QPS sets no limiter
	}
	return cfg
}

func namespaces(names []string) map[string]cache.Config {
	if len(names) == 0 {
		return nil
	}
	out := make(map[string]cache.Config, len(names))
	for _, n := range names {
		out[n] = cache.Config{}
	}
	return out
}

// leaderElectionID gives each namespace set its own lease, so managers of disjoint
// scopes run side by side (DESIGN.md 5b).
func leaderElectionID(names []string) string {
	if len(names) == 0 {
		return "baton.kubescape.io"
	}
	sorted := slices.Sorted(slices.Values(names))
	sum := sha256.Sum256([]byte(strings.Join(sorted, ",")))
	return "baton-" + hex.EncodeToString(sum[:])[:12] + ".kubescape.io"
}

// executer is the name written to status.executer of claimed commands: the pod's name
// (POD_NAME from the downward API), else the host name.
func executer() string {
	if name := os.Getenv("POD_NAME"); name != "" {
		return name
	}
	if name, err := os.Hostname(); err == nil {
		return name
	}
	return "baton"
}
