// Package v1alpha1 holds baton's API: the OperatorCommand kind, wire-compatible with
// github.com/kubescape/backend pkg/command/types/v1alpha1, and the CommandSequence kind that
// baton owns per sequence. It also names every label, annotation, phase and reason that
// DESIGN.md makes public: those strings are a contract with clients baton never sees.
//
// This package imports only apimachinery and apiextensions types, never a client, so the
// pure engine can use it.
//
// +kubebuilder:object:generate=true
// +groupName=kubescape.io
package v1alpha1
