package steps

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldManager is the server-side apply field manager of everything baton applies.
const FieldManager = "baton"

// Apply is the apply step: server-side apply of one or more objects with field manager
// "baton". Conflicts with other field managers are resolved by force (ForceOwnership), as
// a controller does: the step declares the fields it sets, and baton takes them over.
//
// It runs with the manager's RBAC, not the rights of whoever created the command: anyone
// who may create an OperatorCommand may apply, in any namespace, whatever the manager's
// role allows (it needs get and patch on each kind it applies). Scope that role
// accordingly.
//
// Args:
//   - objects: a list of Kubernetes objects (apiVersion, kind, metadata.name required).
//     Without objects, the command's spec.body is read as YAML or JSON, one or many
//     documents (--- separated). Giving both is an error. A kind: List is expanded.
//
// A namespaced object without metadata.namespace is applied in the command's namespace.
// Objects are applied in order; on an error the ones before it stay applied (running the
// step again is safe: server-side apply is idempotent).
//
// Payload: {"objects": [{"apiVersion", "kind", "namespace", "name", "operation", "changed"}]}
// in order, operation being "created", "configured" (resourceVersion changed) or
// "unchanged" (the apply changed nothing).
//
// Errors: bad args or objects, and API refusals (invalid, forbidden, ...) are permanent;
// API timeouts, throttling, unavailability, an unknown kind (a CRD applied moments ago)
// and connection failures are retryable.
type Apply struct {
	Client client.Client
}

var (
	_ Handler      = (*Apply)(nil)
	_ Idempotent   = (*Apply)(nil)
	_ StepsIgnorer = (*Apply)(nil)
)

// ApplyResult is the apply step's payload.
type ApplyResult struct {
	Objects []AppliedObject `json:"objects"`
}

// AppliedObject says what applying one object did.
type AppliedObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// Operation is "created", "configured" or "unchanged", as kubectl says it.
	Operation string `json:"operation"`
	Changed   bool   `json:"changed"`
}

// Apply operations.
const (
	OperationCreated    = "created"
	OperationConfigured = "configured"
	OperationUnchanged  = "unchanged"
)

type applyArgs struct {
	Objects []json.RawMessage `json:"objects"`
}

// Run applies the objects in order.
func (a *Apply) Run(ctx context.Context, req Request) (any, error) {
	var args applyArgs
	if err := req.DecodeArgs(&args); err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	var body []byte
	if req.Command != nil {
		body = req.Command.Spec.Body
	}
	objs, err := objectsFromArgsOrBody(args.Objects, body)
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	result := ApplyResult{Objects: make([]AppliedObject, 0, len(objs))}
	for _, obj := range objs {
		applied, err := a.applyOne(ctx, req, obj)
		if err != nil {
			return nil, fmt.Errorf("apply: %w", err)
		}
		req.Logger.Info("applied", "object", describeObject(obj), "operation", applied.Operation)
		result.Objects = append(result.Objects, applied)
	}
	return result, nil
}

func (a *Apply) applyOne(ctx context.Context, req Request, obj *unstructured.Unstructured) (AppliedObject, error) {
	namespaced, err := a.Client.IsObjectNamespaced(obj)
	if err != nil {
		return AppliedObject{}, classifyAPIError(ctx, "finding the scope of "+obj.GetAPIVersion()+" "+obj.GetKind(), err)
	}
	if namespaced && obj.GetNamespace() == "" {
		obj.SetNamespace(req.Namespace())
	}
	what := describeObject(obj)
	before := &unstructured.Unstructured{}
	before.SetGroupVersionKind(obj.GroupVersionKind())
	err = a.Client.Get(ctx, client.ObjectKeyFromObject(obj), before)
	if err != nil && !apierrors.IsNotFound(err) {
		return AppliedObject{}, classifyAPIError(ctx, "reading "+what+" before applying it", err)
	}
	beforeVersion := before.GetResourceVersion()
	out := AppliedObject{
		APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(),
		Namespace: obj.GetNamespace(), Name: obj.GetName(),
	}
	err = a.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj),
		client.FieldOwner(FieldManager), client.ForceOwnership)
	if err != nil {
		return AppliedObject{}, classifyAPIError(ctx, "applying "+what, err)
	}
	switch after := obj.GetResourceVersion(); {
	case beforeVersion == "":
		out.Operation, out.Changed = OperationCreated, true
	case after != beforeVersion:
		out.Operation, out.Changed = OperationConfigured, true
	default:
		out.Operation = OperationUnchanged
	}
	return out, nil
}

// Idempotent is true: applying the same objects again converges to the same state.
func (*Apply) Idempotent() bool { return true }

// IgnoresSteps is true: apply reads only its own args.
func (*Apply) IgnoresSteps() bool { return true }
