package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// seen is what the bench's watch saw of one command, in wall-clock time at receipt:
// status timestamps have one-second precision, the watch has the bench's clock.
type seen struct {
	Seq       string
	Index     int
	Started   time.Time // first seen started (claimed)
	Gated     time.Time // first seen with kubescape.io/gate=open
	Completed time.Time // first seen completed
	Phase     string
}

// observer watches one namespace's OperatorCommands and CommandSequences.
type observer struct {
	mu         sync.Mutex
	commands   map[string]*seen
	completed  int
	seqDone    map[string]bool // terminal sequences
	seqBytes   int             // largest CommandSequence seen, bytes of JSON
	seqLargest string
	errs       []error
}

var sequenceGVK = schema.GroupVersionKind{Group: "kubescape.io", Version: "v1alpha1", Kind: "CommandSequenceList"}

// observe starts watching namespace until ctx ends. The watches are open when it returns.
func observe(ctx context.Context, log logr.Logger, c client.WithWatch, namespace string) (*observer, error) {
	o := &observer{commands: map[string]*seen{}, seqDone: map[string]bool{}}
	newCmds := func() client.ObjectList { return &batonv1.OperatorCommandList{} }
	newSeqs := func() client.ObjectList {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(sequenceGVK)
		return l
	}
	for _, w := range []struct {
		newList func() client.ObjectList
		handle  func(watch.Event)
	}{{newCmds, o.onCommand}, {newSeqs, o.onSequence}} {
		if err := follow(ctx, log, c, w.newList, []client.ListOption{client.InNamespace(namespace)}, w.handle, o.fail); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// follow lists, then watches from the list's resourceVersion in the background until
// ctx ends, re-opening the watch from the last event's resourceVersion when the server
// closes it or sends an error (a broken stream is reported as one). The watch is open when
// it returns.
func follow(ctx context.Context, log logr.Logger, c client.WithWatch, newList func() client.ObjectList, opts []client.ListOption, handle func(watch.Event), fail func(error)) error {
	list := newList()
	if err := c.List(ctx, list, opts...); err != nil {
		return fmt.Errorf("listing %T: %w", list, err)
	}
	rv, err := listRV(list)
	if err != nil {
		return err
	}
	open := func() (watch.Interface, error) {
		return c.Watch(ctx, newList(), append(opts, &client.ListOptions{Raw: watchOpts(rv)})...)
	}
	wi, err := open()
	if err != nil {
		return fmt.Errorf("watching %T: %w", list, err)
	}
	go func() {
		for {
			for ev := range wi.ResultChan() {
				if ev.Type == watch.Error {
					if ctx.Err() == nil { // else the workload is over and the stream ends so
						log.Info("watch error; re-opening", "list", fmt.Sprintf("%T", list), "error", apierrors.FromObject(ev.Object).Error())
					}
					wi.Stop()
					break
				}
				if obj, ok := ev.Object.(client.Object); ok {
					rv = obj.GetResourceVersion()
				}
				handle(ev)
			}
			if ctx.Err() != nil {
				return
			}
			if wi, err = open(); err != nil {
				if ctx.Err() == nil {
					fail(fmt.Errorf("re-opening the watch of %T: %w", list, err))
				}
				return
			}
			log.V(1).Info("watch re-opened", "list", fmt.Sprintf("%T", list), "resourceVersion", rv)
		}
	}()
	return nil
}

func (o *observer) fail(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs = append(o.errs, err)
}

func (o *observer) onCommand(ev watch.Event) {
	now := time.Now()
	cmd, ok := ev.Object.(*batonv1.OperatorCommand)
	if !ok || ev.Type == watch.Deleted {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.commands[cmd.Name]
	if s == nil {
		s = &seen{Seq: cmd.SequenceKey(), Index: -1}
		if cmd.Spec.CommandIndex != nil {
			s.Index = *cmd.Spec.CommandIndex
		}
		o.commands[cmd.Name] = s
	}
	st := cmd.Status
	if s.Started.IsZero() && (st.Started || st.Completed || st.Phase == batonv1.CommandRunning) {
		s.Started = now
	}
	if s.Gated.IsZero() && cmd.Labels[batonv1.LabelGate] == batonv1.GateOpen {
		s.Gated = now
	}
	if s.Completed.IsZero() && st.Completed {
		s.Completed = now
		o.completed++
	}
	s.Phase = string(st.Phase)
}

func (o *observer) onSequence(ev watch.Event) {
	u, ok := ev.Object.(*unstructured.Unstructured)
	if !ok || ev.Type == watch.Deleted {
		return
	}
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	size := 0
	if data, err := json.Marshal(u.Object); err == nil {
		size = len(data)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if phase == string(batonv1.SequenceSucceeded) || phase == string(batonv1.SequenceFailed) {
		o.seqDone[u.GetName()] = true
	}
	if size > o.seqBytes {
		o.seqBytes, o.seqLargest = size, u.GetName()
	}
}

// progress is a consistent copy of the counters.
func (o *observer) progress() (completed, seqDone int, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.errs) > 0 {
		err = o.errs[0]
	}
	return o.completed, len(o.seqDone), err
}

// waitDone waits until commands members have completed and sequences have ended.
// alive reports a reason to stop waiting early (the manager exited).
func (o *observer) waitDone(ctx context.Context, commands, sequences int, timeout time.Duration, alive func() error) error {
	return waitCounts(ctx, timeout, alive, o.progress, [2]int{commands, sequences}, [2]string{"commands to complete", "sequences to end"})
}

// waitCounts waits until progress counts at least want of each of two things (named by
// what), or reports an error, or alive does.
func waitCounts(ctx context.Context, timeout time.Duration, alive func() error, progress func() (int, int, error), want [2]int, what [2]string) error {
	err := poll(ctx, timeout, 50*time.Millisecond, fmt.Sprintf("%d %s and %d %s", want[0], what[0], want[1], what[1]), func() (bool, error) {
		if err := alive(); err != nil {
			return false, err
		}
		a, b, err := progress()
		return a >= want[0] && b >= want[1], err
	})
	if err != nil {
		a, b, _ := progress()
		return fmt.Errorf("%w; %d of %d and %d of %d so far", err, a, want[0], b, want[1])
	}
	return nil
}

// snapshot copies what was seen.
func (o *observer) snapshot() map[string]seen {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]seen, len(o.commands))
	for k, v := range o.commands {
		out[k] = *v
	}
	return out
}

func (o *observer) largestSequence() (int, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seqBytes, o.seqLargest
}

func listRV(list client.ObjectList) (string, error) {
	type rv interface{ GetResourceVersion() string }
	l, ok := list.(rv)
	if !ok {
		return "", fmt.Errorf("list %T has no resourceVersion", list)
	}
	return l.GetResourceVersion(), nil
}

func watchOpts(rv string) *metav1.ListOptions {
	return &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: false}
}
