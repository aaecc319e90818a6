package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// build is one manager under test: a source tree and the binary built from it.
type build struct {
	Name   string // "baseline" or "current"
	Rev    string // what was built: a commit, with -dirty for a changed working tree
	Tree   string // source tree (its config/crd/bases are installed)
	Binary string
	Flags  []string // the flags its --help lists
}

// repoRoot is the top of the git checkout the bench runs in.
func repoRoot(ctx context.Context) (string, error) {
	out, err := git(ctx, "", "rev-parse", "--show-toplevel")
	if err != nil {
		return "", fmt.Errorf("finding the repository (run the bench from a git checkout): %w", err)
	}
	return out, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(exit.Stderr)))
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// addWorktree checks rev out into a temporary detached worktree under dir and returns its
// path and a function that removes it (always call it).
func addWorktree(ctx context.Context, repo, rev, dir string) (string, func() error, error) {
	commit, err := git(ctx, repo, "rev-parse", "--verify", rev+"^{commit}")
	if err != nil {
		return "", func() error { return nil }, fmt.Errorf("BENCH_BASELINE=%s: %w", rev, err)
	}
	path := filepath.Join(dir, "baseline-"+commit[:12])
	if _, err := git(ctx, repo, "worktree", "add", "--detach", path, commit); err != nil {
		return "", func() error { return nil }, err
	}
	remove := func() error {
		// Not ctx: removal must run after Ctrl-C too.
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := git(rctx, repo, "worktree", "remove", "--force", path)
		if _, perr := git(rctx, repo, "worktree", "prune"); err == nil {
			err = perr
		}
		return err
	}
	return path, remove, nil
}

// buildManager builds tree's cmd/manager into dir and reads the flags it accepts.
func buildManager(ctx context.Context, log logr.Logger, name, tree, dir string) (build, error) {
	b := build{Name: name, Tree: tree, Binary: filepath.Join(dir, "manager-"+name)}
	rev, err := git(ctx, tree, "describe", "--always", "--dirty", "--abbrev=7")
	if err != nil {
		return b, err
	}
	b.Rev = rev
	log.Info("building the manager", "build", name, "rev", rev, "tree", tree)
	start := time.Now()
	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(bctx, "go", "build", "-o", b.Binary, "./cmd/manager")
	cmd.Dir = tree
	if out, err := cmd.CombinedOutput(); err != nil {
		return b, fmt.Errorf("building %s's manager in %s: %w\n%s", name, tree, err, out)
	}
	log.Info("built", "build", name, "took", time.Since(start).Round(time.Second))
	b.Flags, err = managerFlags(ctx, b.Binary)
	return b, err
}

// managerFlags lists the flags a manager binary accepts, from its -help output (the flag
// package prints "  -name type" lines to stderr and exits 0).
func managerFlags(ctx context.Context, binary string) ([]string, error) {
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(hctx, binary, "-help").CombinedOutput()
	var flags []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(line, "  -") {
			flags = append(flags, strings.TrimLeft(f[0], "-"))
		}
	}
	if len(flags) == 0 {
		return nil, fmt.Errorf("%s -help listed no flags:\n%s", binary, out)
	}
	return flags, nil
}

func (b build) hasFlag(name string) bool {
	for _, f := range b.Flags {
		if f == name {
			return true
		}
	}
	return false
}

// tempDir makes the bench's scratch directory.
func tempDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", "baton-bench-")
	if err != nil {
		return "", func() {}, err
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}
