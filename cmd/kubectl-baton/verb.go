package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// verbFunc is the body of a verb on sequences, given a client and the namespace it works in.
type verbFunc func(cmd *cobra.Command, args []string, c client.WithWatch, ns string) error

// onSequence makes cmd a verb on exactly one SEQ in the namespace: it completes SEQ, refuses
// an -o value not in outputs, connects and resolves the namespace, then calls run.
func (o *options) onSequence(cmd *cobra.Command, outputs []string, run verbFunc) *cobra.Command {
	cmd.Args = cobra.ExactArgs(1)
	cmd.ValidArgsFunction = o.completeSequences
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, ns, err := o.connect(outputs, o.namespace)
		if err != nil {
			return err
		}
		return run(cmd, args, c, ns)
	}
	return cmd
}

// onSequences makes cmd a verb on an optional SEQ: without it, every sequence in the
// namespace, or with -A in every namespace (ns is then ""); SEQ cannot be combined with -A.
func (o *options) onSequences(cmd *cobra.Command, outputs []string, run verbFunc) *cobra.Command {
	cmd.Args = cobra.MaximumNArgs(1)
	cmd.ValidArgsFunction = o.completeSequences
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, ns, err := o.connect(outputs, o.scope)
		if err != nil {
			return err
		}
		if len(args) == 1 && ns == "" {
			return usageError{fmt.Errorf("a sequence name cannot be combined with --all-namespaces")}
		}
		return run(cmd, args, c, ns)
	}
	return cmd
}

// connect checks -o against outputs, then connects and resolves the namespace.
func (o *options) connect(outputs []string, namespace func() (string, error)) (client.WithWatch, string, error) {
	if err := o.checkOutput(outputs...); err != nil {
		return nil, "", err
	}
	c, err := o.client()
	if err != nil {
		return nil, "", err
	}
	ns, err := namespace()
	if err != nil {
		return nil, "", err
	}
	return c, ns, nil
}
