package report

import (
	"slices"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

// Rebuild returns the full report of a sequence whose stored report dropped members
// (report.complete: false): a line for every command that still exists, built as the
// engine builds report lines, with no payload elided, plus the stored lines of members
// whose commands are gone. It is complete when no stored member is missing from cmds and
// the stored report omitted nothing that cmds do not hold. Lines are in batch order.
func Rebuild(stored *batonv1.SequenceReport, cmds []batonv1.OperatorCommand) *batonv1.SequenceReport {
	out := &batonv1.SequenceReport{Complete: true}
	have := map[string]bool{}
	for i := range cmds {
		out.Members = append(out.Members, Line(&cmds[i]))
		have[cmds[i].Name] = true
	}
	var omitted int32
	if stored != nil {
		for _, m := range stored.Members {
			if !have[m.Name] {
				out.Members = append(out.Members, m)
			}
		}
		for _, n := range stored.Omitted {
			omitted += n
		}
	}
	// Members the stored report dropped are found only among the commands: if fewer
	// commands exist than lines were dropped plus kept, some are lost for good.
	if stored != nil && len(out.Members) < len(stored.Members)+int(omitted) {
		out.Complete = false
	}
	slices.SortStableFunc(out.Members, func(a, b batonv1.ReportMember) int {
		ai, bi := -1, -1
		if a.Index != nil {
			ai = *a.Index
		}
		if b.Index != nil {
			bi = *b.Index
		}
		if ai != bi {
			return ai - bi
		}
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// Line is a command's report line, as the engine builds it, whole.
func Line(cmd *batonv1.OperatorCommand) batonv1.ReportMember {
	m := engine.Member{Name: cmd.Name, CommandType: cmd.Spec.CommandType, Index: cmd.Spec.CommandIndex}
	return engine.ReportLine(&m, Phase(cmd), &cmd.Status)
}

// Phase is the command's phase as kubectl users read it: status.phase, else Pending (a
// missing phase reads as Pending, DESIGN.md section 5b).
func Phase(cmd *batonv1.OperatorCommand) batonv1.CommandPhase {
	if cmd.Status.Phase != "" {
		return cmd.Status.Phase
	}
	return batonv1.CommandPending
}
