// Command baton-local is baton's main job on one machine: it starts a local control plane
// (kube-apiserver and etcd built from Go modules), runs the full baton manager against it,
// applies example sequences, waits for each to finish, and prints their reports.
//
//	make demo
//	go run ./cmd/baton-local -f examples/linear.yaml -f examples/failure.yaml
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/batonhq/baton/cmd/internal/report"
	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/steps"
)

func main() {
	var files []string
	flag.Func("f", "Sequence YAML to apply (repeatable). Default: the three example sequences.", func(v string) error {
		files = append(files, v)
		return nil
	})
	timeout := flag.Duration("timeout", 2*time.Minute, "How long to wait for every sequence to finish.")
	// Quiet by default: the reports are the output; --zap-log-level=info shows the manager.
	zapOpts := zap.Options{Level: zapcore.ErrorLevel}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	if len(files) == 0 {
		files = []string{"examples/linear.yaml", "examples/parallel-when.yaml", "examples/failure.yaml"}
	}

	ctx, cancel := context.WithTimeout(ctrl.SetupSignalHandler(), *timeout)
	defer cancel()
	if err := run(ctx, files); err != nil {
		fmt.Fprintln(os.Stderr, "baton-local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, files []string) (err error) {
	fmt.Println("starting a local control plane (kube-apiserver, etcd) and the baton manager")
	cluster, err := localcluster.Start(ctx, steps.NewRegistry())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cluster.Stop()) }()

	for _, file := range files {
		fmt.Printf("\napplying %s\n", file)
		keys, err := cluster.Apply(ctx, "default", file)
		if err != nil {
			return err
		}
		for _, key := range keys {
			seq, err := cluster.WaitFinished(ctx, "default", key)
			if err != nil {
				return err
			}
			if err := report.Print(os.Stdout, seq); err != nil {
				return err
			}
		}
	}
	return nil
}
