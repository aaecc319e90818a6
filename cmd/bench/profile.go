package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profiler saves the manager's pprof profiles, when the build serves pprof (a
// --pprof-bind-address flag) and BENCH_PROFILES names a directory.
type profiler struct {
	addr, dir, build string
}

// cpu records a CPU profile for d in the background; wait for the returned channel.
func (p profiler) cpu(ctx context.Context, name string, d time.Duration) <-chan error {
	done := make(chan error, 1)
	if p.addr == "" || p.dir == "" {
		done <- nil
		return done
	}
	go func() {
		done <- p.fetch(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(d.Seconds())), "cpu-"+name, d+30*time.Second)
	}()
	return done
}

// heap saves a heap profile now.
func (p profiler) heap(ctx context.Context, name string) error {
	if p.addr == "" || p.dir == "" {
		return nil
	}
	return p.fetch(ctx, "/debug/pprof/heap", "heap-"+name, 30*time.Second)
}

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
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("%s-%s.pb.gz", p.build, sanitize(name))))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
