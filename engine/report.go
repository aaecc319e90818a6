package engine

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// maxReportError clips an error message in a report line: a report holds thousands of
// lines, and the command keeps the full message.
const maxReportError = 256

// reportOverhead bounds what the report adds around its lines: the members list's brackets
// and the complete, omitted (a count for each of the seven phases) and payloadsElided
// fields.
const reportOverhead = 512

// report is every member in report order with its outcome, bounded by ReportMaxBytes (zero:
// DefaultReportMaxBytes) as the API server stores it (payloadFieldSize: escaped characters
// included). A JSON payload is inline, any other base64. Past the
// bound, payloads are replaced by their size and sha256, largest first, until the rest
// fits; if the lines alone still do not fit, keepWithin keeps the member that failed the
// sequence (failed, a member name; empty when none did), the other Failed and Expired
// members, then the first and the last, as room allows, drops the others, counts them by
// phase in omitted and says complete: false.
func (d *decision) report(failed string) *batonv1.SequenceReport {
	limit := d.opts.ReportMaxBytes
	if limit <= 0 {
		limit = DefaultReportMaxBytes
	}
	states := d.states()
	lines := make([]reportLine, len(states))
	total := int64(reportOverhead)
	for i, ms := range states {
		lines[i] = newReportLine(ms)
		total += lines[i].size() + 1 // the comma
	}
	r := &batonv1.SequenceReport{Complete: true}
	total = elideLargest(lines, total, limit, r)
	if total > limit {
		r.Complete = false
		lines = keepWithin(lines, limit, failed, r)
	}
	r.Members = make([]batonv1.ReportMember, len(lines))
	for i := range lines {
		r.Members[i] = lines[i].member()
	}
	return r
}

// reportLine is one member's line with its sizes as serialised: base without the payload,
// payload the payload field alone.
type reportLine struct {
	rm      batonv1.ReportMember
	ms      *memberState
	base    int64
	payload int64
	elided  bool
}

func (l *reportLine) size() int64 { return l.base + l.payload }

func (l *reportLine) member() batonv1.ReportMember {
	rm := l.rm
	p := l.ms.plan.Status.Payload
	if l.elided {
		sum := sha256.Sum256(p)
		rm.PayloadSize = int64(len(p))
		rm.PayloadSHA256 = hex.EncodeToString(sum[:])
	} else {
		inlinePayload(&rm, p)
	}
	return rm
}

func newReportLine(ms *memberState) reportLine {
	st := ms.plan.Status
	rm := baseLine(ms.m, ms.plan.Phase, st)
	if rm.Error != nil {
		rm.Error.Message = clipTo(rm.Error.Message, maxReportError)
	}
	l := reportLine{rm: rm, ms: ms}
	if data, err := json.Marshal(&rm); err == nil {
		l.base = int64(len(data))
	}
	if p := st.Payload; len(p) > 0 {
		l.payload = payloadFieldSize(p)
	}
	return l
}

// ReportLine is the report line of member m in phase with status st, whole: the error
// message unclipped and the payload inline, JSON as it is, anything else base64. The report
// Decide writes is built from the same line, with the message clipped and payloads elided
// as its bound requires.
func ReportLine(m *Member, phase batonv1.CommandPhase, st *batonv1.OperatorCommandStatus) batonv1.ReportMember {
	rm := baseLine(m, phase, st)
	inlinePayload(&rm, st.Payload)
	return rm
}

// baseLine is a report line without its payload.
func baseLine(m *Member, phase batonv1.CommandPhase, st *batonv1.OperatorCommandStatus) batonv1.ReportMember {
	rm := batonv1.ReportMember{
		Name:        m.Name,
		CommandType: m.CommandType,
		Phase:       phase,
		Attempts:    st.Attempts,
		Executer:    st.Executer,
		StartedAt:   st.StartedAt.DeepCopy(),
		CompletedAt: st.CompletedAt.DeepCopy(),
	}
	if m.Index != nil {
		idx := *m.Index
		rm.Index = &idx
	}
	if st.Error != nil {
		e := *st.Error
		rm.Error = &e
		rm.Reason = e.Reason
	}
	if st.StartedAt != nil && st.CompletedAt != nil && !st.CompletedAt.Before(st.StartedAt) {
		rm.Duration = st.CompletedAt.Sub(st.StartedAt.Time).String()
	}
	return rm
}

// inlinePayload sets the payload of a line: JSON inline, anything else base64.
func inlinePayload(rm *batonv1.ReportMember, p []byte) {
	switch {
	case len(p) == 0:
	case json.Valid(p):
		rm.Payload = &apiextensionsv1.JSON{Raw: p}
	default:
		rm.PayloadBase64 = p
	}
}

// payloadFieldSize is the size of the payload field as stored: inline JSON as the API
// server writes it (storedJSONSize), or quoted base64.
func payloadFieldSize(p []byte) int64 {
	const field = len(`,"payload":`)
	if json.Valid(p) {
		return int64(field) + storedJSONSize(p)
	}
	return int64(len(`,"payloadBase64":""`) + base64.StdEncoding.EncodedLen(len(p)))
}

// storedJSONSize is the size of the valid JSON p as the API server stores it inline: it
// decodes the object (integers as int64, other numbers as float64) and encodes it again
// with Go's encoder, which writes <, > and & as \u003c (six bytes), U+2028 and U+2029 as
// six bytes, an invalid UTF-8 byte as U+FFFD and 1e20 as 100000000000000000000. A payload
// with none of what can grow (checked in one pass) counts its own length; any other is
// decoded and encoded the same way.
func storedJSONSize(p []byte) int64 {
	if !mayGrowStored(p) {
		return int64(len(p))
	}
	var v any
	if err := utiljson.Unmarshal(p, &v); err != nil {
		return int64(len(p))
	}
	data, err := json.Marshal(v)
	if err != nil {
		return int64(len(p))
	}
	return int64(len(data))
}

// mayGrowStored reports whether the valid JSON p holds anything the API server's decoding
// and encoding may write longer: in a string <, >, &, an escape or a non-ASCII byte;
// outside strings a number with an exponent. Whitespace and the rest only shrink.
func mayGrowStored(p []byte) bool {
	inString := false
	var prev byte
	for _, c := range p {
		switch {
		case inString && c == '"':
			inString = false
		case inString && (c == '<' || c == '>' || c == '&' || c == '\\' || c >= utf8.RuneSelf):
			return true
		case inString:
		case c == '"':
			inString = true
		case (c == 'e' || c == 'E') && (prev == '.' || '0' <= prev && prev <= '9'):
			return true // an exponent (the e of true and false follows a letter)
		}
		prev = c
	}
	return false
}

// elidedFieldSize is the size of the size-and-sha256 fields that replace a payload.
func elidedFieldSize(p []byte) int64 {
	return int64(len(`,"payloadSize":,"payloadSHA256":""`) + len(strconv.Itoa(len(p))) + sha256.Size*2)
}

// elideLargest replaces payloads, largest first (equal sizes in report order), until the
// report fits or none is left; it returns the new total.
func elideLargest(lines []reportLine, total, limit int64, r *batonv1.SequenceReport) int64 {
	if total <= limit {
		return total
	}
	order := make([]int, 0, len(lines))
	for i := range lines {
		if lines[i].payload > 0 {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(lines[b].payload, lines[a].payload) })
	for _, i := range order {
		if total <= limit {
			break
		}
		l := &lines[i]
		elided := elidedFieldSize(l.ms.plan.Status.Payload)
		total += elided - l.payload
		l.payload, l.elided = elided, true
		r.PayloadsElided++
	}
	return total
}

// keepWithin drops lines until the rest fits (DESIGN.md section 5). It keeps, in this
// priority and as room allows, the member that failed the sequence (failed), every other
// Failed or Expired member in report order (never a Skipped one, whatever its reason: a
// condition's skip or a cancel is no failure), then the first and the last member. A line
// that does not fit is passed over and the filling goes on with the next, so a long line
// never costs the shorter ones after it. The dropped lines are counted by phase; what it
// keeps stays in report order.
func keepWithin(lines []reportLine, limit int64, failed string, r *batonv1.SequenceReport) []reportLine {
	priority := make([]int, 0, 3)
	culprit := -1
	for i := range lines {
		if failed != "" && lines[i].rm.Name == failed {
			culprit = i
			priority = append(priority, i)
			break
		}
	}
	for i := range lines {
		if i != culprit && failedOrExpired(lines[i].ms.plan.Phase) {
			priority = append(priority, i)
		}
	}
	if n := len(lines); n > 0 {
		priority = append(priority, 0, n-1)
	}
	keep := make([]bool, len(lines))
	room := limit - reportOverhead
	for _, i := range priority {
		if size := lines[i].size() + 1; !keep[i] && size <= room {
			keep[i], room = true, room-size
		}
	}
	kept := lines[:0:0]
	r.Omitted = map[batonv1.CommandPhase]int32{}
	for i := range lines {
		if keep[i] {
			kept = append(kept, lines[i])
			continue
		}
		r.Omitted[lines[i].ms.plan.Phase]++
		if lines[i].elided {
			r.PayloadsElided--
		}
	}
	return kept
}

// failedOrExpired reports whether a member's outcome is a failure a report must show.
func failedOrExpired(p batonv1.CommandPhase) bool {
	return p == batonv1.CommandFailed || p == batonv1.CommandExpired
}
