package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestReport(t *testing.T) {
	big := `{"x":"` + strings.Repeat("a", 992) + `"}` // 1,000 bytes
	mid := `{"y":"` + strings.Repeat("b", 592) + `"}` // 600 bytes
	tie := `{"z":"` + strings.Repeat("c", 592) + `"}` // 600 bytes
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
	whole := batonv1.SequenceReport{Complete: true, Members: []batonv1.ReportMember{
		a, b, inline(line("c", 2), big), inline(line("d", 2), mid), inline(line("e", 3), tie)}}
	// The bound counts the whole report as serialised, plus reportOverhead for its fields.
	fits := int64(len(mustJSON(t, whole))) + reportOverhead

	cases := map[string]struct {
		max  int64
		want batonv1.SequenceReport
	}{
		"under the cap: every payload, JSON inline and the rest base64, in (index, name) order": {
			max:  fits,
			want: whole,
		},
		"the largest payload goes first": {
			max: fits - 500,
			want: batonv1.SequenceReport{Complete: true, PayloadsElided: 1, Members: []batonv1.ReportMember{
				a, b, elided(line("c", 2), big), inline(line("d", 2), mid), inline(line("e", 3), tie)}},
		},
		"equal sizes go in report order until the rest fits": {
			max: fits - 1200,
			want: batonv1.SequenceReport{Complete: true, PayloadsElided: 2, Members: []batonv1.ReportMember{
				a, b, elided(line("c", 2), big), elided(line("d", 2), mid), inline(line("e", 3), tie)}},
		},
		"zero takes the default cap": {
			max:  0,
			want: whole,
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

// TestReportBound: whatever the number of members, the report stays under its cap and the
// CommandSequence under 512 KiB; past the cap it keeps the member that failed the
// sequence, the other failures, then the first and the last, and counts the rest by phase.
func TestReportBound(t *testing.T) {
	const maxObject = 512 << 10
	errMsg := strings.Repeat("e", 1024)
	// Payloads as large as a step may write (DefaultMaxPayloadBytes), or as the commands'
	// 100 MiB of payloads in etcd allow at that count.
	for n, size := range map[int]int{10: DefaultMaxPayloadBytes, 10_000: 10 << 10, 100_000: 1 << 10} {
		payload := []byte(`{"data":"` + strings.Repeat("p", size-11) + `"}`)
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			s := Snapshot{Namespace: "ns", Key: "seq", Members: make([]*Member, n)}
			ownErrors := 0
			for i := range s.Members {
				w := MakeMember(fmt.Sprintf("m-%06d", i)).Seq(i/2, n) // report order is name order
				switch {
				case i%97 == 5:
					w.Failed(batonv1.ReasonHandlerFailed, errMsg)
					ownErrors++
				case i > n/2:
					w.Skipped(batonv1.ReasonPredecessorFailed, errMsg)
				default:
					w.Succeeded("")
				}
				s.Members[i] = w.Obj()
				s.Members[i].Status.Payload = payload // shared: memory stays flat
			}
			st := Decide(s, Options{}, at(time.Hour)).Status
			r := st.Report
			if r == nil {
				t.Fatal("no report on a finished sequence")
			}
			size := len(mustJSON(t, r))
			if size > DefaultReportMaxBytes {
				t.Errorf("report is %d bytes, over its cap %d", size, DefaultReportMaxBytes)
			}
			if obj := len(mustJSON(t, batonv1.CommandSequence{Status: st})); obj >= maxObject {
				t.Errorf("CommandSequence is %d bytes, want under %d", obj, maxObject)
			}
			kept := len(r.Members)
			for _, c := range r.Omitted {
				kept += int(c)
			}
			if kept != n {
				t.Errorf("%d lines + omitted %v = %d members, want %d", len(r.Members), r.Omitted, kept, n)
			}
			if r.Complete != (len(r.Members) == n) {
				t.Errorf("complete = %t with %d of %d lines", r.Complete, len(r.Members), n)
			}
			for _, m := range r.Members {
				if m.Error != nil && len(m.Error.Message) > maxReportError {
					t.Fatalf("line %s carries a %d-byte error, want at most %d", m.Name, len(m.Error.Message), maxReportError)
				}
				if m.Payload != nil {
					continue
				}
				if m.PayloadSize != int64(len(payload)) || len(m.PayloadSHA256) != 64 {
					t.Fatalf("line %s: payload neither inline nor elided: size %d, sha256 %q", m.Name, m.PayloadSize, m.PayloadSHA256)
				}
			}
			if r.Complete {
				return
			}
			// Kept: the member that failed the sequence, other failures, the first and the
			// last member, in report order; never a skipped one.
			own, culprit := 0, false
			first, last := "m-000000", fmt.Sprintf("m-%06d", n-1)
			for _, m := range r.Members {
				switch {
				case m.Phase == batonv1.CommandFailed:
					own++
					culprit = culprit || m.Name == st.FailedMember
				case m.Name == first || m.Name == last:
				default:
					t.Fatalf("kept line %s (%s) is no failure and neither first nor last", m.Name, m.Phase)
				}
			}
			if !culprit {
				t.Errorf("the member that failed the sequence, %s, is not in the report", st.FailedMember)
			}
			if own == 0 || own > ownErrors {
				t.Errorf("kept %d failures of %d", own, ownErrors)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestNoReportWhileRunning(t *testing.T) {
	s := snap(MakeMember("a").Seq(0, 2).Succeeded(`{}`), MakeMember("b").Seq(1, 2).Running().InFlight())
	if r := Decide(s, Options{}, at(time.Minute)).Status.Report; r != nil {
		t.Errorf("report while running = %+v, want none", r)
	}
}

// TestReportKeepsTheFailure: past the cap, the report keeps the member that failed the
// sequence, every other Failed or Expired member, then the first and the last, whatever
// the skips before them (a ConditionFalse skip has an error but is no failure).
func TestReportKeepsTheFailure(t *testing.T) {
	const skips, after = 1500, 9
	n := skips + 1 + after
	name := func(i int) string { return fmt.Sprintf("m-%04d", i) }
	s := Snapshot{Namespace: "ns", Key: "seq"}
	for i := range n {
		w := MakeMember(name(i)).Seq(i, n)
		switch {
		case i == 300:
			w.Status(batonv1.OperatorCommandStatus{Phase: batonv1.CommandExpired, Completed: true, CompletedAt: mt(3 * time.Second),
				Error: &batonv1.OperatorCommandStatusError{Reason: batonv1.ReasonExpired, Message: "TTL 1m0s passed"}}).ContinueOnFailure()
		case i == 700:
			w.Failed(batonv1.ReasonHandlerFailed, "tolerated").ContinueOnFailure()
		case i < skips:
			w.Skipped(batonv1.ReasonConditionFalse, `condition "steps[\"m-0000\"].payload.severity == \"high\"" is false`)
		case i == skips:
			w.Failed(batonv1.ReasonHandlerFailed, "the scanner is unreachable")
		default:
			w.Skipped(batonv1.ReasonPredecessorFailed, fmt.Sprintf("command %s failed (HandlerFailed)", name(skips)))
		}
		s.Members = append(s.Members, w.Obj())
	}
	const limit = 64 << 10
	st := Decide(s, Options{ReportMaxBytes: limit}, at(time.Hour)).Status
	if st.Phase != batonv1.SequenceFailed || st.FailedMember != name(skips) {
		t.Fatalf("sequence %s, failed member %q; want Failed by %s", st.Phase, st.FailedMember, name(skips))
	}
	r := st.Report
	var kept []string
	for _, m := range r.Members {
		kept = append(kept, m.Name)
	}
	want := []string{name(0), name(300), name(700), name(skips), name(n - 1)}
	if diff := cmp.Diff(want, kept); diff != "" {
		t.Errorf("kept lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[batonv1.CommandPhase]int32{batonv1.CommandSkipped: int32(n - len(want))}, r.Omitted); diff != "" {
		t.Errorf("omitted (-want +got):\n%s", diff)
	}
	if r.Complete {
		t.Error("complete = true with lines dropped")
	}
	if size := len(mustJSON(t, r)); size > limit {
		t.Errorf("report is %d bytes, over its cap %d", size, limit)
	}
}

// TestReportFillsPastALineThatDoesNotFit: a failed member's line that no longer fits does
// not stop the filling; the shorter first and last lines after it in priority still go in.
func TestReportFillsPastALineThatDoesNotFit(t *testing.T) {
	const n = 12
	name := func(i int) string { return fmt.Sprintf("m-%02d", i) }
	long := strings.Repeat("e", maxReportError)
	s := Snapshot{Namespace: "ns", Key: "seq"}
	for i := range n {
		w := MakeMember(name(i)).Seq(i, n)
		switch {
		case i == 0 || i == n-1:
			w.Succeeded("")
		case i == 1:
			w.Failed(batonv1.ReasonHandlerFailed, long)
		default:
			w.Failed(batonv1.ReasonHandlerFailed, long).ContinueOnFailure()
		}
		s.Members = append(s.Members, w.Obj())
	}
	// Measure the lines as the whole report writes them.
	whole := Decide(s, Options{ReportMaxBytes: 1 << 20}, at(time.Hour)).Status.Report
	size := map[string]int64{}
	for _, m := range whole.Members {
		size[m.Name] = int64(len(mustJSON(t, m))) + 1
	}
	// Room for the culprit, three other failures, the first and the last, and some more
	// that still leaves the fifth failure out.
	slack := size[name(5)] - size[name(0)] - size[name(n-1)]
	if slack <= 0 {
		t.Fatalf("a failed line (%d bytes) must outweigh the first and last (%d, %d)", size[name(5)], size[name(0)], size[name(n-1)])
	}
	limit := reportOverhead + size[name(1)] + size[name(2)] + size[name(3)] + size[name(4)] +
		size[name(0)] + size[name(n-1)] + slack/2
	r := Decide(s, Options{ReportMaxBytes: limit}, at(time.Hour)).Status.Report
	var kept []string
	for _, m := range r.Members {
		kept = append(kept, m.Name)
	}
	want := []string{name(0), name(1), name(2), name(3), name(4), name(n - 1)}
	if diff := cmp.Diff(want, kept); diff != "" {
		t.Errorf("kept lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[batonv1.CommandPhase]int32{batonv1.CommandFailed: int32(n - len(want))}, r.Omitted); diff != "" {
		t.Errorf("omitted (-want +got):\n%s", diff)
	}
}

// storedSize is the size of v as the API server stores it: decoded (integers kept as
// int64, other numbers float64) and encoded again by Go's encoder, which escapes <, > and &
// as six bytes each.
func storedSize(t *testing.T, v any) int {
	t.Helper()
	var decoded any
	if err := utiljson.Unmarshal(mustJSON(t, v), &decoded); err != nil {
		t.Fatal(err)
	}
	return len(mustJSON(t, decoded))
}

// TestReportBoundAsStored: the bound holds for the report as stored, whose JSON payloads
// the API server writes with <, > and & escaped (six bytes each) and numbers as it decoded
// them (1e20 as 100000000000000000000).
func TestReportBoundAsStored(t *testing.T) {
	const limit = 256 << 10
	numbers := "[" + strings.Repeat("1e20,", 20<<10) + "1e20]" // 100 KiB, 420 KiB stored
	cases := map[string]string{
		"< escaped":     `"` + strings.Repeat("<", 200<<10) + `"`,
		"> and &":       `{"html":"` + strings.Repeat("&>", 100<<10) + `"}`,
		"U+2028":        `"` + strings.Repeat("\u2028", 60<<10) + `"`,
		"exponents":     numbers,
		"within bounds": `{"text":"` + strings.Repeat("a", 200<<10) + `"}`,
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			s := snap(
				MakeMember("first").Seq(0, 2).Succeeded(payload),
				MakeMember("second").Seq(1, 2).Succeeded(`{"ok":true}`),
			)
			r := Decide(s, Options{ReportMaxBytes: limit}, at(time.Minute)).Status.Report
			if r == nil {
				t.Fatal("no report on a finished sequence")
			}
			if size := storedSize(t, r); size > limit {
				t.Errorf("the report is %d bytes as stored, over its cap %d (payloads elided: %d)", size, limit, r.PayloadsElided)
			}
			if name == "within bounds" && r.PayloadsElided != 0 {
				t.Errorf("a payload that fits as stored was elided")
			}
		})
	}
}

// TestStoredJSONSize: a payload's size as stored is never under-counted.
func TestStoredJSONSize(t *testing.T) {
	cases := map[string]struct {
		payload string
		exact   bool // counted exactly, not only bounded
	}{
		"plain":               {`{"a":[1,2.5,true,false,null],"b":"text"}`, true},
		"whitespace shrinks":  {"{ \"a\" : [ 1 , 2 ] }", false},
		"html":                {`{"a":"<b>&</b>"}`, true},
		"escapes":             {`"a\nb\u0041\/\u003c"`, true},
		"exponent":            {`[1e20,2E-7,1.5e3]`, true},
		"non-ASCII":           {`"caf\u00e9 café \u2028"`, true},
		"invalid UTF-8":       {"\"a\xffb\"", true},
		"big integer shrinks": {`123456789012345678901234567890`, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var v any
			if err := utiljson.Unmarshal([]byte(tc.payload), &v); err != nil {
				t.Fatal(err)
			}
			stored := int64(len(mustJSON(t, v)))
			got := storedJSONSize([]byte(tc.payload))
			if got < stored || (tc.exact && got != stored) {
				t.Errorf("storedJSONSize(%q) = %d, stored it is %d bytes", tc.payload, got, stored)
			}
		})
	}
}

// FuzzStoredJSONSize: whatever the valid JSON, its size as stored is never under-counted,
// and counted exactly when it may grow.
func FuzzStoredJSONSize(f *testing.F) {
	for _, s := range []string{`{"a":"<>&"}`, `[1e20,-0,1.0]`, `"\u2028\ud83d\ude00"`, "\"\xff\"", ` { "x" : true } `, `"\b\f"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if !json.Valid(p) {
			return
		}
		var v any
		if err := utiljson.Unmarshal(p, &v); err != nil {
			return // too deep for the decoder: the API server refuses it too
		}
		stored := int64(len(mustJSON(t, v)))
		got := storedJSONSize(p)
		if got < stored || (mayGrowStored(p) && got != stored) {
			t.Errorf("storedJSONSize(%q) = %d, stored it is %d bytes", p, got, stored)
		}
	})
}
