package steps

import (
	"errors"
	"fmt"
	"net/http"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Command types of the built-in steps. They are registered for every commandVersion.
const (
	TypeNoop  = "noop"
	TypeSleep = "sleep"
	TypeExpr  = "expr"
	TypeApply = "apply"
	TypeWait  = "wait"
	TypeHTTP  = "http"
)

// BuiltinConfig is what the built-in steps need from the manager.
type BuiltinConfig struct {
	// Client is the Kubernetes client apply writes with, with the manager's identity and
	// RBAC. Required.
	Client client.Client
	// WatchClient is what wait gets and watches objects with. When nil, Client is used if it
	// implements client.WithWatch (a manager's cached client does not: build one with
	// client.NewWithWatch(mgr.GetConfig(), client.Options{Scheme: ..., Mapper: ...})).
	WatchClient client.WithWatch
	// HTTPAllow lists the host patterns the http step may reach (the --http-allow flag):
	// path.Match globs on the URL's hostname, such as "*.example.com" or "127.0.0.1".
	// Empty: the http step refuses every host.
	HTTPAllow []string
	// HTTPTransport sends the http step's requests; nil means a clone of
	// http.DefaultTransport (proxy from the environment, system roots).
	HTTPTransport http.RoundTripper
}

// RegisterBuiltins registers noop, sleep, expr, apply, wait and http in r for every
// command version.
func RegisterBuiltins(r *Registry, cfg BuiltinConfig) error {
	if cfg.Client == nil {
		return errors.New("registering built-in steps: apply and wait need a Kubernetes client")
	}
	watcher := cfg.WatchClient
	if watcher == nil {
		w, ok := cfg.Client.(client.WithWatch)
		if !ok {
			return errors.New("registering built-in steps: wait needs a client that can watch (BuiltinConfig.WatchClient)")
		}
		watcher = w
	}
	httpStep, err := NewHTTP(cfg.HTTPAllow, cfg.HTTPTransport)
	if err != nil {
		return fmt.Errorf("registering built-in steps: %w", err)
	}
	builtins := []struct {
		commandType string
		handler     Handler
	}{
		{TypeNoop, &Noop{}},
		{TypeSleep, &Sleep{}},
		{TypeExpr, &Expr{}},
		{TypeApply, &Apply{Client: cfg.Client}},
		{TypeWait, &Wait{Client: watcher}},
		{TypeHTTP, httpStep},
	}
	for _, b := range builtins {
		if err := r.Register(b.commandType, "", b.handler); err != nil {
			return fmt.Errorf("registering built-in steps: %w", err)
		}
	}
	return nil
}
