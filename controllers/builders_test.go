package controllers_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// commandBuilder builds test commands: newCommand(ns, "a").Type("record").In("s", 0, 2).Obj().
type commandBuilder struct{ cmd batonv1.OperatorCommand }

func newCommand(ns, name string) *commandBuilder {
	return &commandBuilder{cmd: batonv1.OperatorCommand{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       batonv1.OperatorCommandSpec{GUID: name, CommandType: "record"},
	}}
}

func (b *commandBuilder) Type(t string) *commandBuilder { b.cmd.Spec.CommandType = t; return b }

// In makes the command member index of a sequence of count, keyed by the label.
func (b *commandBuilder) In(seq string, index, count int) *commandBuilder {
	b.Label(batonv1.LabelSequence, seq)
	b.cmd.Spec.CommandIndex, b.cmd.Spec.CommandCount = &index, &count
	return b
}

func (b *commandBuilder) TTL(d time.Duration) *commandBuilder {
	b.cmd.Spec.TTL = batonv1.Duration(d)
	return b
}

func (b *commandBuilder) Arg(k string, v any) *commandBuilder {
	if b.cmd.Spec.Args == nil {
		b.cmd.Spec.Args = batonv1.Args{}
	}
	b.cmd.Spec.Args[k] = v
	return b
}

func (b *commandBuilder) Label(k, v string) *commandBuilder {
	if b.cmd.Labels == nil {
		b.cmd.Labels = map[string]string{}
	}
	b.cmd.Labels[k] = v
	return b
}

func (b *commandBuilder) Annotate(k, v string) *commandBuilder {
	if b.cmd.Annotations == nil {
		b.cmd.Annotations = map[string]string{}
	}
	b.cmd.Annotations[k] = v
	return b
}

func (b *commandBuilder) Obj() *batonv1.OperatorCommand { return b.cmd.DeepCopy() }

// Create creates the command on the API server.
func (b *commandBuilder) Create() *batonv1.OperatorCommand {
	obj := b.Obj()
	Expect(k8s.Create(suiteCt, obj)).To(Succeed())
	return obj
}

func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "seq-"}}
	Expect(k8s.Create(suiteCt, ns)).To(Succeed())
	return ns.Name
}

func getCommand(ns, name string) *batonv1.OperatorCommand {
	cmd := &batonv1.OperatorCommand{}
	Expect(k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: name}, cmd)).To(Succeed())
	return cmd
}

func getSequence(ns, name string) *batonv1.CommandSequence {
	seq := &batonv1.CommandSequence{}
	Expect(k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: name}, seq)).To(Succeed())
	return seq
}

// phaseOf polls a command's phase, for Eventually.
func phaseOf(ns, name string) func() batonv1.CommandPhase {
	return func() batonv1.CommandPhase {
		cmd := &batonv1.OperatorCommand{}
		if err := k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: name}, cmd); err != nil {
			return ""
		}
		return cmd.Status.Phase
	}
}

// sequencePhase polls a sequence's phase, for Eventually.
func sequencePhase(ns, name string) func() batonv1.SequencePhase {
	return func() batonv1.SequencePhase {
		seq := &batonv1.CommandSequence{}
		if err := k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: name}, seq); err != nil {
			return ""
		}
		return seq.Status.Phase
	}
}

// eventsFor lists the events regarding an object, as "Type Reason: note".
func eventsFor(ns, name string) func() []string {
	return func() []string {
		var list eventsv1.EventList
		Expect(k8s.List(suiteCt, &list, client.InNamespace(ns))).To(Succeed())
		var out []string
		for _, e := range list.Items {
			if e.Regarding.Name == name {
				out = append(out, e.Type+" "+e.Reason+": "+e.Note)
			}
		}
		return out
	}
}

// eventCount counts the events with reason regarding an object, a series as its count.
func eventCount(ns, name, reason string) func() int {
	return func() int {
		var list eventsv1.EventList
		Expect(k8s.List(suiteCt, &list, client.InNamespace(ns))).To(Succeed())
		n := 0
		for _, e := range list.Items {
			if e.Regarding.Name != name || e.Reason != reason {
				continue
			}
			n++
			if e.Series != nil {
				n += int(e.Series.Count) - 1
			}
		}
		return n
	}
}

func payloadOf(cmd *batonv1.OperatorCommand) map[string]any {
	var out map[string]any
	Expect(json.Unmarshal(cmd.Status.Payload, &out)).To(Succeed())
	return out
}
