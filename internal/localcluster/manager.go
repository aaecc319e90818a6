package localcluster

import (
	"context"

	"k8s.io/client-go/rest"

	"github.com/batonhq/baton/cmd/manager/app"
	"github.com/batonhq/baton/steps"
)

// RunManager runs the full baton manager — bin/manager's defaults with its listeners
// off, the built-in steps beside the handlers in registry — until ctx ends. Its result
// arrives on the returned channel.
func RunManager(ctx context.Context, cfg *rest.Config, registry *steps.Registry) (<-chan error, error) {
	opts := app.DefaultOptions()
	opts.MetricsBindAddress, opts.HealthProbeBindAddress = "0", "0"
	if err := app.RegisterBuiltins(cfg, opts, registry); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg, opts, registry) }()
	return done, nil
}
