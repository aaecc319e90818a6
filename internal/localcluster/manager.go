package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/manager/app"
	"github.com/batonhq/baton/steps"
)

// runManager runs the full baton manager — bin/manager's defaults with its listeners
// off, the built-in steps beside the handlers in registry — until ctx ends. Its result
// arrives on the returned channel once the manager stopped and the Events it was writing
// are written.
func runManager(ctx context.Context, cfg *rest.Config, registry *steps.Registry, tune []func(*app.Options)) (<-chan error, error) {
	opts := app.DefaultOptions()
	opts.MetricsBindAddress, opts.HealthProbeBindAddress = "0", "0"
	for _, t := range tune {
		t(&opts)
	}
	if err := app.RegisterBuiltins(cfg, opts, registry); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg, opts, registry) }()
	return done, nil
}

// Cluster is a local control plane with the baton manager running against it.
type Cluster struct {
	Env    *envtest.Environment
	Config *rest.Config
	Client client.WithWatch

	stopManager context.CancelFunc
	managerDone <-chan error
}

// Start starts the control plane and the manager, with the handlers in registry; each tune
// changes the manager's options (its flags) from bin/manager's defaults.
func Start(ctx context.Context, registry *steps.Registry, tune ...func(*app.Options)) (*Cluster, error) {
	env, cfg, c, err := StartEnv()
	if err != nil {
		return nil, err
	}
	mgrCtx, cancel := context.WithCancel(ctx)
	done, err := runManager(mgrCtx, cfg, registry, tune)
	if err != nil {
		cancel()
		return nil, errors.Join(err, env.Stop())
	}
	return &Cluster{Env: env, Config: cfg, Client: c, stopManager: cancel, managerDone: done}, nil
}

// closedWith is a channel that yields err to every reader, for a result already taken.
func closedWith(err error) <-chan error {
	ch := make(chan error, 1)
	ch <- err
	close(ch)
	return ch
}

// Stop stops the manager, then the control plane.
func (c *Cluster) Stop() error {
	c.stopManager()
	return errors.Join(<-c.managerDone, c.Env.Stop())
}

// Apply creates the OperatorCommands in a YAML file (one or many documents) in namespace
// and returns the keys of the sequences they belong to, in order of first appearance.
func (c *Cluster) Apply(ctx context.Context, namespace, file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	decoder := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var keys []string
	seen := sets.New[string]()
	for {
		cmd := &batonv1.OperatorCommand{}
		if err := decoder.Decode(cmd); errors.Is(err, io.EOF) {
			return keys, nil
		} else if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		cmd.Namespace = namespace
		if err := c.Client.Create(ctx, cmd); err != nil {
			return nil, fmt.Errorf("creating command %s from %s: %w", cmd.Name, file, err)
		}
		if key := cmd.SequenceKey(); cmd.InSequence() && !seen.Has(key) {
			seen.Insert(key)
			keys = append(keys, key)
		}
	}
}

// WaitFinished waits until the sequence with this key has finished and returns it.
func (c *Cluster) WaitFinished(ctx context.Context, namespace, key string) (*batonv1.CommandSequence, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var list batonv1.CommandSequenceList
		if err := c.Client.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return nil, fmt.Errorf("listing sequences: %w", err)
		}
		for i := range list.Items {
			if seq := &list.Items[i]; seq.Spec.Key == key && seq.Status.Phase.Terminal() && seq.Status.Report != nil {
				return seq, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for sequence %s to finish: %w", key, ctx.Err())
		case err := <-c.managerDone:
			c.managerDone = closedWith(err)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("waiting for sequence %s to finish: %w", key, ctx.Err())
			}
			return nil, fmt.Errorf("the manager stopped before sequence %s finished: %v", key, err)
		case <-tick.C:
		}
	}
}
