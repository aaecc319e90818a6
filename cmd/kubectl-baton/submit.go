package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/internal/report"
	"github.com/batonhq/baton/sequence"
)

func newSubmitCommand(o *options) *cobra.Command {
	var (
		file, executor string
		wait, dryRun   bool
	)
	cmd := &cobra.Command{
		Use:   "submit -f FILE",
		Short: "Create a sequence's commands from a compact step list",
		Long: `Create the OperatorCommands of a sequence from a compact step list (YAML or JSON; "-"
reads stdin):

  sequence: scan-and-report   # key: label kubescape.io/sequence and GUID; generated if absent
  ttl: 10m                    # default TTL of every step
  steps:
  - name: scan                # the command's name; default <sequence>-<position>
    type: StartCVEScan        # spec.commandType
    executor: operator        # hold kubescape.io/app-name=<executor> until the gate opens
    args: {}                  # spec.args
    body: {commandName: scan} # spec.body: a string as its bytes, anything else as its JSON
    batch: 0                  # commandIndex; default: the step's position
    when: 'true'              # kubescape.io/when
    retries: 0                # kubescape.io/retries
    ttl: 5m
    continueOnFailure: false

--executor NAME holds every step that names no executor for NAME: the routing label
kubescape.io/app-name=NAME waits in the annotation kubescape.io/gate-labels, and baton adds
it when the step's turn comes, so an unmodified executor sees the command ADDED then.`,
		Example: `  kubectl baton submit -f scan.yaml --wait
  kubectl baton submit -f scan.yaml --executor operator --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkOutput("yaml", "json"); err != nil {
				return err
			}
			if file == "" {
				return usageError{fmt.Errorf("-f FILE is required")}
			}
			data, err := readFile(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			f, err := sequence.Parse(data)
			if err != nil {
				return err
			}
			ns, err := o.namespace()
			if err != nil {
				return err
			}
			cmds, err := sequence.Build(f, sequence.Options{Namespace: ns, Executor: executor})
			if err != nil {
				return err
			}
			if dryRun {
				format := o.output
				if format == "" {
					format = "yaml"
				}
				for i := range cmds {
					if format == "yaml" && i > 0 {
						fmt.Fprintln(o.out, "---")
					}
					if err := printObject(o.out, format, &cmds[i]); err != nil {
						return err
					}
				}
				return nil
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			if err := sequence.Create(cmd.Context(), c, cmds); err != nil {
				return err
			}
			key := cmds[0].Spec.GUID
			for _, m := range cmds {
				fmt.Fprintf(o.out, "operatorcommand/%s created\n", m.Name)
			}
			fmt.Fprintf(o.out, "sequence %s submitted: %d commands in %s\n", key, len(cmds), ns)
			if !wait {
				return nil
			}
			return o.waitAndReport(cmd, c, ns, key)
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "The sequence file (YAML or JSON); - for stdin.")
	cmd.Flags().StringVar(&executor, "executor", "", "Hold steps that name no executor for this one (kubescape.io/app-name), e.g. operator.")
	cmd.Flags().BoolVar(&wait, "wait", false, "Stream progress until the sequence finishes, then print its report; exit 1 when it Failed.")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Print the commands (YAML, or -o json) instead of creating them.")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	return cmd
}

func readFile(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return data, nil
}

// waitAndReport streams the sequence's progress until it finishes, prints its report, and
// returns an exit code 1 when it Failed.
func (o *options) waitAndReport(cmd *cobra.Command, c client.WithWatch, ns, key string) error {
	p := newProgress(o, false)
	seq, err := sequence.Wait(cmd.Context(), c, ns, key, sequence.WaitOptions{Progress: p.print})
	if err != nil {
		return err
	}
	fmt.Fprintln(o.out)
	if err := report.Print(o.out, seq); err != nil {
		return err
	}
	if seq.Status.Phase == batonv1.SequenceFailed {
		return &exitError{code: 1}
	}
	return nil
}
