package v1alpha1

// SequenceKey is the key of the sequence the command belongs to: its kubescape.io/sequence
// label, else its spec.guid. Keys are per namespace.
func (c *OperatorCommand) SequenceKey() string {
	if key := c.Labels[LabelSequence]; key != "" {
		return key
	}
	return c.Spec.GUID
}

// InSequence reports whether the command is a sequence member (spec.commandCount is set)
// rather than a standalone command.
func (c *OperatorCommand) InSequence() bool {
	return c.Spec.CommandCount != nil
}
