package engine

import (
	"fmt"
	"math"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// chooser is where generated snapshots take their choices: math/rand for the property
// tests, the fuzzer's bytes for FuzzDecide.
type chooser interface {
	intn(n int) int
}

// byteChooser reads choices from fuzz input; past its end every choice is 0.
type byteChooser struct {
	data []byte
	pos  int
}

func (b *byteChooser) intn(n int) int {
	if n <= 1 {
		return 0
	}
	var v int
	for range 2 {
		v <<= 8
		if b.pos < len(b.data) {
			v |= int(b.data[b.pos])
			b.pos++
		}
	}
	return v % n
}

// genInput is the free text a fuzzer supplies for conditions and annotations.
type genInput struct {
	expression string
	annotation string
}

var (
	genExpressions = []string{
		"true", "false", `steps["0"].phase == "Succeeded"`, "1 + 1", "steps.", `args.x == 1`,
		`len(batches) > 0`, `steps.m0.payload.ok == true`, "now()", "",
	}
	genGateLabels = []string{
		`{"kubescape.io/app-name":"operator"}`, `{}`, `null`, `not json`, `{"a":1}`, `{"kubescape.io/gate":"x"}`,
		`{"bad key":"v"}`, `{"kubescape.io/node-name":"n1","kubescape.io/app-name":"node-agent"}`,
	}
	genRetries = []string{"0", "1", "3", "-1", "x", "101", " 2", "99999999999999999999"}
	genReasons = []string{"", batonv1.ReasonHandlerFailed, batonv1.ReasonExpired, batonv1.ReasonPredecessorFailed,
		batonv1.ReasonConditionFalse, "exit code 1", batonv1.ReasonIncomplete}
	genPayloads = []string{"", `{"ok":true}`, "raw\x00bytes", `[1,2,3]`, `"s"`, `{"big":"` + string(make([]byte, 40)) + `"}`}
	genPhases   = []batonv1.CommandPhase{"", batonv1.CommandPending, batonv1.CommandReady, batonv1.CommandRunning,
		batonv1.CommandSucceeded, batonv1.CommandFailed, batonv1.CommandExpired, batonv1.CommandSkipped, "Bogus"}
	genDurations = []time.Duration{0, time.Minute, 5 * time.Minute, time.Hour, -time.Minute, math.MaxInt64, time.Nanosecond}
)

func pick[T any](c chooser, from []T) T { return from[c.intn(len(from))] }

// genCase generates a snapshot, options and an instant. Most snapshots are well-formed
// sequences in some state of progress; some are broken in every way the API allows.
func genCase(c chooser, in genInput) (Snapshot, Options, time.Time) {
	n := c.intn(9)
	count := n
	switch c.intn(8) {
	case 0:
		count = n + 1
	case 1:
		count = n - 1
	case 2:
		count = pick(c, []int{0, -5, math.MaxInt, math.MinInt})
	}
	s := Snapshot{Namespace: "ns", Key: "k"}
	standalone := n == 1 && c.intn(3) == 0
	for i := range n {
		m := genMember(c, in, i, count, standalone)
		s.Members = append(s.Members, &m)
	}
	if c.intn(3) == 0 {
		s.Sequence = genSequence(c)
	}
	opts := Options{
		DefaultTTL:      pick(c, genDurations),
		AssemblyTimeout: pick(c, genDurations),
		ExternalMaxAge:  pick(c, []time.Duration{0, 30 * time.Minute, time.Minute, -time.Minute}),
		ReportMaxBytes:  int64(pick(c, []int{0, 1, 50, 1 << 20, -1})),
		RetryBaseDelay:  pick(c, genDurations),
	}
	now := t0.Add(time.Duration(c.intn(240)-60) * time.Minute / 2)
	return s, opts, now
}

func genMember(c chooser, in genInput, i, count int, standalone bool) Member {
	m := Member{
		Name:              fmt.Sprintf("m%d", i),
		CommandType:       "t",
		CreationTimestamp: t0.Add(time.Duration(c.intn(120)-60) * time.Minute),
		TTL:               pick(c, genDurations),
		HasHandler:        c.intn(2) == 0,
		Idempotent:        c.intn(2) == 0,
		InFlight:          c.intn(3) == 0,
		Args:              map[string]any{"x": c.intn(3)},
	}
	if c.intn(10) == 0 {
		m.Name = "m0" // duplicate names happen in fuzzing, not in Kubernetes
	}
	if c.intn(20) == 0 {
		m.CreationTimestamp = time.Time{}
	}
	if !standalone {
		idx := c.intn(4)
		switch c.intn(12) {
		case 0:
			m.Index = nil
		case 1:
			idx = pick(c, []int{math.MaxInt, math.MinInt, -1})
			m.Index = &idx
		default:
			m.Index = &idx
		}
		cnt := count
		if c.intn(15) == 0 {
			cnt = count + 1
		}
		if c.intn(25) != 0 {
			m.Count = &cnt
		}
	}
	genMeta(c, in, &m)
	m.Status = genStatus(c)
	return m
}

func genMeta(c chooser, in genInput, m *Member) {
	ann := map[string]string{}
	if c.intn(3) == 0 {
		ann[batonv1.AnnotationWhen] = pick(c, genExpressions)
		if in.expression != "" && c.intn(2) == 0 {
			ann[batonv1.AnnotationWhen] = in.expression
		}
	}
	if c.intn(4) == 0 {
		ann[batonv1.AnnotationRetries] = pick(c, genRetries)
	}
	if c.intn(3) == 0 {
		ann[batonv1.AnnotationGateLabels] = pick(c, genGateLabels)
		if in.annotation != "" && c.intn(2) == 0 {
			ann[batonv1.AnnotationGateLabels] = in.annotation
		}
	}
	if c.intn(4) == 0 {
		ann[batonv1.AnnotationContinueOnFailure] = pick(c, []string{"true", "false", in.annotation})
	}
	if c.intn(5) != 0 {
		m.Annotations = ann
	}
	if c.intn(2) == 0 {
		m.Labels = map[string]string{}
		if c.intn(3) == 0 {
			m.Labels[batonv1.LabelGate] = batonv1.GateOpen
		}
		if c.intn(5) == 0 {
			m.Labels[pick(c, batonv1.RoutingLabels)] = "operator"
		}
	}
}

func genStatus(c chooser) batonv1.OperatorCommandStatus {
	st := batonv1.OperatorCommandStatus{Phase: pick(c, genPhases)}
	switch c.intn(4) {
	case 0: // nothing reported
	case 1:
		st.Started = true
		st.StartedAt = &metav1.Time{Time: t0.Add(time.Minute)}
		st.Executer = "pod-0"
		st.Attempts = int32(c.intn(6))
	default:
		st.Started = c.intn(4) != 0
		st.Completed = true
		st.CompletedAt = &metav1.Time{Time: t0.Add(time.Duration(c.intn(10)) * time.Minute)}
		if st.Started {
			st.StartedAt = &metav1.Time{Time: t0.Add(time.Minute)}
		}
		if c.intn(2) == 0 {
			st.Error = &batonv1.OperatorCommandStatusError{Reason: pick(c, genReasons), Message: "m"}
		}
		if p := pick(c, genPayloads); p != "" {
			st.Payload = []byte(p)
		}
	}
	return st
}

func genSequence(c chooser) *batonv1.CommandSequenceStatus {
	st := &batonv1.CommandSequenceStatus{
		Phase: pick(c, []batonv1.SequencePhase{"", batonv1.SequenceAssembling, batonv1.SequenceRunning,
			batonv1.SequenceSucceeded, batonv1.SequenceFailed, "Bogus"}),
		Reason:       pick(c, genReasons),
		FailedMember: "m0",
	}
	if c.intn(2) == 0 {
		st.StartedAt = &metav1.Time{Time: t0}
	}
	if c.intn(2) == 0 {
		st.Report = &batonv1.SequenceReport{Members: []batonv1.ReportMember{{Name: "m0", CompletedAt: &metav1.Time{Time: t0},
			Error: &batonv1.OperatorCommandStatusError{Reason: batonv1.ReasonHandlerFailed}}}}
	}
	return st
}

// reportOrder is the positions of s.Members in the order Decide plans them.
func reportOrder(s Snapshot) []int {
	order := make([]int, len(s.Members))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return CompareMembers(s.Members[a], s.Members[b]) })
	return order
}

// cloneSnapshot copies what Decide could modify, so a test can prove it does not.
func cloneSnapshot(s Snapshot) Snapshot {
	out := s
	if s.Members == nil {
		out.Members = nil
	} else {
		out.Members = make([]*Member, len(s.Members))
	}
	for i, orig := range s.Members {
		m := *orig
		m.Labels = cloneMap(m.Labels)
		m.Annotations = cloneMap(m.Annotations)
		m.Args = batonv1.Args(m.Args).DeepCopy()
		m.Status = *m.Status.DeepCopy()
		if m.Index != nil {
			m.Index = ptr(*m.Index)
		}
		if m.Count != nil {
			m.Count = ptr(*m.Count)
		}
		out.Members[i] = &m
	}
	if s.Sequence != nil {
		out.Sequence = s.Sequence.DeepCopy()
	}
	return out
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// applyPlan does what the controller does with a plan: write statuses, add gate labels,
// claim and start what runs, record the sequence status.
func applyPlan(s Snapshot, p Plan, now time.Time) Snapshot {
	out := cloneSnapshot(s)
	for _, mp := range p.Members {
		m := out.Members[mp.Member]
		switch mp.Action {
		case ActionSetStatus:
			m.Status = *mp.Status
		case ActionOpenGate:
			m.Status = *mp.Status
			if m.Labels == nil {
				m.Labels = map[string]string{}
			}
			for k, v := range mp.GateLabels {
				m.Labels[k] = v
			}
		case ActionRun:
			m.Status = *mp.Status
			m.Status.Started, m.Status.StartedAt = true, &metav1.Time{Time: now}
			m.Status.Phase, m.Status.Executer = batonv1.CommandRunning, "test-pod"
			m.Status.Attempts++
			m.InFlight = true
		}
	}
	st := *p.Status.DeepCopy()
	out.Sequence = &st
	return out
}
