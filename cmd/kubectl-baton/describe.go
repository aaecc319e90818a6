package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/internal/report"
	"github.com/batonhq/baton/sequence"
)

// maxEvents bounds the Events describe prints: the most recent ones.
const maxEvents = 30

func newDescribeCommand(o *options) *cobra.Command {
	return o.onSequence(&cobra.Command{
		Use:   "describe SEQ",
		Short: "Show a sequence as a tree of batches and members, and its recent Events",
		Long: `Show a sequence: its status, a tree of its batches and members (phase, reason,
executer, duration, attempts, body size, error), and the recent Events of the sequence and of its
members. Members are read from the commands that still exist, else from the report.`,
	}, nil, func(cmd *cobra.Command, args []string, c client.WithWatch, ns string) error {
		seq, err := sequence.Get(cmd.Context(), c, ns, args[0])
		if err != nil {
			return err
		}
		cmds, err := sequence.Members(cmd.Context(), c, ns, seq.Spec.Key)
		if err != nil {
			return err
		}
		events, err := sequenceEvents(cmd.Context(), c, seq, cmds)
		if err != nil {
			return err
		}
		return o.describe(seq, cmds, events)
	})
}

func (o *options) describe(seq *batonv1.CommandSequence, cmds []batonv1.OperatorCommand, events []eventsv1.Event) error {
	w := o.out
	s := seq.Status
	tw := newTable(w)
	row(tw, "Name:", seq.Name)
	row(tw, "Namespace:", seq.Namespace)
	row(tw, "Key:", seq.Spec.Key)
	phase := orPhase(s.Phase)
	if s.Reason != "" {
		phase += " (" + s.Reason + ")"
	}
	row(tw, "Phase:", phase)
	row(tw, "Progress:", dash(s.Progress))
	row(tw, "Current batch:", current(s.CurrentBatch))
	if s.FailedMember != "" {
		row(tw, "Failed member:", s.FailedMember)
	}
	if s.StartedAt != nil {
		row(tw, "Started:", s.StartedAt.UTC().Format(time.RFC3339))
	}
	if s.CompletedAt != nil {
		row(tw, "Completed:", s.CompletedAt.UTC().Format(time.RFC3339))
		if s.StartedAt != nil {
			row(tw, "Duration:", report.Between(&s.StartedAt.Time, &s.CompletedAt.Time))
		}
	}
	if v := seq.Annotations[batonv1.AnnotationCancel]; v != "" {
		row(tw, "Cancel requested:", v)
	}
	if s.Message != "" {
		row(tw, "Message:", s.Message)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	lines := make([]batonv1.ReportMember, 0, len(cmds))
	for i := range cmds {
		lines = append(lines, report.Line(&cmds[i]))
	}
	source := ""
	if len(cmds) == 0 && s.Report != nil {
		lines, source = s.Report.Members, " (from the report: the commands are gone)"
	}
	fmt.Fprintf(w, "Batches:%s\n", source)
	if err := printTree(w, lines, report.BodiesOf(cmds)); err != nil {
		return err
	}
	fmt.Fprintln(w, "Events:")
	if len(events) == 0 {
		fmt.Fprintln(w, "  <none>")
		return nil
	}
	tw = newTable(w)
	row(tw, "  TYPE", "REASON", "AGE", "FROM", "OBJECT", "MESSAGE")
	now := o.now()
	for _, e := range events {
		row(tw, "  "+e.Type, e.Reason, age(now, eventTime(&e)), dash(e.ReportingController),
			objectRef(e.Regarding.Kind, e.Regarding.Name), oneLine(e.Note))
	}
	return tw.Flush()
}

// printTree prints the members as a tree of batches, in batch order, with the size of
// each one's body (never its bytes).
func printTree(w io.Writer, lines []batonv1.ReportMember, bodies report.Bodies) error {
	tw := newTable(w)
	row(tw, "  BATCH", "MEMBER", "TYPE", "PHASE", "REASON", "EXECUTER", "DURATION", "ATTEMPTS", "BODY", "ERROR")
	for i, m := range lines {
		batch := "-"
		if m.Index != nil {
			batch = fmt.Sprint(*m.Index)
		}
		first := i == 0 || !sameIndex(lines[i-1].Index, m.Index)
		last := i == len(lines)-1 || !sameIndex(lines[i+1].Index, m.Index)
		branch := "├─ "
		if last {
			branch = "└─ "
		}
		if !first {
			batch = ""
		}
		errMsg := "-"
		if m.Error != nil && m.Error.Message != "" {
			errMsg = oneLine(m.Error.Message)
		}
		duration := "-"
		if m.StartedAt != nil && m.CompletedAt != nil {
			duration = report.Between(&m.StartedAt.Time, &m.CompletedAt.Time)
		}
		row(tw, "  "+batch, branch+m.Name, m.CommandType, string(m.Phase), dash(m.Reason), dash(m.Executer),
			duration, fmt.Sprint(m.Attempts), bodies.Of(m.Name), errMsg)
	}
	return tw.Flush()
}

func sameIndex(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// sequenceEvents lists the events.k8s.io Events regarding the sequence or one of its
// members, oldest first, the last maxEvents of them.
func sequenceEvents(ctx context.Context, c client.Reader, seq *batonv1.CommandSequence, cmds []batonv1.OperatorCommand) ([]eventsv1.Event, error) {
	var list eventsv1.EventList
	if err := c.List(ctx, &list, client.InNamespace(seq.Namespace)); err != nil {
		return nil, fmt.Errorf("listing events: %w", err)
	}
	members := map[string]bool{}
	for _, m := range cmds {
		members[m.Name] = true
	}
	if seq.Status.Report != nil {
		for _, m := range seq.Status.Report.Members {
			members[m.Name] = true
		}
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		r := e.Regarding
		if (r.Kind == "CommandSequence" && r.Name == seq.Name) || (r.Kind == "OperatorCommand" && members[r.Name]) {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b eventsv1.Event) int {
		return eventTime(&a).Compare(eventTime(&b).Time)
	})
	if len(out) > maxEvents {
		out = out[len(out)-maxEvents:]
	}
	return out, nil
}

// eventTime is when the event last happened.
func eventTime(e *eventsv1.Event) (t metaTime) {
	switch {
	case e.Series != nil:
		return metaTime{Time: e.Series.LastObservedTime.Time}
	case !e.EventTime.IsZero():
		return metaTime{Time: e.EventTime.Time}
	case !e.DeprecatedLastTimestamp.IsZero():
		return e.DeprecatedLastTimestamp
	}
	return e.CreationTimestamp
}

func objectRef(kind, name string) string {
	switch kind {
	case "CommandSequence":
		return "cmdseq/" + name
	case "OperatorCommand":
		return "opcmd/" + name
	}
	return strings.ToLower(kind) + "/" + name
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
