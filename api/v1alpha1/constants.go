package v1alpha1

// Labels and annotations read or written by baton. DESIGN.md sections 2 and 4.
const (
	// LabelSequence names the sequence a command belongs to; without it, spec.guid does.
	LabelSequence = "kubescape.io/sequence"
	// LabelGate is set to GateOpen on an external command when its gate opens.
	LabelGate = "kubescape.io/gate"
	// GateOpen is the value of LabelGate on an opened command.
	GateOpen = "open"

	// AnnotationContinueOnFailure "true" makes a member's failure non-blocking.
	AnnotationContinueOnFailure = "kubescape.io/continue-on-failure"
	// AnnotationWhen holds an expr-lang condition evaluated when the member's gate opens.
	AnnotationWhen = "kubescape.io/when"
	// AnnotationRetries holds how many times a failing in-process handler is retried.
	AnnotationRetries = "kubescape.io/retries"
	// AnnotationGateLabels holds, as a JSON object, the routing labels baton adds when the
	// gate opens, for executors that select on labels they cannot change.
	AnnotationGateLabels = "kubescape.io/gate-labels"
	// AnnotationStep holds a member's step name: the name `steps[...]` finds it by in
	// kubescape.io/when conditions and expr expressions. Without it the step name is the
	// command's metadata.name. `kubectl baton submit`, sequence.Build and `kubectl baton
	// retry` always set it, so a retried sequence, whose commands are renamed, keeps the
	// names its expressions use.
	AnnotationStep = "kubescape.io/step"
	// AnnotationRetryOf, on a member of a sequence made by `kubectl baton retry`, names the
	// sequence it retries.
	AnnotationRetryOf = "kubescape.io/retry-of"
	// AnnotationCancel "true" on a CommandSequence cancels it: members not yet started are
	// Skipped with reason Cancelled, running in-process handlers have their context
	// cancelled, and the sequence ends Failed with reason Cancelled. `kubectl baton cancel`
	// sets it; plain `kubectl annotate` does the same.
	AnnotationCancel = "kubescape.io/cancel"

	// LabelAppName is the Kubescape operator's routing label.
	LabelAppName = "kubescape.io/app-name"
	// LabelNodeName is node-agent's additional routing label.
	LabelNodeName = "kubescape.io/node-name"
)

// StepName is the step name of a command with this metadata.name and these annotations:
// its AnnotationStep when set (not empty), else its name. Conditions and expressions find
// earlier steps by it (`steps["scan"]`).
func StepName(name string, annotations map[string]string) string {
	if step := annotations[AnnotationStep]; step != "" {
		return step
	}
	return name
}

// RoutingLabels are the labels existing executors select on. A held member must not carry
// them before its gate opens.
var RoutingLabels = []string{LabelAppName, LabelNodeName}

// CarriedRoutingLabels lists the routing labels present in labels: a command carrying any
// is visible to its executor already.
func CarriedRoutingLabels(labels map[string]string) []string {
	var carried []string
	for _, l := range RoutingLabels {
		if _, ok := labels[l]; ok {
			carried = append(carried, l)
		}
	}
	return carried
}

// CommandPhase is where a command stands in the command state machine (DESIGN.md section 3).
// +kubebuilder:validation:Enum=Pending;Ready;Running;Succeeded;Failed;Expired;Skipped
type CommandPhase string

// Command phases.
const (
	CommandPending   CommandPhase = "Pending"
	CommandReady     CommandPhase = "Ready"
	CommandRunning   CommandPhase = "Running"
	CommandSucceeded CommandPhase = "Succeeded"
	CommandFailed    CommandPhase = "Failed"
	CommandExpired   CommandPhase = "Expired"
	CommandSkipped   CommandPhase = "Skipped"
)

// Terminal reports whether nothing can change the phase any more.
func (p CommandPhase) Terminal() bool {
	switch p {
	case CommandSucceeded, CommandFailed, CommandExpired, CommandSkipped:
		return true
	}
	return false
}

// SequencePhase is where a sequence stands in the sequence state machine.
// +kubebuilder:validation:Enum=Assembling;Running;Succeeded;Failed
type SequencePhase string

// Sequence phases.
const (
	SequenceAssembling SequencePhase = "Assembling"
	SequenceRunning    SequencePhase = "Running"
	SequenceSucceeded  SequencePhase = "Succeeded"
	SequenceFailed     SequencePhase = "Failed"
)

// Terminal reports whether the sequence is finished.
func (p SequencePhase) Terminal() bool {
	return p == SequenceSucceeded || p == SequenceFailed
}

// Reasons written to status.error.reason, sequence status and Events.
const (
	ReasonExpired           = "Expired"
	ReasonPredecessorFailed = "PredecessorFailed"
	ReasonConditionFalse    = "ConditionFalse"
	ReasonInvalidCondition  = "InvalidCondition"
	ReasonInconsistentCount = "InconsistentCount"
	ReasonMissingIndex      = "MissingIndex"
	ReasonTooManyCommands   = "TooManyCommands"
	ReasonIncomplete        = "Incomplete"
	ReasonPayloadTooLarge   = "PayloadTooLarge"
	ReasonExecutorLost      = "ExecutorLost"
	ReasonExecutorCutoff    = "ExecutorCutoff"
	ReasonUngated           = "Ungated"
	ReasonInvalidGateLabels = "InvalidGateLabels"
	ReasonIllegalTransition = "IllegalTransition"
	ReasonHandlerFailed     = "HandlerFailed"
	// ReasonInvalidRetries: kubescape.io/retries is not an integer in the accepted range.
	ReasonInvalidRetries = "InvalidRetries"
	// ReasonCancelled: the sequence was cancelled (AnnotationCancel).
	ReasonCancelled = "Cancelled"
	// ReasonCommandsDeleted: an unfinished sequence lost all its commands.
	ReasonCommandsDeleted = "CommandsDeleted"
	// ReasonResultRejected: the API server refused a step's result for good (400, 403, 413,
	// 422, or etcd's "request is too large"); written without the payload.
	ReasonResultRejected = "ResultRejected"
	// ReasonUnknownVersion: a Warning event on a command whose type has in-process
	// handlers, but not at its commandVersion; it is left to an external executor.
	ReasonUnknownVersion = "UnknownVersion"
)
