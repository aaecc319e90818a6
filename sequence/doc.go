// Package sequence is baton's Go package for backends: it builds the OperatorCommands of a
// sequence from a compact step list (the `kubectl baton submit` file of DESIGN.md section
// 5) as values of the upstream Go type, github.com/kubescape/backend
// pkg/command/types/v1alpha1.OperatorCommand, so a backend can send them through its own
// channel; optionally it creates them with a controller-runtime client, waits for the
// sequence's report through the watch API, and makes the retry of a failed sequence.
//
// It owns the submit-file format, the naming of members (default <sequence>-<position>),
// the held form of a member for a named executor (annotation kubescape.io/gate-labels, no
// routing label on the object) and the rules of `kubectl baton retry`. It must not import
// engine/, controllers/ or steps/: a backend that submits sequences needs none of them.
package sequence
