package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/sequence"
)

func newCancelCommand(o *options) *cobra.Command {
	return o.onSequence(&cobra.Command{
		Use:   "cancel SEQ",
		Short: "Cancel a sequence: members not yet started are Skipped, running handlers cancelled",
		Long: `Cancel a sequence by setting the annotation kubescape.io/cancel: "true" on its
CommandSequence (plain kubectl annotate does the same). baton then completes the members
not yet started as Skipped with reason Cancelled, cancels the context of running in-process
handlers (they end Failed, reason Cancelled), and ends the sequence Failed with reason
Cancelled. A command already handed to an external executor is not recalled.`,
	}, nil, func(cmd *cobra.Command, args []string, c client.WithWatch, ns string) error {
		seq, err := sequence.Get(cmd.Context(), c, ns, args[0])
		if err != nil {
			return err
		}
		if seq.Status.Phase.Terminal() {
			return fmt.Errorf("sequence %s/%s has already finished: %s", ns, seq.Name, seq.Status.Phase)
		}
		patch := client.RawPatch(client.Merge.Type(),
			fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"true"}}}`, batonv1.AnnotationCancel))
		if err := c.Patch(cmd.Context(), seq, patch); err != nil {
			return fmt.Errorf("annotating sequence %s/%s: %w", ns, seq.Name, err)
		}
		fmt.Fprintf(o.out, "commandsequence/%s cancel requested\n", seq.Name)
		return nil
	})
}
