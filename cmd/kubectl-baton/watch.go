package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/internal/report"
	"github.com/batonhq/baton/sequence"
)

func newWatchCommand(o *options) *cobra.Command {
	return o.onSequences(&cobra.Command{
		Use:   "watch [SEQ]",
		Short: "Follow sequences live until they finish; exit 0 when Succeeded, 1 when Failed",
		Long: `Follow a sequence through the watch API, printing a line each time its phase, progress
or current batch changes, until it finishes: exit code 0 when it Succeeded, 1 when it
Failed. SEQ may not exist yet (baton creates it when it sees the first member).

Without SEQ, follow every sequence in the namespace (or every namespace with -A) until
all of them have finished: exit code 1 when any of them Failed.`,
	}, nil, func(cmd *cobra.Command, args []string, c client.WithWatch, ns string) error {
		var sel fields.Selector
		if len(args) == 1 {
			sel = fields.OneTermEqualSelector("metadata.name", sequence.Name(args[0]))
		}
		p := newProgress(o, ns == "")
		if len(args) == 0 {
			// Every sequence that exists now is followed until it finishes, whatever
			// order the watch delivers them in.
			var list batonv1.CommandSequenceList
			if err := c.List(cmd.Context(), &list, client.InNamespace(ns)); err != nil {
				return fmt.Errorf("listing sequences: %w", err)
			}
			if len(list.Items) == 0 {
				fmt.Fprintln(o.errOut, "No sequences found.")
				return nil
			}
			for i := range list.Items {
				p.running[list.Items[i].Namespace+"/"+list.Items[i].Name] = true
			}
		}
		failed := false
		_, err := sequence.Until(cmd.Context(), c, ns, sel, func(seq *batonv1.CommandSequence, deleted bool) (bool, error) {
			if deleted {
				p.forget(seq)
				if len(args) == 1 {
					return false, fmt.Errorf("sequence %s/%s was deleted", seq.Namespace, seq.Name)
				}
				return p.allDone(), nil
			}
			p.print(seq)
			if seq.Status.Phase == batonv1.SequenceFailed {
				failed = true
			}
			return p.allDone(), nil
		})
		if err != nil {
			return err
		}
		if failed {
			return &exitError{code: 1}
		}
		return nil
	})
}

// progress prints a line per sequence whenever its progress line changes, and knows which
// sequences have not finished.
type progress struct {
	o       *options
	withNS  bool
	last    map[string]string
	running map[string]bool
}

func newProgress(o *options, withNS bool) *progress {
	return &progress{o: o, withNS: withNS, last: map[string]string{}, running: map[string]bool{}}
}

func (p *progress) print(seq *batonv1.CommandSequence) {
	id := seq.Namespace + "/" + seq.Name
	line := report.ProgressLine(seq)
	if p.withNS {
		line = seq.Namespace + "/" + line
	}
	if p.last[id] != line {
		p.last[id] = line
		fmt.Fprintln(p.o.out, line)
	}
	p.running[id] = !(seq.Status.Phase.Terminal() && seq.Status.Report != nil)
}

func (p *progress) forget(seq *batonv1.CommandSequence) {
	delete(p.running, seq.Namespace+"/"+seq.Name)
}

func (p *progress) allDone() bool {
	for _, r := range p.running {
		if r {
			return false
		}
	}
	return true
}
