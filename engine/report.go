package engine

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// report is every member in report order with its outcome. A JSON payload is inline, any
// other payload base64. Payload bytes are counted as written (JSON bytes, base64 bytes);
// past ReportMaxBytes (zero: DefaultReportMaxBytes) the largest payloads are replaced by
// their size and sha256 until the rest fits.
func (d *decision) report() *batonv1.SequenceReport {
	r := &batonv1.SequenceReport{Members: make([]batonv1.ReportMember, len(d.members)), Complete: true}
	sizes := make([]int64, len(d.members))
	var total int64
	for i := range d.members {
		r.Members[i], sizes[i] = reportMember(&d.members[i])
		total += sizes[i]
	}
	limit := d.opts.ReportMaxBytes
	if limit <= 0 {
		limit = DefaultReportMaxBytes
	}
	if total <= limit {
		return r
	}
	order := make([]int, 0, len(d.members))
	for i, s := range sizes {
		if s > 0 {
			order = append(order, i)
		}
	}
	// Largest first; equal sizes in report order, so the choice is deterministic.
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case sizes[a] > sizes[b]:
			return -1
		case sizes[a] < sizes[b]:
			return 1
		}
		return 0
	})
	for _, i := range order {
		if total <= limit {
			break
		}
		elide(&r.Members[i], d.members[i].plan.Status.Payload)
		total -= sizes[i]
		r.PayloadsElided++
	}
	return r
}

func reportMember(ms *memberState) (batonv1.ReportMember, int64) {
	st := &ms.plan.Status
	rm := batonv1.ReportMember{
		Name:        ms.m.Name,
		CommandType: ms.m.CommandType,
		Phase:       ms.plan.Phase,
		Attempts:    st.Attempts,
		Executer:    st.Executer,
		StartedAt:   st.StartedAt.DeepCopy(),
		CompletedAt: st.CompletedAt.DeepCopy(),
	}
	if ms.m.Index != nil {
		idx := *ms.m.Index
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
	p := st.Payload
	switch {
	case len(p) == 0:
		return rm, 0
	case json.Valid(p):
		rm.Payload = &apiextensionsv1.JSON{Raw: p}
		return rm, int64(len(p))
	default:
		rm.PayloadBase64 = p
		return rm, int64(base64.StdEncoding.EncodedLen(len(p)))
	}
}

func elide(rm *batonv1.ReportMember, payload []byte) {
	sum := sha256.Sum256(payload)
	rm.Payload, rm.PayloadBase64 = nil, nil
	rm.PayloadSize = int64(len(payload))
	rm.PayloadSHA256 = hex.EncodeToString(sum[:])
}
