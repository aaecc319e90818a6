// Package report prints a CommandSequence's report for people: a table of the members in
// order, then each error message. It also rebuilds a report from the commands that still
// exist, for a stored report that had to drop members (report.complete: false). The local
// runner and the kubectl plugin print with it.
package report

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Print writes the sequence's outcome and its report to w.
func Print(w io.Writer, seq *batonv1.CommandSequence) error {
	return PrintReport(w, seq, seq.Status.Report)
}

// PrintReport writes the sequence's outcome and r, a report of it, to w.
func PrintReport(w io.Writer, seq *batonv1.CommandSequence, r *batonv1.SequenceReport) error {
	return PrintReportBodies(w, seq, r, nil)
}

// Bodies holds the size of each member's spec.body, by name, read from the commands that
// still exist: the report keeps no body.
type Bodies map[string]int

// BodiesOf is the Bodies of cmds.
func BodiesOf(cmds []batonv1.OperatorCommand) Bodies {
	b := make(Bodies, len(cmds))
	for i := range cmds {
		b[cmds[i].Name] = len(cmds[i].Spec.Body)
	}
	return b
}

// Of is the size of the named member's body for people ("42 B"), never its bytes: "-"
// when it has none, "?" when its command is gone.
func (b Bodies) Of(name string) string {
	n, known := b[name]
	switch {
	case !known:
		return "?"
	case n == 0:
		return "-"
	}
	return Size(n)
}

// Size is a byte count for people: "42 B", "1.5 KiB", "2.0 MiB".
func Size(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// PrintReportBodies is PrintReport with a BODY column giving each member's body size, when
// bodies is not nil.
func PrintReportBodies(w io.Writer, seq *batonv1.CommandSequence, r *batonv1.SequenceReport, bodies Bodies) error {
	s := seq.Status
	fmt.Fprintf(w, "sequence %s/%s: %s", seq.Namespace, seq.Name, s.Phase)
	if s.Reason != "" {
		fmt.Fprintf(w, " (%s)", s.Reason)
	}
	fmt.Fprintf(w, ", %s finished", s.Progress)
	if s.StartedAt != nil && s.CompletedAt != nil {
		fmt.Fprintf(w, " in %s", Duration(s.CompletedAt.Sub(s.StartedAt.Time)))
	}
	fmt.Fprintln(w)
	if s.Message != "" {
		fmt.Fprintf(w, "  %s\n", s.Message)
	}
	if r == nil {
		_, err := fmt.Fprintln(w, "no report yet: the sequence has not finished")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	body := func(string) string { return "" }
	header := "\nINDEX\tNAME\tTYPE\tPHASE\tREASON\tATTEMPTS\tDURATION\tPAYLOAD"
	if bodies != nil {
		body = func(name string) string { return bodies.Of(name) + "\t" }
		header = "\nINDEX\tNAME\tTYPE\tPHASE\tREASON\tATTEMPTS\tDURATION\tBODY\tPAYLOAD"
	}
	fmt.Fprintln(tw, header)
	for _, m := range r.Members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s%s\n", index(m.Index), m.Name, m.CommandType, m.Phase,
			dash(m.Reason), m.Attempts, memberDuration(m), body(m.Name), payload(m))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range r.Members {
		if m.Error != nil && m.Error.Message != "" {
			fmt.Fprintf(w, "  %s: %s\n", m.Name, m.Error.Message)
		}
	}
	return nil
}

// Duration prints d for people: "<1s" below the one-second precision of Kubernetes
// timestamps (never "0s"), else rounded to the second.
func Duration(d time.Duration) string {
	if d < time.Second {
		return "<1s"
	}
	return d.Round(time.Second).String()
}

// Between is Duration(to - from), or "-" when either is unknown.
func Between(from, to *time.Time) string {
	if from == nil || to == nil || to.Before(*from) {
		return "-"
	}
	return Duration(to.Sub(*from))
}

func memberDuration(m batonv1.ReportMember) string {
	if m.Duration == "" {
		return "-"
	}
	d, err := time.ParseDuration(m.Duration)
	if err != nil {
		return m.Duration
	}
	return Duration(d)
}

func index(i *int) string {
	if i == nil {
		return "-"
	}
	return fmt.Sprint(*i)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// payload is the member's payload on one line: JSON as is, else its size.
func payload(m batonv1.ReportMember) string {
	switch {
	case m.Payload != nil:
		return string(m.Payload.Raw)
	case len(m.PayloadBase64) > 0:
		return fmt.Sprintf("(%d bytes, not JSON)", len(m.PayloadBase64))
	case m.PayloadSHA256 != "":
		return fmt.Sprintf("(%d bytes elided, sha256 %s)", m.PayloadSize, m.PayloadSHA256[:12])
	}
	return "-"
}

// ProgressLine is one line of live progress for a sequence: its phase, finished/total,
// the current batch while it runs, and the reason and failed member once it failed.
func ProgressLine(seq *batonv1.CommandSequence) string {
	s := seq.Status
	phase := string(s.Phase)
	if phase == "" {
		phase = string(batonv1.CommandPending)
	}
	line := fmt.Sprintf("%s: %s", seq.Name, phase)
	if s.Progress != "" {
		line += " " + s.Progress
	}
	if s.CurrentBatch != nil && !s.Phase.Terminal() {
		line += fmt.Sprintf(", batch %d", *s.CurrentBatch)
	}
	if s.Reason != "" {
		line += " (" + s.Reason + ")"
	}
	if s.FailedMember != "" {
		line += ", failed member " + s.FailedMember
	}
	return line
}
