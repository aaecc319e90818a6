// Command baton-local is baton's main job on one machine: it starts a local control plane
// (kube-apiserver and etcd built from Go modules), runs the full baton manager against it
// beside a simulated Kubescape operator, applies example sequences, follows each one live
// and prints its report. With -keep it then keeps the control plane up, printing the
// kubeconfig and kubectl baton commands to try, until Ctrl-C.
//
//	make demo
//	make demo KEEP=1
//	go run ./cmd/baton-local -f examples/linear.yaml -f examples/failure.yaml
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/steps"
)

func main() {
	var files []string
	flag.Func("f", "Sequence YAML to apply (repeatable). Default: the four example sequences.", func(v string) error {
		files = append(files, v)
		return nil
	})
	timeout := flag.Duration("timeout", 2*time.Minute, "How long to wait for every sequence to finish.")
	keep := flag.Bool("keep", false, "Keep the control plane and the manager up after the reports, until Ctrl-C.")
	// Quiet by default: the progress and the reports are the output; --zap-log-level=info
	// shows the manager.
	zapOpts := zap.Options{Level: zapcore.ErrorLevel}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	if len(files) == 0 {
		files = []string{"examples/linear.yaml", "examples/parallel-when.yaml", "examples/external.yaml", "examples/failure.yaml"}
	}

	if err := run(ctrl.SetupSignalHandler(), os.Stdout, files, *timeout, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "baton-local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, files []string, timeout time.Duration, keep bool) (err error) {
	fmt.Fprintln(out, "starting a local control plane (kube-apiserver, etcd), the baton manager and a simulated Kubescape operator")
	cluster, err := localcluster.Start(ctx, steps.NewRegistry())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cluster.Stop()) }()
	d, err := newDemo(ctx, cluster, out)
	if err != nil {
		return err
	}
	defer d.stop()

	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, file := range files {
		if err := d.runFile(waitCtx, file); err != nil {
			return err
		}
	}
	if keep {
		return d.keep(ctx)
	}
	return nil
}
