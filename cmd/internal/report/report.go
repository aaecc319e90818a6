// Package report prints a CommandSequence's report for people: a table of the members in
// order, then each payload. The local runner prints it; the kubectl plugin will too.
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
	s := seq.Status
	fmt.Fprintf(w, "sequence %s/%s: %s", seq.Namespace, seq.Name, s.Phase)
	if s.Reason != "" {
		fmt.Fprintf(w, " (%s)", s.Reason)
	}
	fmt.Fprintf(w, ", %s finished", s.Progress)
	if s.StartedAt != nil && s.CompletedAt != nil {
		fmt.Fprintf(w, " in %s", s.CompletedAt.Sub(s.StartedAt.Time).Round(time.Millisecond))
	}
	fmt.Fprintln(w)
	if s.Message != "" {
		fmt.Fprintf(w, "  %s\n", s.Message)
	}
	if s.Report == nil {
		_, err := fmt.Fprintln(w, "no report yet: the sequence has not finished")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nINDEX\tNAME\tTYPE\tPHASE\tREASON\tATTEMPTS\tDURATION\tPAYLOAD")
	for _, m := range s.Report.Members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", index(m.Index), m.Name, m.CommandType, m.Phase,
			dash(m.Reason), m.Attempts, dash(m.Duration), payload(m))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range s.Report.Members {
		if m.Error != nil && m.Error.Message != "" {
			fmt.Fprintf(w, "  %s: %s\n", m.Name, m.Error.Message)
		}
	}
	return nil
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
