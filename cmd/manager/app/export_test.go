package app

import (
	"context"

	"github.com/go-logr/logr"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// RecheckOnceElected runs the scope check a manager makes once elected, for the lease
// namespace/name of a manager watching names.
func RecheckOnceElected(ctx context.Context, cfg *rest.Config, namespace, name string, names []string) error {
	s, err := newScopeLease(cfg, namespace, name, names, "", logr.Discard())
	if err != nil {
		return err
	}
	return recheck{s}.Start(ctx)
}

// ServedSchemaProblems says what the served schemas of baton's kinds lack, as the check
// at start reads them.
func ServedSchemaProblems(cfg *rest.Config) ([]string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	schemas, err := servedSchemas(dc)
	if err != nil {
		return nil, err
	}
	return schemaProblems(schemas), nil
}
