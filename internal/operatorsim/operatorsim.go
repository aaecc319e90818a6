// Package operatorsim is a simulated Kubescape operator (v0.2.142) for the demo and the
// tests. It behaves the way the real one handles OperatorCommands:
//
//   - it lists, then watches, the commands of its own namespace only, with the selector
//     kubescape.io/app-name=operator; what it lists counts as ADDED, so on a restart it runs
//     again every labelled command that is not completed;
//   - every event goes through a per-object cooldown (the real one: 5 s) that keeps only the
//     object's LAST event and restarts on each new one; when it ends, the operator acts only
//     if that event is ADDED, so an object modified during its cooldown is dropped;
//   - it skips completed commands and commands created more than 30 minutes before it sees
//     them;
//   - it handles commandType OperatorAPI only, reading its request ({"commandName": ...})
//     from spec.body, unless the vulnerability component is on, which runs the other types
//     as scans; an unknown commandName is logged and reported as success;
//   - it reports with one merge patch on the status subresource: started and completed
//     true, startedAt equal to completedAt, executer "operator", and error.message on
//     failure (payload on success).
//
// It knows nothing of baton: the held routing labels are what make it wait for a
// command's turn. It must not import engine/, controllers/ or steps/.
package operatorsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

const (
	// AppName is the routing label value the Kubescape operator selects on, and the
	// executer it reports.
	AppName = "operator"
	// OperatorAPI is the one command type the operator handles without its vulnerability
	// component.
	OperatorAPI = "OperatorAPI"
	// RealCooldown is the real operator's per-object cooldown.
	RealCooldown = 5 * time.Second
	// DefaultMaxAge is the real operator's age cutoff: it skips older commands.
	DefaultMaxAge = 30 * time.Minute
)

// Skip is why the operator did not run a command after its cooldown.
type Skip string

const (
	// Dropped: the command's last event in its cooldown was not ADDED.
	Dropped Skip = "Dropped"
	// Completed: the command is already completed.
	Completed Skip = "Completed"
	// TooOld: the command was created longer than MaxAge before the operator saw it.
	TooOld Skip = "TooOld"
	// NotHandled: a type other than OperatorAPI, with the vulnerability component off.
	NotHandled Skip = "NotHandled"
)

// Command runs one OperatorAPI commandName: it returns the payload, or the error whose
// message the operator reports.
type Command func(ctx context.Context, cmd *batonv1.OperatorCommand, body Body) ([]byte, error)

// Body is an OperatorAPI command's request, read from spec.body.
type Body struct {
	// CommandName selects the Command.
	CommandName string `json:"commandName"`
	// Args are the command's arguments.
	Args map[string]any `json:"args,omitempty"`
}

// Operator acts on the commands routed to it.
type Operator struct {
	// Client lists, watches and patches OperatorCommands.
	Client client.WithWatch
	// Namespace is the operator's own namespace, the only one it watches. Required.
	Namespace string
	// Cooldown is the per-object cooldown; zero acts at once (the demo), RealCooldown is
	// the real operator's.
	Cooldown time.Duration
	// MaxAge skips commands created longer ago than this when the operator sees them;
	// zero: DefaultMaxAge.
	MaxAge time.Duration
	// Vulnerability turns the vulnerability component on: command types other than
	// OperatorAPI (StartCVEScan, ...) are run as scans, reporting
	// {"commandType": ..., "scanned": true}. Off, they are ignored, as by the real operator.
	Vulnerability bool
	// Commands are the OperatorAPI commandNames it knows; any other name is logged and
	// reported as success.
	Commands map[string]Command
	// Work is how long a command takes; zero: none.
	Work time.Duration
	// Seen, when set, is called with every event the list and the watch deliver, before
	// its cooldown.
	Seen func(watch.EventType, *batonv1.OperatorCommand)
	// Done, when set, is called after a command's completion is written.
	Done func(*batonv1.OperatorCommand)
	// Skipped, when set, is called with each command the operator does not run after its
	// cooldown, and why: Dropped, Completed, TooOld or NotHandled.
	Skipped func(cmd *batonv1.OperatorCommand, why Skip)
	// Log receives what the operator skips, drops and fails to write.
	Log logr.Logger
}

// Run acts on commands until ctx ends, then waits for the commands it is running. It
// re-watches from the last version it saw when the watch closes, and lists again only
// when it cannot.
func (o *Operator) Run(ctx context.Context) error {
	if o.Namespace == "" {
		return errors.New("operatorsim: the operator watches its own namespace only: set Namespace")
	}
	q := &cooldown{op: o, ctx: ctx, pending: map[types.NamespacedName]*pendingEvent{}, handled: map[types.UID]bool{}}
	defer q.wait()
	rv := ""
	for ctx.Err() == nil {
		var err error
		if rv == "" {
			rv, err = o.list(ctx, q)
		}
		if err == nil {
			rv, err = o.watch(ctx, q, rv)
		}
		if err == nil || ctx.Err() != nil {
			continue
		}
		if apierrors.IsGone(err) || apierrors.IsResourceExpired(err) {
			rv = ""
		}
		o.Log.Error(err, "watching commands; retrying")
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (o *Operator) selector() []client.ListOption {
	return []client.ListOption{client.MatchingLabels{batonv1.LabelAppName: AppName}, client.InNamespace(o.Namespace)}
}

// list enqueues every listed command as ADDED and returns the list's resourceVersion.
func (o *Operator) list(ctx context.Context, q *cooldown) (string, error) {
	var list batonv1.OperatorCommandList
	if err := o.Client.List(ctx, &list, o.selector()...); err != nil {
		return "", fmt.Errorf("listing commands: %w", err)
	}
	for i := range list.Items {
		q.enqueue(watch.Added, &list.Items[i])
	}
	return list.ResourceVersion, nil
}

// watch enqueues the watch's events from rv until it closes, and returns the last
// resourceVersion seen.
func (o *Operator) watch(ctx context.Context, q *cooldown, rv string) (string, error) {
	w, err := o.Client.Watch(ctx, &batonv1.OperatorCommandList{},
		append(o.selector(), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})...)
	if err != nil {
		return rv, fmt.Errorf("watching commands: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return rv, nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return rv, nil
			}
			if ev.Type == watch.Error {
				return rv, fmt.Errorf("watching commands: %w", apierrors.FromObject(ev.Object))
			}
			if cmd, isCmd := ev.Object.(*batonv1.OperatorCommand); isCmd {
				rv = cmd.ResourceVersion
				if ev.Type != watch.Bookmark {
					q.enqueue(ev.Type, cmd)
				}
			}
		}
	}
}

// act runs a command whose last event, after its cooldown, was ADDED.
func (o *Operator) act(ctx context.Context, cmd *batonv1.OperatorCommand) {
	log := o.Log.WithValues("command", cmd.Name, "commandType", cmd.Spec.CommandType)
	maxAge := o.MaxAge
	if maxAge == 0 {
		maxAge = DefaultMaxAge
	}
	switch {
	case cmd.Status.Completed:
		o.skip(cmd, Completed, "skipping a completed command")
		return
	case time.Since(cmd.CreationTimestamp.Time) > maxAge:
		o.skip(cmd, TooOld, "skipping a command created too long ago", "created", cmd.CreationTimestamp, "maxAge", maxAge)
		return
	case cmd.Spec.CommandType != OperatorAPI && !o.Vulnerability:
		o.skip(cmd, NotHandled, "ignoring a command type the operator does not handle (its vulnerability component is off)")
		return
	}
	if o.Work > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(o.Work):
		}
	}
	payload, runErr := o.run(ctx, cmd, log)
	now := metav1.Now()
	status := map[string]any{"started": true, "startedAt": now, "completed": true, "completedAt": now, "executer": AppName}
	if runErr != nil {
		status["error"] = map[string]any{"message": runErr.Error()}
	} else if payload != nil {
		status["payload"] = payload
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		log.Error(err, "encoding the status")
		return
	}
	if err := o.Client.Status().Patch(ctx, cmd, client.RawPatch(types.MergePatchType, patch)); err != nil {
		log.Error(err, "reporting completion")
		return
	}
	if o.Done != nil {
		o.Done(cmd)
	}
}

func (o *Operator) skip(cmd *batonv1.OperatorCommand, why Skip, msg string, kv ...any) {
	o.Log.Info(msg, append([]any{"command", cmd.Name, "commandType", cmd.Spec.CommandType}, kv...)...)
	if o.Skipped != nil {
		o.Skipped(cmd, why)
	}
}

// run runs the command: an OperatorAPI request from its body, else a scan.
func (o *Operator) run(ctx context.Context, cmd *batonv1.OperatorCommand, log logr.Logger) ([]byte, error) {
	if cmd.Spec.CommandType != OperatorAPI {
		return json.Marshal(map[string]any{"commandType": cmd.Spec.CommandType, "scanned": true})
	}
	var body Body
	if err := json.Unmarshal(cmd.Spec.Body, &body); err != nil {
		return nil, fmt.Errorf("decoding the OperatorAPI request in spec.body: %w", err)
	}
	run, known := o.Commands[body.CommandName]
	if !known {
		log.Info("unknown OperatorAPI command; reporting success", "commandName", body.CommandName)
		return nil, nil
	}
	return run(ctx, cmd, body)
}

// cooldown holds each object's last event until the object has been quiet for the
// operator's cooldown, then acts on it if that event was ADDED.
type cooldown struct {
	op  *Operator
	ctx context.Context

	mu      sync.Mutex
	pending map[types.NamespacedName]*pendingEvent
	// handled holds the commands acted on by this process: a re-list after a lost watch
	// does not run them twice (a new process, as after a restart, runs again what is not
	// completed).
	handled map[types.UID]bool
	running sync.WaitGroup
}

type pendingEvent struct {
	last  watch.EventType
	cmd   *batonv1.OperatorCommand
	timer *time.Timer
}

func (q *cooldown) enqueue(t watch.EventType, cmd *batonv1.OperatorCommand) {
	if q.op.Seen != nil {
		q.op.Seen(t, cmd)
	}
	key := types.NamespacedName{Namespace: cmd.Namespace, Name: cmd.Name}
	q.mu.Lock()
	defer q.mu.Unlock()
	if p, ok := q.pending[key]; ok {
		p.last, p.cmd = t, cmd
		if p.timer.Stop() {
			p.timer.Reset(q.op.Cooldown)
		}
		return
	}
	q.pending[key] = &pendingEvent{last: t, cmd: cmd}
	q.running.Add(1)
	q.pending[key].timer = time.AfterFunc(q.op.Cooldown, func() { q.fire(key) })
}

func (q *cooldown) fire(key types.NamespacedName) {
	defer q.running.Done()
	q.mu.Lock()
	p := q.pending[key]
	delete(q.pending, key)
	dup := q.handled[p.cmd.UID]
	if p.last == watch.Added {
		q.handled[p.cmd.UID] = true
	}
	q.mu.Unlock()
	switch {
	case q.ctx.Err() != nil || dup:
	case p.last != watch.Added:
		q.op.skip(p.cmd, Dropped, "dropping a command whose last event in its cooldown was not ADDED", "event", p.last)
	default:
		q.op.act(q.ctx, p.cmd)
	}
}

// wait stops the pending cooldowns and waits for the commands being run.
func (q *cooldown) wait() {
	q.mu.Lock()
	for key, p := range q.pending {
		if p.timer.Stop() {
			delete(q.pending, key)
			q.running.Done()
		}
	}
	q.mu.Unlock()
	q.running.Wait()
}
