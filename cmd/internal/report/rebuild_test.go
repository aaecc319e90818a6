package report

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/utils/ptr"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func command(name string, index int, phase batonv1.CommandPhase, payload string) batonv1.OperatorCommand {
	c := batonv1.OperatorCommand{}
	c.Name = name
	c.Spec.CommandType = "noop"
	c.Spec.CommandIndex = ptr.To(index)
	c.Status.Phase = phase
	c.Status.Payload = []byte(payload)
	return c
}

func line(name string, index int, phase batonv1.CommandPhase, payload string) batonv1.ReportMember {
	m := batonv1.ReportMember{Name: name, Index: ptr.To(index), CommandType: "noop", Phase: phase}
	if payload != "" {
		m.Payload = &apiextensionsv1.JSON{Raw: []byte(payload)}
	}
	return m
}

func TestRebuild(t *testing.T) {
	cases := map[string]struct {
		stored *batonv1.SequenceReport
		cmds   []batonv1.OperatorCommand
		want   *batonv1.SequenceReport
	}{
		"every command still exists: complete, payloads back": {
			stored: &batonv1.SequenceReport{
				Members: []batonv1.ReportMember{line("a", 0, batonv1.CommandSucceeded, ""), line("c", 2, batonv1.CommandFailed, "")},
				Omitted: map[batonv1.CommandPhase]int32{batonv1.CommandSkipped: 1},
			},
			cmds: []batonv1.OperatorCommand{
				command("c", 2, batonv1.CommandFailed, ""),
				command("a", 0, batonv1.CommandSucceeded, `{"x":1}`),
				command("b", 1, "", ""),
			},
			want: &batonv1.SequenceReport{Complete: true, Members: []batonv1.ReportMember{
				line("a", 0, batonv1.CommandSucceeded, `{"x":1}`),
				line("b", 1, batonv1.CommandPending, ""),
				line("c", 2, batonv1.CommandFailed, ""),
			}},
		},
		"a dropped member's command is gone: still incomplete, stored lines kept": {
			stored: &batonv1.SequenceReport{
				Members: []batonv1.ReportMember{line("a", 0, batonv1.CommandSucceeded, ""), line("c", 2, batonv1.CommandFailed, "")},
				Omitted: map[batonv1.CommandPhase]int32{batonv1.CommandSkipped: 1},
			},
			cmds: []batonv1.OperatorCommand{command("c", 2, batonv1.CommandFailed, "")},
			want: &batonv1.SequenceReport{Complete: false, Members: []batonv1.ReportMember{
				line("a", 0, batonv1.CommandSucceeded, ""),
				line("c", 2, batonv1.CommandFailed, ""),
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Rebuild(tc.stored, tc.cmds)); diff != "" {
				t.Errorf("Rebuild (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	cases := map[string]struct {
		d    time.Duration
		want string
	}{
		"zero":        {0, "<1s"},
		"sub-second":  {999 * time.Millisecond, "<1s"},
		"one second":  {time.Second, "1s"},
		"rounded":     {90*time.Second + 600*time.Millisecond, "1m31s"},
		"hour and up": {2*time.Hour + 3*time.Second, "2h0m3s"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Duration(tc.d); got != tc.want {
				t.Errorf("Duration(%s) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
	from := time.Now()
	to := from.Add(-time.Second)
	if got := Between(&from, &to); got != "-" {
		t.Errorf("Between with to before from = %q, want -", got)
	}
}
