package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/batonhq/baton/sequence"
)

func newRetryCommand(o *options) *cobra.Command {
	var wait bool
	cmd := o.onSequence(&cobra.Command{
		Use:   "retry SEQ",
		Short: "Run a failed sequence again from its failed member, as SEQ-retry-N",
		Long: `Make a new sequence SEQ-retry-N from a Failed one: the failed member and every later one
run again; the earlier members (and the succeeded members of the failed batch) are copied
in with their status copied whole, so conditions see their results and nothing that
succeeded runs again. Every member is named <name>-retry-N and carries the annotations
kubescape.io/retry-of: SEQ and kubescape.io/step (its step name in SEQ), so conditions and
expr expressions find earlier steps under the names they were written with. The copies,
with their completed status, are written before the other members, so the new sequence
assembles only once they read as done.`,
	}, nil, func(cmd *cobra.Command, args []string, c client.WithWatch, ns string) error {
		res, err := sequence.Retry(cmd.Context(), c, ns, args[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(o.out, "sequence %s created from %s\n", res.Key, args[0])
		fmt.Fprintf(o.out, "  copied as finished: %s\n", list(res.Copied))
		fmt.Fprintf(o.out, "  to run again:       %s\n", list(res.Rerun))
		if !wait {
			return nil
		}
		return o.waitAndReport(cmd, c, ns, res.Key)
	})
	cmd.Flags().BoolVar(&wait, "wait", false, "Stream progress until the new sequence finishes, then print its report; exit 1 when it Failed.")
	return cmd
}

func list(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ", ")
}
