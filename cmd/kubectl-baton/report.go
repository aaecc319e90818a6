package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/internal/report"
	"github.com/batonhq/baton/sequence"
)

func newReportCommand(o *options) *cobra.Command {
	var stored bool
	cmd := o.onSequence(&cobra.Command{
		Use:   "report SEQ",
		Short: "Print a finished sequence's report as a table, or as stored with -o json|yaml",
		Long: `Print a finished sequence's report: a table of every member in order (with the size of
its body, read from its command: "?" once the command is gone), or with -o json (or yaml)
status.report exactly as stored on the CommandSequence.

A report bounded by the manager's --report-max-bytes may have dropped members
(report.complete: false). The report is then rebuilt from the commands that still exist,
and a note on stderr says so; --stored prints the stored one as it is.`,
	}, []string{"json", "yaml"}, func(cmd *cobra.Command, args []string, c client.WithWatch, ns string) error {
		seq, err := sequence.Get(cmd.Context(), c, ns, args[0])
		if err != nil {
			return err
		}
		r := seq.Status.Report
		if r == nil {
			return fmt.Errorf("sequence %s/%s has no report yet: it is %s", ns, seq.Name, orPhase(seq.Status.Phase))
		}
		if o.output != "" && (r.Complete || stored) {
			return printObject(o.out, o.output, r)
		}
		// The table shows each member's body size, which only the commands hold.
		cmds, err := sequence.Members(cmd.Context(), c, ns, seq.Spec.Key)
		if err != nil {
			return err
		}
		if !r.Complete && !stored {
			r = report.Rebuild(r, cmds)
			fmt.Fprintf(o.errOut, "note: the stored report of %s is incomplete (%s); rebuilt from the %d commands that still exist%s\n",
				seq.Name, omitted(seq.Status.Report), len(cmds), stillIncomplete(r))
		}
		if o.output != "" {
			return printObject(o.out, o.output, r)
		}
		return report.PrintReportBodies(o.out, seq, r, report.BodiesOf(cmds))
	})
	cmd.Flags().BoolVar(&stored, "stored", false, "Print the stored report even when it is incomplete.")
	return cmd
}

func omitted(r *batonv1.SequenceReport) string {
	var n int32
	for _, c := range r.Omitted {
		n += c
	}
	return fmt.Sprintf("%d of %d members omitted", n, int(n)+len(r.Members))
}

func stillIncomplete(r *batonv1.SequenceReport) string {
	if r.Complete {
		return ""
	}
	return "; some members' commands are gone, so it is still incomplete"
}
