package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/internal/version"
)

// options are the flags every verb shares and what they resolve to.
type options struct {
	config        *genericclioptions.ConfigFlags
	allNamespaces bool
	output        string
	out, errOut   io.Writer
	now           func() time.Time
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	o := &options{
		config: genericclioptions.NewConfigFlags(true),
		out:    stdout,
		errOut: stderr,
		now:    time.Now,
	}
	root := &cobra.Command{
		Use:   "kubectl-baton",
		Short: "Inspect and steer baton sequences of OperatorCommands",
		Long: `kubectl baton — inspect and steer baton sequences of OperatorCommands.

A sequence is the set of OperatorCommands sharing the label kubescape.io/sequence (or
spec.guid); baton records it in a CommandSequence (kubectl get cmdseq). SEQ is the
CommandSequence's name, which is the sequence key when the key is a valid object name.`,
		Example: `  kubectl baton submit -f sequence.yaml --wait
  kubectl baton get
  kubectl baton describe scan-and-report
  kubectl baton watch scan-and-report
  kubectl baton report scan-and-report -o json
  kubectl baton retry scan-and-report`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Version,
	}
	root.CompletionOptions.HiddenDefaultCmd = false
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	o.config.AddFlags(root.PersistentFlags())
	root.PersistentFlags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "Sequences in every namespace (get, watch).")
	root.PersistentFlags().StringVarP(&o.output, "output", "o", "", "Output format: json|yaml|wide for get; json|yaml for report and submit --dry-run.")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"json", "yaml", "wide"}, cobra.ShellCompDirectiveNoFileComp))
	root.AddCommand(
		newGetCommand(o),
		newDescribeCommand(o),
		newReportCommand(o),
		newWatchCommand(o),
		newSubmitCommand(o),
		newCancelCommand(o),
		newRetryCommand(o),
		&cobra.Command{
			Use:   "version",
			Short: "Print the plugin's version",
			Args:  cobra.NoArgs,
			Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(o.out, version.Version) },
		},
	)
	return root
}

// scheme holds baton's kinds and events.k8s.io/v1 Events.
func scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := batonv1.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := eventsv1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// client connects with kubectl's flags.
func (o *options) client() (client.WithWatch, error) {
	cfg, err := o.config.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	}
	s, err := scheme()
	if err != nil {
		return nil, err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("connecting to the API server: %w", err)
	}
	return c, nil
}

// namespace is -n, else the kubeconfig context's namespace, else "default".
func (o *options) namespace() (string, error) {
	ns, _, err := o.config.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("resolving the namespace: %w", err)
	}
	return ns, nil
}

// scope is the namespace to list in: "" with -A.
func (o *options) scope() (string, error) {
	if o.allNamespaces {
		return "", nil
	}
	return o.namespace()
}

// checkOutput refuses an -o value the verb does not print.
func (o *options) checkOutput(allowed ...string) error {
	if o.output == "" {
		return nil
	}
	for _, a := range allowed {
		if o.output == a {
			return nil
		}
	}
	return usageError{fmt.Errorf("--output %q is not supported here (use one of %v)", o.output, allowed)}
}

// completeSequences completes SEQ with the names of the sequences in scope.
func (o *options) completeSequences(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := o.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	ns, err := o.namespace()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var list batonv1.CommandSequenceList
	if err := c.List(cmd.Context(), &list, client.InNamespace(ns)); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	names := make([]string, 0, len(list.Items))
	for _, s := range list.Items {
		names = append(names, s.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
