package dashboard_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/batonhq/baton/internal/localcluster"
)

// dashboardPath is the dashboard the chart ships.
var dashboardPath = filepath.Join(localcluster.Root(), "config", "grafana", "baton-dashboard.json")

// panel is what the test reads of a Grafana panel: its title, its queries, and the panels
// of a row.
type panel struct {
	Title   string `json:"title"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// query is one panel target's expression, named for messages.
type query struct {
	where string // panel "title" target A
	expr  string
}

// dashboardQueries reads a dashboard's JSON and returns the query of every panel target,
// rows' panels included. A target without an expression is an error: the panel would
// show nothing.
func dashboardQueries(data []byte) ([]query, error) {
	var d struct {
		Title  string  `json:"title"`
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("reading the dashboard: %w", err)
	}
	var out []query
	var walk func([]panel) error
	walk = func(panels []panel) error {
		for _, p := range panels {
			for _, t := range p.Targets {
				where := fmt.Sprintf("panel %q target %s", p.Title, t.RefID)
				if strings.TrimSpace(t.Expr) == "" {
					return fmt.Errorf("%s has no expr", where)
				}
				out = append(out, query{where: where, expr: t.Expr})
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(d.Panels)
}

// served are the metric names a /metrics page holds, each with the names of its labels:
// a histogram also as its _bucket (with le), _sum and _count, a summary also as its _sum
// and _count (the summary itself with quantile).
type served map[string]map[string]bool

func (s served) add(name string, labels []string) {
	if s[name] == nil {
		s[name] = map[string]bool{}
	}
	for _, l := range labels {
		s[name][l] = true
	}
}

// scrape reads the Prometheus text format served at url.
func scrape(url string) (served, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", url, err)
	}
	out := served{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName())
			}
			switch {
			case m.GetHistogram() != nil:
				out.add(name, labels)
				out.add(name+"_bucket", append(labels, "le"))
				out.add(name+"_sum", labels)
				out.add(name+"_count", labels)
			case m.GetSummary() != nil:
				out.add(name, append(labels, "quantile"))
				out.add(name+"_sum", labels)
				out.add(name+"_count", labels)
			default:
				out.add(name, labels)
			}
		}
	}
	return out, nil
}

// targetLabels are the labels Prometheus adds to every series it scrapes through the
// chart's ServiceMonitor; a query may match on them or group by them.
var targetLabels = []string{"job", "instance", "namespace", "pod", "container", "service", "endpoint"}

// missingMetrics lists, one line each, the metric names the queries select that the
// manager does not serve, and the labels they match on or group by that none of their
// metrics has; empty when every query is answered.
func missingMetrics(queries []query, have served) []string {
	var missing []string
	for _, q := range queries {
		names := metricNames(q.expr)
		if len(names) == 0 {
			missing = append(missing, fmt.Sprintf("%s selects no metric: %s", q.where, q.expr))
		}
		served := true
		for _, name := range names {
			if _, ok := have[name]; !ok {
				missing = append(missing, fmt.Sprintf("%s: %s is not served (%s)", q.where, name, q.expr))
				served = false
			}
		}
		if !served {
			continue // its labels say nothing more
		}
		for _, label := range labelNames(q.expr) {
			known := slices.Contains(targetLabels, label) || slices.ContainsFunc(names, func(name string) bool {
				return have[name][label]
			})
			if !known {
				missing = append(missing, fmt.Sprintf("%s: label %s is on none of %s (%s)", q.where, label, strings.Join(names, ", "), q.expr))
			}
		}
	}
	slices.Sort(missing)
	return missing
}

func readDashboard() ([]query, error) {
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		return nil, err
	}
	return dashboardQueries(data)
}
