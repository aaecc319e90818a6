package engine

import (
	"encoding/json"
	"slices"
	"strconv"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// StepView is an earlier member as a condition (kubescape.io/when), the expr step and a
// handler see it.
type StepView struct {
	// Name is the member's step name (StepName): its kubescape.io/step annotation, else its
	// metadata.name.
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

// Env is what an expression is evaluated over: `steps` by step name (StepName: the
// kubescape.io/step annotation, else metadata.name) and by index (`steps["fetch"]`,
// `steps["0"]`; an index shared by several members maps to the first in report order, and
// `batches[0]` lists them all), `args` of the member, and `sequence`.
type Env struct {
	Steps    map[string]StepView `expr:"steps"`
	Batches  map[int][]StepView  `expr:"batches"`
	Args     map[string]any      `expr:"args"`
	Sequence SequenceView        `expr:"sequence"`
}

// EnvFor builds the Env that member (a name in s) sees, from the snapshot as observed:
// `steps` and `batches` hold the members of earlier batches (a lower commandIndex), `args`
// are the member's own, `sequence` describes s. An unknown member, or one without an index,
// sees no steps. Decide hands the same view to handlers in MemberPlan.Env; EnvFor is for
// callers holding only a snapshot. It costs O(members).
func EnvFor(s Snapshot, member string) Env {
	env := newEnv(sequenceView(&s, expectedCount(s.Members)))
	var self *Member
	for i := range s.Members {
		if s.Members[i].Name == member {
			self = s.Members[i]
			break
		}
	}
	if self == nil {
		return env
	}
	env.Args = self.Args
	if self.Index == nil {
		return env
	}
	var earlier []int
	for i := range s.Members {
		if m := s.Members[i]; m.Index != nil && *m.Index < *self.Index {
			earlier = append(earlier, i)
		}
	}
	slices.SortStableFunc(earlier, func(a, b int) int {
		return CompareMembers(s.Members[a], s.Members[b])
	})
	for lo := 0; lo < len(earlier); {
		idx := *s.Members[earlier[lo]].Index
		hi := lo
		views := make([]StepView, 0, 1)
		for ; hi < len(earlier) && *s.Members[earlier[hi]].Index == idx; hi++ {
			m := s.Members[earlier[hi]]
			_, phase, _ := observe(&m.Status)
			views = append(views, stepView(m, &m.Status, phase))
		}
		env.addBatch(idx, views)
		lo = hi
	}
	return env
}

func newEnv(seq SequenceView) Env {
	return Env{
		Steps:    map[string]StepView{},
		Batches:  map[int][]StepView{},
		Sequence: seq,
	}
}

func sequenceView(s *Snapshot, count int) SequenceView {
	return SequenceView{Key: s.Key, Namespace: s.Namespace, Count: count}
}

// addBatch adds one batch's views: by index in batches, by name and by index in steps. A
// member's name wins over another batch's index key ("3" names a member before a batch).
func (e *Env) addBatch(index int, views []StepView) {
	if len(views) == 0 {
		return
	}
	e.Batches[index] = views
	k := strconv.Itoa(index)
	if cur, ok := e.Steps[k]; !ok || cur.Name != k {
		e.Steps[k] = views[0]
	}
	for _, v := range views {
		e.Steps[v.Name] = v
	}
}

func stepView(m *Member, st *batonv1.OperatorCommandStatus, phase batonv1.CommandPhase) StepView {
	v := StepView{Name: StepName(m), Phase: string(phase), Payload: decodePayload(st.Payload)}
	if m.Index != nil {
		v.Index = *m.Index
	}
	if st.Error != nil {
		v.Reason = st.Error.Reason
		v.Error = st.Error.Message
	}
	return v
}

// decodePayload returns the payload's JSON value, or the raw string when it is not JSON.
func decodePayload(p []byte) any {
	if len(p) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(p, &v); err != nil {
		return string(p)
	}
	return v
}

// expectedCount is the members' commandCount (the first one set), else how many there are.
func expectedCount(members []*Member) int {
	for i := range members {
		if c := members[i].Count; c != nil {
			return *c
		}
	}
	return len(members)
}

// StepName is the name `steps[...]` finds m by: its kubescape.io/step annotation when set
// (not empty), else its metadata.name.
func StepName(m *Member) string { return batonv1.StepName(m.Name, m.Annotations) }
