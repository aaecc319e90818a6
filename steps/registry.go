package steps

import (
	"fmt"
	"slices"
	"sync"
)

// Registry maps a commandType, and optionally a commandVersion, to a [Handler]. Register
// everything before the manager starts; Lookup is safe for concurrent use at any time.
type Registry struct {
	mu       sync.RWMutex
	handlers map[registryKey]Handler
}

type registryKey struct {
	commandType, commandVersion string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{handlers: map[registryKey]Handler{}}
}

// Register adds h for commandType at commandVersion; version "" serves every version that
// has no handler of its own. Registering the same type and version twice is an error.
func (r *Registry) Register(commandType, commandVersion string, h Handler) error {
	if commandType == "" {
		return fmt.Errorf("registering a handler: command type is empty")
	}
	if h == nil {
		return fmt.Errorf("registering a handler for %s: handler is nil", describeKey(commandType, commandVersion))
	}
	key := registryKey{commandType, commandVersion}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.handlers[key]; dup {
		return fmt.Errorf("registering a handler for %s: already registered", describeKey(commandType, commandVersion))
	}
	r.handlers[key] = h
	return nil
}

// MustRegister is Register that panics on error, for a main that registers at start.
func (r *Registry) MustRegister(commandType, commandVersion string, h Handler) {
	if err := r.Register(commandType, commandVersion, h); err != nil {
		panic(err)
	}
}

// Lookup returns the handler for commandType at commandVersion: the one registered for that
// exact version, else the one registered for any version (""). false means there is no
// in-process handler: the command is left to an external executor.
func (r *Registry) Lookup(commandType, commandVersion string) (Handler, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if h, ok := r.handlers[registryKey{commandType, commandVersion}]; ok {
		return h, true
	}
	h, ok := r.handlers[registryKey{commandType, ""}]
	return h, ok
}

// Versions lists, sorted, the commandVersions with a handler of their own for
// commandType ("" for the one serving any version); none when the type has no handler.
func (r *Registry) Versions(commandType string) []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	var versions []string
	for key := range r.handlers {
		if key.commandType == commandType {
			versions = append(versions, key.commandVersion)
		}
	}
	slices.Sort(versions)
	return versions
}

func describeKey(commandType, commandVersion string) string {
	if commandVersion == "" {
		return fmt.Sprintf("command type %q (any version)", commandType)
	}
	return fmt.Sprintf("command type %q version %q", commandType, commandVersion)
}
