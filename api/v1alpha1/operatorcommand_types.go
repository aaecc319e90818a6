package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OperatorCommand is one unit of work sent into the cluster by the Kubescape backend. Its
// JSON is field for field that of github.com/kubescape/backend pkg/command/types/v1alpha1;
// baton adds only optional status fields.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=opcmd
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.commandType`
// +kubebuilder:printcolumn:name="Sequence",type=string,JSONPath=`.metadata.labels.kubescape\.io/sequence`
// +kubebuilder:printcolumn:name="Index",type=integer,JSONPath=`.spec.commandIndex`
// +kubebuilder:printcolumn:name="Count",type=integer,JSONPath=`.spec.commandCount`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OperatorCommand struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec OperatorCommandSpec `json:"spec,omitempty"`
	// The schema defaults status.phase to Pending, so kubectl shows it without a write.
	// +kubebuilder:default={}
	Status OperatorCommandStatus `json:"status,omitempty"`
}

// OperatorCommandSpec is what the backend asks for.
type OperatorCommandSpec struct {
	// GUID identifies the command; it is the sequence key when the kubescape.io/sequence
	// label is absent.
	GUID string `json:"guid"`
	// CommandType selects the executor: an in-process handler or an external component.
	CommandType string `json:"commandType"`
	// +optional
	CommandVersion string `json:"commandVersion,omitempty"`
	// +optional
	Designators []PortalDesignator `json:"designators,omitempty"`
	// Body is opaque bytes, base64 on the wire.
	// +optional
	Body []byte `json:"body,omitempty"`
	// TTL is measured from creationTimestamp: int64 nanoseconds, or a duration string.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int || (self.size() <= 64 && self.matches('^[+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|ms|s|m|h))+)$') && duration(self) >= duration('0s'))",message="ttl must be int64 nanoseconds or a Go duration string such as \"90s\" or \"5m\""
	TTL Duration `json:"ttl,omitempty"`
	// TTLIsString is set when decoding: the object as stored holds spec.ttl as a duration
	// string, which baton rewrites to int64 nanoseconds. Never serialised.
	TTLIsString bool `json:"-"`
	// Trimmed is set on a cached copy whose args, body and designators were dropped to
	// save memory: the object as stored has them. Never serialised.
	Trimmed bool `json:"-"`
	// Args is a free-form object handed to the executor.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	Args Args `json:"args,omitempty"`
	// CommandIndex orders the command within its sequence; equal indexes run together.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="commandIndex must be 0 or more"
	CommandIndex *int `json:"commandIndex,omitempty"`
	// CommandCount, when set, makes the command a member of a sequence of that many.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self >= 1",message="commandCount must be 1 or more: the number of commands in the sequence"
	CommandCount *int `json:"commandCount,omitempty"`
}

// PortalDesignator is armoapi-go's identifiers.PortalDesignator.
type PortalDesignator struct {
	// +optional
	DesignatorType string `json:"designatorType"`
	// +optional
	WLID string `json:"wlid,omitempty"`
	// +optional
	WildWLID string `json:"wildwlid,omitempty"`
	// +optional
	SID string `json:"sid,omitempty"`
	// +optional
	// +nullable
	Attributes map[string]string `json:"attributes"`
}

// OperatorCommandStatus is written by whoever executes the command (baton or an external
// executor) and by baton for its own bookkeeping.
type OperatorCommandStatus struct {
	// +optional
	Started bool `json:"started"`
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// +optional
	Completed bool `json:"completed"`
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
	// Executer names who ran the command: a pod name, or "operator".
	// +optional
	Executer string `json:"executer,omitempty"`
	// +optional
	Error *OperatorCommandStatusError `json:"error,omitempty"`
	// Payload is the executor's result, base64 on the wire.
	// +optional
	Payload []byte `json:"payload,omitempty"`

	// Phase is baton's view of the command's state machine. Nothing writes Pending: the
	// schema shows it until baton writes another phase.
	// +optional
	// +kubebuilder:default=Pending
	Phase CommandPhase `json:"phase,omitempty"`
	// Attempts counts runs of an in-process handler, retries included.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// Message says in words why the command is in its phase.
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// OperatorCommandStatusError says why a command did not succeed.
type OperatorCommandStatusError struct {
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	ErrorCode int `json:"errorCode,omitempty"`
}

// +kubebuilder:object:root=true

// OperatorCommandList is a list of OperatorCommand.
type OperatorCommandList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []OperatorCommand `json:"items"`
}
