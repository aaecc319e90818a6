package engine

import (
	"fmt"
	"unicode/utf8"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Member messages (status.message) for the phases baton writes. They say why the command
// is where it is.
const (
	msgReadyInProcess = "gate open: waiting for an in-process executor"
	msgReadyExternal  = "gate open: handed to its external executor"
	msgCancelled      = "sequence cancelled (annotation " + batonv1.AnnotationCancel + ")"
	// maxMessage keeps messages well under metav1.Condition's 32768-byte limit and small in
	// events.
	maxMessage = 1024
)

func msgPredecessorFailed(culprit *memberState) string {
	return fmt.Sprintf("command %s %s (%s)", culprit.m.Name, verb(culprit.plan.Phase), reasonOf(culprit))
}

func msgExecutorLost(m *Member) string {
	return fmt.Sprintf("command was Running (executer %q) but no executor holds it, and its handler is not idempotent",
		m.Status.Executer)
}

func msgExecutorLostAgain(m *Member) string {
	return fmt.Sprintf("command lost its executor again after %d attempts", m.Status.Attempts)
}

func msgCompleted(st *batonv1.OperatorCommandStatus) string {
	who := st.Executer
	if who == "" {
		who = "its executor"
	}
	if st.Error == nil {
		return "completed by " + who
	}
	return ClipMessage(fmt.Sprintf("%s by %s: %s: %s", completedPhase(st.Error), who, st.Error.Reason, st.Error.Message))
}

// verb says what happened to a member in a phase, for messages.
func verb(p batonv1.CommandPhase) string {
	switch p {
	case batonv1.CommandExpired:
		return "expired"
	case batonv1.CommandSkipped:
		return "was skipped"
	case batonv1.CommandSucceeded:
		return "succeeded"
	}
	return "failed"
}

// reasonOf is the member's error reason, else its phase.
func reasonOf(ms *memberState) string {
	if e := ms.plan.Status.Error; e != nil && e.Reason != "" {
		return e.Reason
	}
	return string(ms.plan.Phase)
}

// ClipMessage cuts a message to the length baton writes into a status or an event, so a
// handler echoing a huge input cannot make the write too large for the API server.
func ClipMessage(s string) string { return clipTo(s, maxMessage) }

// clipTo cuts s to at most n bytes on a rune boundary, marking the cut.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
