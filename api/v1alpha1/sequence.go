package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"

	"k8s.io/apimachinery/pkg/util/validation"
)

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

// SequenceName is the name of the CommandSequence baton keeps for a sequence key: the key
// itself when it is a valid object name, else "seq-" and the first 20 hex digits of its
// sha256 (a GUID with upper-case letters, a key past 253 bytes).
func SequenceName(key string) string {
	if len(validation.IsDNS1123Subdomain(key)) == 0 {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "seq-" + hex.EncodeToString(sum[:])[:20]
}
