package sequence_test

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/batonhq/baton/sequence"
)

// A backend builds the commands of a sequence as values of the upstream OperatorCommand
// type and sends them through its own channel. The step for the Kubescape operator is held:
// its routing label waits in kubescape.io/gate-labels until baton opens its gate.
func ExampleBuild() {
	f, err := sequence.Parse([]byte(`
sequence: scan-and-report
ttl: 10m
steps:
- name: scan
  type: StartCVEScan
  executor: operator
  args: {wlid: "wlid://cluster-a/namespace-b/deployment-c"}
- name: report
  type: expr
  when: 'steps["scan"].phase == "Succeeded"'
  retries: 2
  ttl: 1m
  args: {expression: 'steps["scan"].payload'}
`))
	if err != nil {
		panic(err)
	}
	cmds, err := sequence.Build(f, sequence.Options{Namespace: "kubescape"})
	if err != nil {
		panic(err)
	}
	for _, cmd := range cmds {
		fmt.Printf("%s index=%d count=%d guid=%s ttl=%s\n", cmd.Name, *cmd.Spec.CommandIndex,
			*cmd.Spec.CommandCount, cmd.Spec.GUID, cmd.Spec.TTL)
		fmt.Printf("  labels: %v\n", cmd.Labels)
		fmt.Printf("  annotations: %v\n", cmd.Annotations)
	}
	// Output:
	// scan index=0 count=2 guid=scan-and-report ttl=10m0s
	//   labels: map[kubescape.io/sequence:scan-and-report]
	//   annotations: map[kubescape.io/gate-labels:{"kubescape.io/app-name":"operator"} kubescape.io/step:scan]
	// report index=1 count=2 guid=scan-and-report ttl=1m0s
	//   labels: map[kubescape.io/sequence:scan-and-report]
	//   annotations: map[kubescape.io/retries:2 kubescape.io/step:report kubescape.io/when:steps["scan"].phase == "Succeeded"]
}

// Steps with the same batch run together; a sequence without a name gets a generated key
// (here fixed for the example), and its steps are named <key>-<position>.
func ExampleBuild_batches() {
	one := 1
	f := &sequence.File{Steps: []sequence.Step{
		{Type: "noop"},
		{Type: "sleep", Batch: &one, Args: map[string]any{"duration": "1s"}},
		{Type: "noop", Batch: &one, ContinueOnFailure: true},
	}}
	cmds, err := sequence.Build(f, sequence.Options{NewKey: func() string { return "nightly" }})
	if err != nil {
		panic(err)
	}
	data, err := yaml.Marshal(cmds[2])
	if err != nil {
		panic(err)
	}
	fmt.Print(string(data))
	// Output:
	// apiVersion: kubescape.io/v1alpha1
	// kind: OperatorCommand
	// metadata:
	//   annotations:
	//     kubescape.io/continue-on-failure: "true"
	//     kubescape.io/step: nightly-2
	//   labels:
	//     kubescape.io/sequence: nightly
	//   name: nightly-2
	// spec:
	//   commandCount: 3
	//   commandIndex: 1
	//   commandType: noop
	//   guid: nightly
	// status:
	//   completed: false
	//   started: false
}

// The CommandSequence of a key that is not a valid object name is named after its hash.
func ExampleName() {
	fmt.Println(sequence.Name("scan-and-report"))
	fmt.Println(sequence.Name("4C6F0A5E-GUID"))
	// Output:
	// scan-and-report
	// seq-62c0594a7d2d7ae5e0e1
}
