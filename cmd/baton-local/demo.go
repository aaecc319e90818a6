package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/internal/report"
	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/internal/operatorsim"
	"github.com/batonhq/baton/sequence"
)

// namespace is where the demo applies the examples.
const namespace = "default"

// demo is the running local cluster with its simulated operator.
type demo struct {
	cluster *localcluster.Cluster
	client  client.WithWatch
	out     io.Writer
	mu      sync.Mutex // guards out between the operator and the progress lines

	stopOperator context.CancelFunc
	operatorDone chan struct{}
}

// newDemo starts the simulated operator; stop it with stop.
func newDemo(ctx context.Context, cluster *localcluster.Cluster, out io.Writer) (*demo, error) {
	c, err := client.NewWithWatch(cluster.Config, client.Options{Scheme: localcluster.Scheme()})
	if err != nil {
		return nil, err
	}
	d := &demo{cluster: cluster, client: c, out: out, operatorDone: make(chan struct{})}
	opCtx, cancel := context.WithCancel(ctx)
	d.stopOperator = cancel
	op := &operatorsim.Operator{
		Client:    c,
		Namespace: namespace,
		// The examples' external step is a StartCVEScan: the operator's vulnerability
		// component runs it. No cooldown: the real operator's 5 s would only slow the demo.
		Vulnerability: true,
		Log:           ctrl.Log.WithName("operator-sim"),
		Done: func(cmd *batonv1.OperatorCommand) {
			d.printf("  operator (simulated): saw %s ADDED when its gate opened, ran %s, reported completion\n",
				cmd.Name, cmd.Spec.CommandType)
		},
	}
	go func() {
		defer close(d.operatorDone)
		_ = op.Run(opCtx)
	}()
	return d, nil
}

func (d *demo) stop() {
	d.stopOperator()
	<-d.operatorDone
}

func (d *demo) printf(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.out, format, args...)
}

// runFile applies a file, follows each of its sequences live, and prints their reports.
func (d *demo) runFile(ctx context.Context, file string) error {
	d.printf("\napplying %s\n", file)
	keys, err := d.cluster.Apply(ctx, namespace, file)
	if err != nil {
		return err
	}
	for _, key := range keys {
		last := ""
		seq, err := sequence.Wait(ctx, d.client, namespace, key, sequence.WaitOptions{Progress: func(s *batonv1.CommandSequence) {
			if line := report.ProgressLine(s); line != last {
				last = line
				d.printf("  %s\n", line)
			}
		}})
		if err != nil {
			return err
		}
		d.mu.Lock()
		err = report.Print(d.out, seq)
		d.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// keep prints how to reach the control plane and waits for Ctrl-C.
func (d *demo) keep(ctx context.Context) (err error) {
	dir, err := os.MkdirTemp("", "baton-demo-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	kubeconfig, err := localcluster.WriteKubeconfig(d.cluster.Env, dir)
	if err != nil {
		return err
	}
	kubectl := localcluster.Kubectl(d.cluster.Env)
	d.printf(`
The control plane and the baton manager stay up until Ctrl-C. In another shell:

  export KUBECONFIG=%s
  go build -o bin/kubectl-baton ./cmd/kubectl-baton
  bin/kubectl-baton get
  bin/kubectl-baton describe external
  bin/kubectl-baton report parallel -o json
  bin/kubectl-baton retry failing
  bin/kubectl-baton submit -f examples/submit/scan-and-report.yaml --executor operator --wait
  %s get opcmd,cmdseq

(with bin/ on your PATH as kubectl-baton, "kubectl baton ..." works too)
`, kubeconfig, filepath.Clean(kubectl))
	<-ctx.Done()
	d.printf("\nstopping\n")
	return nil
}
