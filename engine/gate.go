package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// gateClosed handles a non-terminal member whose batch may not open yet. After a blocking
// failure in an earlier batch it is skipped, unless an executor already holds it; otherwise
// it waits in Pending.
func (d *decision) gateClosed(ms *memberState, culprit *memberState) {
	if culprit != nil && skippable(ms) {
		d.finish(ms, batonv1.CommandSkipped, batonv1.ReasonPredecessorFailed, msgPredecessorFailed(culprit))
		return
	}
	if ms.observed != batonv1.CommandPending {
		return // opened before; it finishes or expires
	}
	if !ms.m.HasHandler {
		if d.cutoff(ms) {
			return
		}
		if at, ok := d.cutoffAt(ms); ok {
			d.wakeAt(at)
		}
		if ungated(ms.m) {
			if !d.standalone {
				d.warnUngated(ms)
			}
			return // the executor already sees it: no write may reach it now
		}
	}
	// It waits in Pending. Nothing writes Pending: a missing phase reads as Pending.
}

// skippable reports whether a member whose gate must stay shut can still be completed
// without cutting an executor short: no executor holds it.
func skippable(ms *memberState) bool {
	switch {
	case ms.observed == batonv1.CommandPending:
		return true
	case ms.m.HasHandler:
		return !ms.m.InFlight
	default:
		// Ready without the gate label: the gate patch never landed.
		return ms.observed == batonv1.CommandReady
	}
}

// decideExternal handles an external member whose gate is open: baton writes phase Ready,
// then adds the gate labels as its last write; the executor does the rest.
func (d *decision) decideExternal(ms *memberState) {
	switch ms.observed {
	case batonv1.CommandPending:
		if !d.conditionHolds(ms) {
			return
		}
		if ungated(ms.m) {
			return // it could not be held back, and a write now would make its executor drop it
		}
		d.openGate(ms)
	case batonv1.CommandReady:
		// Ready but not labelled: the gate patch did not land. Try again.
		if !ungated(ms.m) {
			d.openGate(ms)
		}
	}
}

// openGate plans ActionOpenGate, or the failure that prevents it.
func (d *decision) openGate(ms *memberState) {
	labels, err := gateLabels(ms.m)
	if err != nil {
		d.finish(ms, batonv1.CommandFailed, batonv1.ReasonInvalidGateLabels, err.Error())
		return
	}
	if d.cutoff(ms) {
		return
	}
	st := ms.m.Status
	st.Phase = batonv1.CommandReady
	st.Message = msgReadyExternal
	ms.plan.Action = ActionOpenGate
	ms.plan.Status = &st
	ms.plan.Phase = batonv1.CommandReady
	ms.plan.GateLabels = labels
	if ms.m.Status.Phase != batonv1.CommandReady {
		ms.plan.Events = append(ms.plan.Events, Event{Reason: batonv1.EventReady, Message: msgReadyExternal})
	}
}

// held reports whether the member holds routing labels for its gate.
func held(m *Member) bool {
	_, ok := m.Annotations[batonv1.AnnotationGateLabels]
	return ok
}

// ungated reports whether an external member carries a routing label: its executor sees
// it from creation, whatever its gate.
func ungated(m *Member) bool {
	return !m.HasHandler && len(batonv1.CarriedRoutingLabels(m.Labels)) > 0
}

func (d *decision) warnUngated(ms *memberState) {
	carried := batonv1.CarriedRoutingLabels(ms.m.Labels)
	msg := fmt.Sprintf("command %s carries routing label %s before its gate opened: its executor may run it "+
		"out of turn; submit it with the label held in annotation %s",
		ms.m.Name, strings.Join(carried, ", "), batonv1.AnnotationGateLabels)
	ev := Event{Warning: true, Reason: batonv1.ReasonUngated, Message: msg}
	ms.plan.Events = append(ms.plan.Events, ev)
	d.events = append(d.events, ev)
}

// cutoff fails a held member once its gate can no longer open within ExternalMaxAge of its
// creation: its executor would skip it unseen.
func (d *decision) cutoff(ms *memberState) bool {
	at, ok := d.cutoffAt(ms)
	if !ok || d.now.Before(at) {
		return false
	}
	maxAge := d.opts.ExternalMaxAge
	msg := fmt.Sprintf("gate of command %s opens %s or more after its creation, past the external executor's "+
		"age limit %s (--external-max-age) less a %s margin for its debounce: split the sequence or raise "+
		"the executor's limit", ms.m.Name, d.now.Sub(ms.m.CreationTimestamp).Truncate(1e9), maxAge, ExecutorCutoffMargin)
	d.finish(ms, batonv1.CommandFailed, batonv1.ReasonExecutorCutoff, msg)
	d.sequenceEvent(batonv1.ReasonExecutorCutoff, msg)
	return true
}

// ExecutorCutoffMargin is how long before ExternalMaxAge a held member's gate must open:
// the Kubescape operator acts on a command only after a 5 s debounce, and clocks differ.
const ExecutorCutoffMargin = 10 * time.Second

// cutoffAt is the last instant at which opening a held member's gate still reaches its
// executor in time: ExternalMaxAge after its creation, less ExecutorCutoffMargin.
func (d *decision) cutoffAt(ms *memberState) (time.Time, bool) {
	maxAge := d.opts.ExternalMaxAge
	if maxAge <= 0 || ms.m.HasHandler || !held(ms.m) || ungated(ms.m) {
		return time.Time{}, false
	}
	return ms.m.CreationTimestamp.Add(max(maxAge-ExecutorCutoffMargin, 0)), true
}

// gateLabels are the labels the gate-opening patch adds: kubescape.io/gate=open and the
// routing labels held in kubescape.io/gate-labels, which must be a JSON object of valid
// label names and values, not naming kubescape.io/gate itself.
func gateLabels(m *Member) (map[string]string, error) {
	raw, ok := m.Annotations[batonv1.AnnotationGateLabels]
	if !ok {
		return map[string]string{batonv1.LabelGate: batonv1.GateOpen}, nil
	}
	var extra map[string]string
	if err := json.Unmarshal([]byte(raw), &extra); err != nil || extra == nil {
		return nil, fmt.Errorf("annotation %s must be a JSON object of strings, got %q",
			batonv1.AnnotationGateLabels, clipTo(raw, 200))
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	labels := make(map[string]string, len(extra)+1)
	for _, k := range keys {
		v := extra[k]
		if k == batonv1.LabelGate {
			return nil, fmt.Errorf("annotation %s may not set %s", batonv1.AnnotationGateLabels, batonv1.LabelGate)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("annotation %s: label name %q: %s", batonv1.AnnotationGateLabels,
				clipTo(k, 100), strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("annotation %s: label %s value %q: %s", batonv1.AnnotationGateLabels,
				k, clipTo(v, 100), strings.Join(errs, "; "))
		}
		labels[k] = v
	}
	labels[batonv1.LabelGate] = batonv1.GateOpen
	return labels, nil
}
