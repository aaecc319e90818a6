package controllers

import (
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

var stripManagedFields = cache.TransformStripManagedFields()

// CacheTransform is the manager's cache transform (cache.Options.DefaultTransform). It
// drops managedFields from every object (a third of a small one; baton never reads them),
// and from an OperatorCommand what baton reads only to run its handler: spec.args,
// spec.body and spec.designators. They are most of a command's memory in the cache, and
// most commands never need them there: external ones, finished ones, and in-process ones
// until they run, when the runner reads the command from the API server. A command whose
// kubescape.io/when condition reads its args at the gate keeps them until it completes.
func CacheTransform(obj any) (any, error) {
	obj, err := stripManagedFields(obj)
	if err != nil {
		return obj, err
	}
	if cmd, ok := obj.(*batonv1.OperatorCommand); ok {
		trimCommand(cmd)
	}
	return obj, nil
}

var _ toolscache.TransformFunc = CacheTransform

func trimCommand(cmd *batonv1.OperatorCommand) {
	if _, when := cmd.Annotations[batonv1.AnnotationWhen]; when && !cmd.Status.Completed {
		return
	}
	if cmd.Spec.Args == nil && cmd.Spec.Body == nil && cmd.Spec.Designators == nil {
		return
	}
	cmd.Spec.Args, cmd.Spec.Body, cmd.Spec.Designators = nil, nil, nil
	cmd.Spec.Trimmed = true
}
