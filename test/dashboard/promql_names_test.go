package dashboard_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMetricNames(t *testing.T) {
	cases := map[string]struct {
		expr string
		want []string
	}{
		"a selector": {
			expr: `baton_active_sequences`,
			want: []string{"baton_active_sequences"},
		},
		"an aggregation by labels over a rate with a Grafana range": {
			expr: `sum by (type, outcome) (rate(baton_commands_total[$__rate_interval]))`,
			want: []string{"baton_commands_total"},
		},
		"a quantile of buckets, the clause after the aggregation": {
			expr: `histogram_quantile(0.95, sum(rate(baton_step_duration_seconds_bucket{type=~"$type"}[5m])) by (le, type))`,
			want: []string{"baton_step_duration_seconds_bucket"},
		},
		"a ratio": {
			expr: `sum(rate(baton_gate_latency_seconds_sum[1h30m])) / sum(rate(baton_gate_latency_seconds_count[1h30m]))`,
			want: []string{"baton_gate_latency_seconds_sum", "baton_gate_latency_seconds_count"},
		},
		"matchers that look like names, strings with braces": {
			expr: `sum without (code) (rate(baton_api_writes_total{resource="operatorcommands/status", code=~"4..|5..", verb!="get{x}"}[5m]))`,
			want: []string{"baton_api_writes_total"},
		},
		"keywords, numbers, offset, bool, a vector match": {
			expr: `up offset 5m > bool 1e3 and on (pod) group_left (node) kube_pod_info or absent(nothing_here) unless vector(0x1f)`,
			want: []string{"up", "kube_pod_info", "nothing_here"},
		},
		"a recording rule's name, a name with digits, the same name twice": {
			expr: `job:baton_commands:rate5m + baton_v2_total - baton_v2_total`,
			want: []string{"job:baton_commands:rate5m", "baton_v2_total"},
		},
		"an aggregation whose name is also a metric's prefix": {
			expr: `count(count_values("v", baton_active_sequences))`,
			want: []string{"baton_active_sequences"},
		},
		"no metric": {
			expr: `vector(1) * scalar(time())`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, metricNames(tc.expr)); diff != "" {
				t.Errorf("metricNames(%s) (-want +got):\n%s", tc.expr, diff)
			}
		})
	}
}

func TestLabelNames(t *testing.T) {
	cases := map[string]struct {
		expr string
		want []string
	}{
		"matchers and a clause": {
			expr: `sum by (resource, code) (rate(baton_api_writes_total{code=~"4..|5..", verb!="get"}[$__rate_interval]))`,
			want: []string{"code", "verb", "resource"},
		},
		"a string that looks like a matcher, the clause after the aggregation": {
			expr: `sum(rate(x{a="b=c", d!~"{e=f}"}[5m])) by (le)`,
			want: []string{"a", "d", "le"},
		},
		"vector matching": {
			expr: `a * on (pod) group_left (node) b`,
			want: []string{"pod", "node"},
		},
		"none": {expr: `sum(rate(baton_commands_total[5m]))`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, labelNames(tc.expr)); diff != "" {
				t.Errorf("labelNames(%s) (-want +got):\n%s", tc.expr, diff)
			}
		})
	}
}

func TestDashboardQueries(t *testing.T) {
	got, err := dashboardQueries([]byte(`{"panels": [
		{"title": "top", "targets": [{"refId": "A", "expr": "up"}]},
		{"type": "row", "title": "collapsed", "panels": [
			{"title": "inside", "targets": [{"refId": "B", "expr": "baton_active_sequences"}]}
		]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []query{{where: `panel "top" target A`, expr: "up"}, {where: `panel "inside" target B`, expr: "baton_active_sequences"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(query{})); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
	if _, err := dashboardQueries([]byte(`{"panels": [{"title": "empty", "targets": [{"refId": "A"}]}]}`)); err == nil {
		t.Error("a target without an expression was accepted")
	}
}
