package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CommandSequence is baton's record of one sequence of OperatorCommands: created and owned
// by baton, it shows progress while the sequence runs and holds the report once it ends.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cmdseq
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Progress",type=string,JSONPath=`.status.progress`
// +kubebuilder:printcolumn:name="Current",type=integer,JSONPath=`.status.currentBatch`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CommandSequence struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CommandSequenceSpec   `json:"spec,omitempty"`
	Status CommandSequenceStatus `json:"status,omitempty"`
}

// CommandSequenceSpec identifies the sequence.
type CommandSequenceSpec struct {
	// Key is the sequence key shared by the members: their kubescape.io/sequence label, or
	// their spec.guid when they have no such label.
	Key string `json:"key"`
}

// CommandSequenceStatus is rebuilt from the members on every reconcile. While the sequence
// runs it stays small (counters); the report is written once, when it ends.
type CommandSequenceStatus struct {
	// Phase is Assembling (waiting for all commandCount members), Running, Succeeded or
	// Failed.
	// +optional
	Phase SequencePhase `json:"phase,omitempty"`
	// Reason is a DESIGN.md reason when the sequence failed (Expired, Incomplete, ...).
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message explains the phase in words: the summary of a finished sequence ("5/5
	// succeeded in 12s") or what failed it.
	// +optional
	Message string `json:"message,omitempty"`
	// Progress is "finished members/commandCount". It is written at most once a second
	// while the sequence runs, and always in the final write.
	// +optional
	Progress string `json:"progress,omitempty"`
	// Counts counts the members by outcome.
	// +optional
	Counts SequenceCounts `json:"counts,omitempty"`
	// CurrentBatch is the commandIndex of the batch whose gate is open.
	// +optional
	CurrentBatch *int `json:"currentBatch,omitempty"`
	// StartedAt is when the first batch's gate opened.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// CompletedAt is when the sequence reached Succeeded or Failed.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
	// FailedMember names the first member whose failure stopped the sequence.
	// +optional
	FailedMember string `json:"failedMember,omitempty"`
	// Conditions are the standard Kubernetes conditions of the sequence.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Report is every member in order with its outcome, written once the sequence ends.
	// +optional
	Report *SequenceReport `json:"report,omitempty"`
	// ObservedGeneration is the metadata.generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// SequenceCounts counts members by outcome.
type SequenceCounts struct {
	// Total is the number of members present.
	// +optional
	Total int32 `json:"total,omitempty"`
	// Succeeded counts members that ended Succeeded.
	// +optional
	Succeeded int32 `json:"succeeded,omitempty"`
	// Failed counts members that ended Failed.
	// +optional
	Failed int32 `json:"failed,omitempty"`
	// Expired counts members that outlived their TTL.
	// +optional
	Expired int32 `json:"expired,omitempty"`
	// Skipped counts members that did not run: a predecessor failed, their condition was
	// false, or the sequence was cancelled.
	// +optional
	Skipped int32 `json:"skipped,omitempty"`
}

// SequenceReport aggregates the members' outcomes and payloads.
type SequenceReport struct {
	// Members holds one line per member, ordered by commandIndex, then by name.
	Members []ReportMember `json:"members"`
	// Complete is false when members were dropped to keep the report under
	// --report-max-bytes; `kubectl baton report` then rebuilds the full one from the
	// commands that still exist.
	Complete bool `json:"complete"`
	// Omitted counts the dropped members by phase.
	// +optional
	Omitted map[CommandPhase]int32 `json:"omitted,omitempty"`
	// PayloadsElided counts members whose payload was replaced by its size and sha256 to
	// keep the report under --report-max-bytes.
	// +optional
	PayloadsElided int32 `json:"payloadsElided,omitempty"`
}

// ReportMember is one member's line in the report.
type ReportMember struct {
	// Name is the member's metadata.name.
	Name string `json:"name"`
	// Index is the member's spec.commandIndex: its batch.
	// +optional
	Index *int `json:"index,omitempty"`
	// CommandType is the member's spec.commandType.
	// +optional
	CommandType string `json:"commandType,omitempty"`
	// Phase is the member's final phase: Succeeded, Failed, Expired or Skipped.
	// +optional
	Phase CommandPhase `json:"phase,omitempty"`
	// Reason is why it did not succeed (HandlerFailed, Expired, PredecessorFailed,
	// ConditionFalse, Cancelled, ...), the same as its status.error.reason.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Attempts is how many times an in-process handler ran it; 0 for external steps.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// Executer is who ran it: a baton pod's name, or the external executor's name.
	// +optional
	Executer string `json:"executer,omitempty"`
	// StartedAt is when it started (RFC 3339, one-second precision).
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// CompletedAt is when it completed (RFC 3339, one-second precision).
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
	// Duration is completedAt - startedAt, as a Go duration string.
	// +optional
	Duration string `json:"duration,omitempty"`
	// Error is the member's status.error; its message is clipped to 256 bytes.
	// +optional
	Error *OperatorCommandStatusError `json:"error,omitempty"`
	// Payload is the member's payload when it is valid JSON, inline as JSON.
	// +optional
	Payload *apiextensionsv1.JSON `json:"payload,omitempty"`
	// PayloadBase64 is the member's payload, base64-encoded, when it is not JSON.
	// +optional
	PayloadBase64 []byte `json:"payloadBase64,omitempty"`
	// PayloadSize is the size in bytes of a payload elided to respect the cap.
	// +optional
	PayloadSize int64 `json:"payloadSize,omitempty"`
	// PayloadSHA256 is the hex sha256 of a payload elided to respect the cap.
	// +optional
	PayloadSHA256 string `json:"payloadSHA256,omitempty"`
}

// +kubebuilder:object:root=true

// CommandSequenceList is a list of CommandSequence.
type CommandSequenceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []CommandSequence `json:"items"`
}
