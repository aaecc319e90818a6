package sequence

import (
	"context"
	"encoding/json"
	"fmt"

	upstream "github.com/kubescape/backend/pkg/command/types/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Create creates the commands in order, as JSON, the way a client built on the upstream
// type sends them. It stops at the first error; commands already created stay (their
// sequence fails Incomplete at its assembly deadline unless the rest follow).
func Create(ctx context.Context, c client.Client, cmds []upstream.OperatorCommand) error {
	for i := range cmds {
		u, err := ToUnstructured(&cmds[i])
		if err != nil {
			return err
		}
		if err := c.Create(ctx, u); err != nil {
			return fmt.Errorf("creating command %s/%s: %w", cmds[i].Namespace, cmds[i].Name, err)
		}
	}
	return nil
}

// ToUnstructured converts a command through its JSON, as the upstream type marshals it.
func ToUnstructured(cmd *upstream.OperatorCommand) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encoding command %s: %w", cmd.Name, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decoding command %s: %w", cmd.Name, err)
	}
	return u, nil
}

// Get returns the CommandSequence named name, or else the one whose spec.key is name.
func Get(ctx context.Context, c client.Reader, namespace, name string) (*batonv1.CommandSequence, error) {
	seq := &batonv1.CommandSequence{}
	err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, seq)
	if err == nil || !apierrors.IsNotFound(err) {
		return seq, err
	}
	if byKey := Name(name); byKey != name {
		if err2 := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: byKey}, seq); err2 == nil {
			return seq, nil
		}
	}
	return nil, err
}

// WaitOptions tune Wait.
type WaitOptions struct {
	// Progress, when set, is called with every version of the sequence Wait observes. It
	// may not see every phase: a sequence's progress and its change to Running are written
	// at most once a second, so one that ends within its first second can go from
	// Assembling (or no status) straight to its final phase.
	Progress func(*batonv1.CommandSequence)
}

// Wait waits through the watch API until the sequence with this key (or CommandSequence
// name) has finished and its report is written, and returns it. The sequence may not exist
// yet: baton creates it when it sees the first member.
func Wait(ctx context.Context, c client.WithWatch, namespace, key string, opts WaitOptions) (*batonv1.CommandSequence, error) {
	var done *batonv1.CommandSequence
	_, err := Until(ctx, c, namespace, fields.OneTermEqualSelector("metadata.name", Name(key)), func(seq *batonv1.CommandSequence, deleted bool) (bool, error) {
		if deleted {
			return false, fmt.Errorf("sequence %s/%s was deleted", namespace, seq.Name)
		}
		if opts.Progress != nil {
			opts.Progress(seq)
		}
		if seq.Status.Phase.Terminal() && seq.Status.Report != nil {
			done = seq
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for sequence %s/%s: %w", namespace, key, err)
	}
	return done, nil
}

// Until lists and watches the CommandSequences in namespace ("" for all) matching sel
// (nil: all), calling cond with each one listed and each change, until cond returns true
// or an error, or ctx ends. It returns the last event's object.
func Until(ctx context.Context, c client.WithWatch, namespace string, sel fields.Selector,
	cond func(seq *batonv1.CommandSequence, deleted bool) (bool, error)) (*batonv1.CommandSequence, error) {
	opts := func(raw metav1.ListOptions) []client.ListOption {
		o := []client.ListOption{&client.ListOptions{Raw: &raw}}
		if namespace != "" {
			o = append(o, client.InNamespace(namespace))
		}
		if sel != nil {
			o = append(o, client.MatchingFieldsSelector{Selector: sel})
		}
		return o
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, raw metav1.ListOptions) (runtime.Object, error) {
			list := &batonv1.CommandSequenceList{}
			return list, c.List(ctx, list, opts(raw)...)
		},
		WatchFuncWithContext: func(ctx context.Context, raw metav1.ListOptions) (watch.Interface, error) {
			return c.Watch(ctx, &batonv1.CommandSequenceList{}, opts(raw)...)
		},
	}
	ev, err := watchtools.UntilWithSync(ctx, lw, &batonv1.CommandSequence{}, nil, func(ev watch.Event) (bool, error) {
		seq, ok := ev.Object.(*batonv1.CommandSequence)
		if !ok {
			return false, nil
		}
		return cond(seq, ev.Type == watch.Deleted)
	})
	if err != nil {
		return nil, err
	}
	seq, _ := ev.Object.(*batonv1.CommandSequence)
	return seq, nil
}
