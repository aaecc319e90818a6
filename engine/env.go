package engine

// StepView is an earlier member as a condition (kubescape.io/when), the expr step and a
// handler see it.
type StepView struct {
	Name   string `expr:"name"`
	Index  int    `expr:"index"`
	Phase  string `expr:"phase"`
	Reason string `expr:"reason"`
	Error  string `expr:"error"`
	// Payload is the decoded JSON payload, or the raw string when it is not JSON.
	Payload any `expr:"payload"`
}

// SequenceView describes the sequence to a condition.
type SequenceView struct {
	Key       string `expr:"key"`
	Namespace string `expr:"namespace"`
	Count     int    `expr:"count"`
}

// Env is what an expression is evaluated over: `steps` by member name and by index
// (`steps["fetch"]`, `steps["0"]`; an index shared by several members maps to the first
// by name, and `batches[0]` lists them all), `args` of the member, and `sequence`.
type Env struct {
	Steps    map[string]StepView `expr:"steps"`
	Batches  map[int][]StepView  `expr:"batches"`
	Args     map[string]any      `expr:"args"`
	Sequence SequenceView        `expr:"sequence"`
}
