package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// waitObservation is what a wait step last saw, for the error it returns if time runs out.
type waitObservation struct {
	seen            bool
	resourceVersion string
	evalErr         error
	apiErr          error
}

func (o waitObservation) String() string {
	s := "the object was never seen"
	if o.seen {
		s = "last seen at resourceVersion " + o.resourceVersion
	}
	if o.evalErr != nil {
		s += fmt.Sprintf("; last evaluation error: %v", o.evalErr)
	}
	if o.apiErr != nil {
		s += fmt.Sprintf("; last API error: %v", o.apiErr)
	}
	return s
}

// observe records obj and reports whether it matches.
func (o *waitObservation) observe(req Request, t waitTarget, obj *unstructured.Unstructured) bool {
	o.seen, o.resourceVersion = true, obj.GetResourceVersion()
	ok, err := t.match.match(obj.Object)
	if err != nil {
		o.evalErr = err
		req.Logger.V(1).Info("condition not evaluable yet", "object", t.String(), "error", err.Error())
	}
	return ok && err == nil
}

// waitFor lists then watches the object until it matches or ctx ends, starting over
// whenever the watch closes.
func (w *Wait) waitFor(ctx context.Context, req Request, t waitTarget) (*unstructured.Unstructured, error) {
	var seen waitObservation
	var backoff waitBackoff
	for {
		obj, err := w.round(ctx, req, t, &seen)
		if obj != nil {
			return obj, nil
		}
		if ctx.Err() != nil {
			return nil, waitTimedOut(ctx, t, seen)
		}
		switch {
		case err == nil:
			backoff.reset()
			continue // the server closed a healthy watch: start over at once
		case errors.Is(err, errWatchClosedEarly):
		default:
			if err = classifyAPIError(ctx, "watching "+t.String(), err); !IsRetryable(err) {
				return nil, err
			}
			seen.apiErr = err
			req.Logger.V(1).Info("watch failed, starting over", "object", t.String(), "error", err.Error())
		}
		if backoff.sleep(ctx) != nil {
			return nil, waitTimedOut(ctx, t, seen)
		}
	}
}

func waitTimedOut(ctx context.Context, t waitTarget, seen waitObservation) error {
	return fmt.Errorf("%s did not match %s before the command's context ended (%s): %w",
		t, t.match, seen, ctx.Err())
}

var errWatchClosedEarly = errors.New("watch closed at once")

// round lists the object, checks it, and watches from the list's resourceVersion until the
// object matches (returned), the watch closes (nil, nil) or fails (nil, err).
func (w *Wait) round(ctx context.Context, req Request, t waitTarget, seen *waitObservation) (*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(t.gvk.GroupVersion().WithKind(t.gvk.Kind + "List"))
	selector := fields.OneTermEqualSelector("metadata.name", t.key.Name)
	if err := w.Client.List(ctx, list, client.InNamespace(t.key.Namespace),
		client.MatchingFieldsSelector{Selector: selector}); err != nil {
		return nil, err
	}
	for i := range list.Items {
		if seen.observe(req, t, &list.Items[i]) {
			return &list.Items[i], nil
		}
	}
	watchList := &unstructured.UnstructuredList{}
	watchList.SetGroupVersionKind(list.GroupVersionKind())
	opened := time.Now()
	watcher, err := w.Client.Watch(ctx, watchList, &client.ListOptions{
		Namespace:     t.key.Namespace,
		FieldSelector: selector,
		Raw:           &metav1.ListOptions{ResourceVersion: list.GetResourceVersion(), AllowWatchBookmarks: true},
	})
	if err != nil {
		return nil, err
	}
	defer watcher.Stop()
	obj, err := consumeWatch(ctx, req, t, watcher, seen)
	if obj == nil && err == nil && time.Since(opened) < waitHealthyWatch {
		return nil, errWatchClosedEarly
	}
	return obj, err
}

// consumeWatch reads events until a match, the watch closing, an error event or ctx ending.
func consumeWatch(ctx context.Context, req Request, t waitTarget, watcher watch.Interface, seen *waitObservation) (*unstructured.Unstructured, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, nil
		case ev, open := <-watcher.ResultChan():
			if !open {
				return nil, nil
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				if obj, ok := ev.Object.(*unstructured.Unstructured); ok && seen.observe(req, t, obj) {
					return obj, nil
				}
			case watch.Deleted:
				seen.seen, seen.resourceVersion = false, ""
			case watch.Error:
				// Typically 410 Gone: the resourceVersion is too old. List again.
				return nil, Retryable(fmt.Errorf("watch error event: %w", apierrors.FromObject(ev.Object)))
			}
		}
	}
}
