package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/internal/report"
	"github.com/batonhq/baton/sequence"
)

func newGetCommand(o *options) *cobra.Command {
	return o.onSequences(&cobra.Command{
		Use:   "get [SEQ]",
		Short: "List sequences: phase, progress, current batch, failed member, age",
	}, []string{"json", "yaml", "wide"}, func(cmd *cobra.Command, args []string, c client.WithWatch, ns string) error {
		var items []batonv1.CommandSequence
		if len(args) == 1 {
			seq, err := sequence.Get(cmd.Context(), c, ns, args[0])
			if err != nil {
				return err
			}
			if o.output == "json" || o.output == "yaml" {
				return printObject(o.out, o.output, withTypeMeta(seq))
			}
			items = []batonv1.CommandSequence{*seq}
		} else {
			var list batonv1.CommandSequenceList
			if err := c.List(cmd.Context(), &list, client.InNamespace(ns)); err != nil {
				return fmt.Errorf("listing sequences: %w", err)
			}
			if o.output == "json" || o.output == "yaml" {
				list.APIVersion, list.Kind = batonv1.GroupVersion.String(), "CommandSequenceList"
				for i := range list.Items {
					list.Items[i].TypeMeta = withTypeMeta(&list.Items[i]).TypeMeta
				}
				return printObject(o.out, o.output, &list)
			}
			items = list.Items
		}
		if len(items) == 0 {
			if ns == "" {
				fmt.Fprintln(o.errOut, "No sequences found.")
			} else {
				fmt.Fprintf(o.errOut, "No sequences found in %s namespace.\n", ns)
			}
			return nil
		}
		return o.printSequences(items, ns == "")
	})
}

// printSequences prints the table of `get`: NAME, PHASE, PROGRESS, CURRENT, FAILED, AGE;
// NAMESPACE first with -A; REASON, KEY and DURATION too with -o wide.
func (o *options) printSequences(items []batonv1.CommandSequence, withNamespace bool) error {
	tw := newTable(o.out)
	wide := o.output == "wide"
	header := []string{"NAME", "PHASE", "PROGRESS", "CURRENT", "FAILED", "AGE"}
	if wide {
		header = append(header, "REASON", "KEY", "DURATION")
	}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	row(tw, header...)
	now := o.now()
	for i := range items {
		s := &items[i]
		cells := []string{s.Name, orPhase(s.Status.Phase), dash(s.Status.Progress), current(s.Status.CurrentBatch),
			dash(s.Status.FailedMember), age(now, s.CreationTimestamp)}
		if wide {
			d := "-"
			if s.Status.StartedAt != nil && s.Status.CompletedAt != nil {
				d = report.Between(&s.Status.StartedAt.Time, &s.Status.CompletedAt.Time)
			}
			cells = append(cells, dash(s.Status.Reason), s.Spec.Key, d)
		}
		if withNamespace {
			cells = append([]string{s.Namespace}, cells...)
		}
		row(tw, cells...)
	}
	return tw.Flush()
}
