package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
)

// profiler saves pprof profiles when BENCH_PROFILES names a directory: the manager's, when
// the build serves pprof (a --pprof-bind-address flag), and the API server's, beside them.
type profiler struct {
	addr, dir, build string
	api              rest.Interface // the API server's client: kube-apiserver serves pprof to its admin
}

// cpu records CPU profiles of the manager and the API server for d in the background;
// wait for the returned channel.
func (p profiler) cpu(ctx context.Context, name string, d time.Duration) <-chan error {
	done := make(chan error, 1)
	if p.dir == "" {
		done <- nil
		return done
	}
	seconds := strconv.Itoa(int(d.Seconds()))
	timeout := d + 30*time.Second
	go func() {
		api := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			body, err := p.api.Get().AbsPath("/debug/pprof/profile").Param("seconds", seconds).DoRaw(ctx)
			if err == nil {
				err = p.save("apiserver-cpu-"+name, body)
			}
			api <- err
		}()
		var err error
		if p.addr != "" {
			err = p.fetch(ctx, "/debug/pprof/profile?seconds="+seconds, "cpu-"+name, timeout)
		}
		done <- errors.Join(err, <-api)
	}()
	return done
}

// heap saves a heap profile of the manager now.
func (p profiler) heap(ctx context.Context, name string) error {
	if p.addr == "" || p.dir == "" {
		return nil
	}
	return p.fetch(ctx, "/debug/pprof/heap", "heap-"+name, 30*time.Second)
}

// fetch saves a profile the manager serves at path.
func (p profiler) fetch(ctx context.Context, path, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %s: %s", path, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", path, err)
	}
	return p.save(name, body)
}

func (p profiler) save(name string, profile []byte) error {
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(p.dir, fmt.Sprintf("%s-%s.pb.gz", p.build, sanitize(name))), profile, 0o644)
}
