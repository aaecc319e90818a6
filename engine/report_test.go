package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestReport(t *testing.T) {
	big := `{"x":"` + strings.Repeat("a", 92) + `"}` // 100 bytes
	mid := `{"y":"` + strings.Repeat("b", 52) + `"}` // 60 bytes
	tie := `{"z":"` + strings.Repeat("c", 52) + `"}` // 60 bytes
	members := func() Snapshot {
		return snap(
			MakeMember("d").Seq(2, 5).Succeeded(mid),
			MakeMember("a").Seq(0, 5).Succeeded(`{"a":1}`),
			MakeMember("b").Seq(1, 5).Succeeded("binary\x00"),
			MakeMember("c").Seq(2, 5).Succeeded(big),
			MakeMember("e").Seq(3, 5).Succeeded(tie),
		)
	}
	line := func(name string, index int) batonv1.ReportMember {
		return batonv1.ReportMember{Name: name, Index: ptr(index), CommandType: "noop", Phase: batonv1.CommandSucceeded, Attempts: 1,
			Executer: "pod-1", StartedAt: mt(time.Second), CompletedAt: mt(3 * time.Second), Duration: "2s"}
	}
	inline := func(rm batonv1.ReportMember, p string) batonv1.ReportMember {
		rm.Payload = &apiextensionsv1.JSON{Raw: []byte(p)}
		return rm
	}
	elided := func(rm batonv1.ReportMember, p string) batonv1.ReportMember {
		sum := sha256.Sum256([]byte(p))
		rm.PayloadSize, rm.PayloadSHA256 = int64(len(p)), hex.EncodeToString(sum[:])
		return rm
	}
	a := inline(line("a", 0), `{"a":1}`)
	b := line("b", 1)
	b.PayloadBase64 = []byte("binary\x00")

	// Payload bytes as written: 7 + 12 (base64 of 7) + 100 + 60 + 60 = 239.
	cases := map[string]struct {
		max  int64
		want batonv1.SequenceReport
	}{
		"under the cap: every payload, JSON inline and the rest base64, in (index, name) order": {
			max: 239,
			want: batonv1.SequenceReport{Members: []batonv1.ReportMember{
				a, b, inline(line("c", 2), big), inline(line("d", 2), mid), inline(line("e", 3), tie)}},
		},
		"the largest payload goes first": {
			max: 200,
			want: batonv1.SequenceReport{PayloadsElided: 1, Members: []batonv1.ReportMember{
				a, b, elided(line("c", 2), big), inline(line("d", 2), mid), inline(line("e", 3), tie)}},
		},
		"equal sizes go in report order until the rest fits": {
			max: 79,
			want: batonv1.SequenceReport{PayloadsElided: 2, Members: []batonv1.ReportMember{
				a, b, elided(line("c", 2), big), elided(line("d", 2), mid), inline(line("e", 3), tie)}},
		},
		"zero takes the default cap": {
			max: 0,
			want: batonv1.SequenceReport{Members: []batonv1.ReportMember{
				a, b, inline(line("c", 2), big), inline(line("d", 2), mid), inline(line("e", 3), tie)}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Decide(members(), Options{ReportMaxBytes: tc.max}, at(time.Minute)).Status.Report
			if got == nil {
				t.Fatal("no report on a finished sequence")
			}
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoReportWhileRunning(t *testing.T) {
	s := snap(MakeMember("a").Seq(0, 2).Succeeded(`{}`), MakeMember("b").Seq(1, 2).Running().InFlight())
	if r := Decide(s, Options{}, at(time.Minute)).Status.Report; r != nil {
		t.Errorf("report while running = %+v, want none", r)
	}
}
