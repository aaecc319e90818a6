// Package operatorsim is a simulated Kubescape operator for the demo and the tests: like
// the real one it lists and watches OperatorCommands with the selector
// kubescape.io/app-name=operator, acts only on a command ADDED (or listed at start and not
// completed), and reports through the status subresource — started, completed, executer
// and payload in one merge patch — with nothing else. It knows nothing of baton: the held
// routing labels are what make it wait for a command's turn. It must not import engine/,
// controllers/ or steps/.
package operatorsim

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// AppName is the routing label value the Kubescape operator selects on.
const AppName = "operator"

// Operator acts on the commands routed to it.
type Operator struct {
	// Client lists, watches and patches OperatorCommands.
	Client client.WithWatch
	// Namespace to watch; "" for all.
	Namespace string
	// Work is how long a command takes; zero: none.
	Work time.Duration
	// Seen, when set, is called with every event the watch delivers, before it is acted on.
	Seen func(watch.EventType, *batonv1.OperatorCommand)
	// Done, when set, is called after a command's completion is written.
	Done func(*batonv1.OperatorCommand)
	// Log receives errors writing a status.
	Log logr.Logger
}

// Run acts on commands until ctx ends; it re-lists and re-watches when the watch closes.
func (o *Operator) Run(ctx context.Context) error {
	handled := map[string]bool{}
	for ctx.Err() == nil {
		if err := o.listAndWatch(ctx, handled); err != nil && ctx.Err() == nil {
			o.Log.Error(err, "watching commands; retrying")
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

func (o *Operator) selector() []client.ListOption {
	opts := []client.ListOption{client.MatchingLabels{batonv1.LabelAppName: AppName}}
	if o.Namespace != "" {
		opts = append(opts, client.InNamespace(o.Namespace))
	}
	return opts
}

func (o *Operator) listAndWatch(ctx context.Context, handled map[string]bool) error {
	var list batonv1.OperatorCommandList
	if err := o.Client.List(ctx, &list, o.selector()...); err != nil {
		return fmt.Errorf("listing commands: %w", err)
	}
	// On start the operator treats what it lists as ADDED, skipping completed commands.
	for i := range list.Items {
		if cmd := &list.Items[i]; !cmd.Status.Completed {
			o.act(ctx, watch.Added, cmd, handled)
		}
	}
	w, err := o.Client.Watch(ctx, &batonv1.OperatorCommandList{},
		append(o.selector(), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})...)
	if err != nil {
		return fmt.Errorf("watching commands: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			if cmd, isCmd := ev.Object.(*batonv1.OperatorCommand); isCmd {
				o.act(ctx, ev.Type, cmd, handled)
			}
		}
	}
}

// act runs an ADDED command once; every other event is only reported to Seen.
func (o *Operator) act(ctx context.Context, t watch.EventType, cmd *batonv1.OperatorCommand, handled map[string]bool) {
	if o.Seen != nil {
		o.Seen(t, cmd)
	}
	id := cmd.Namespace + "/" + cmd.Name + "/" + string(cmd.UID)
	if t != watch.Added || handled[id] || cmd.Status.Completed {
		return
	}
	handled[id] = true
	started := metav1.Now()
	if o.Work > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(o.Work):
		}
	}
	payload, _ := json.Marshal(map[string]any{"commandType": cmd.Spec.CommandType, "scanned": true})
	patch, _ := json.Marshal(map[string]any{"status": map[string]any{
		"started": true, "startedAt": started, "completed": true, "completedAt": metav1.Now(),
		"executer": AppName, "payload": payload,
	}})
	if err := o.Client.Status().Patch(ctx, cmd, client.RawPatch(client.Merge.Type(), patch)); err != nil {
		o.Log.Error(err, "reporting completion", "command", cmd.Name)
		return
	}
	if o.Done != nil {
		o.Done(cmd)
	}
}
