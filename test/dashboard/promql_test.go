package dashboard_test

import (
	"regexp"
	"slices"
	"strings"
)

// PromQL is read here with a tokenizer, not Prometheus's parser: the parser's module
// (github.com/prometheus/prometheus) would bring half of Prometheus into go.sum for one
// test. The tokenizer knows what in a query is not a metric name: strings, label matchers,
// ranges, the label lists of by/without/on/ignoring/group_left/group_right, Grafana's
// variables, numbers, function calls and keywords.
var (
	promStrings   = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	grafanaVars   = regexp.MustCompile(`\$(?:\{[^}]*\}|\w+)`)
	labelMatchers = regexp.MustCompile(`\{[^}]*\}`)
	ranges        = regexp.MustCompile(`\[[^\]]*\]`)
	labelLists    = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	matcherNames  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	numbers       = regexp.MustCompile(`\b\d[\w.]*`) // 0.95, 1e3, 0x1f, 1h30m: a name never starts with a digit
	identifiers   = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
)

// promKeywords are the words of PromQL that are neither functions (those are followed by
// a parenthesis) nor metric names.
var promKeywords = []string{
	"and", "or", "unless", "bool", "offset", "start", "end", "inf", "nan",
	"by", "without", "on", "ignoring", "group_left", "group_right",
	// aggregations, which may be followed by a clause before their parenthesis
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
	"bottomk", "topk", "quantile", "limitk", "limit_ratio",
}

// metricNames returns the metric names a PromQL expression selects, in order, each once.
func metricNames(expr string) []string {
	expr = promStrings.ReplaceAllString(expr, `""`)
	expr = grafanaVars.ReplaceAllString(expr, " ")
	expr = labelMatchers.ReplaceAllString(expr, " ")
	expr = ranges.ReplaceAllString(expr, " ")
	expr = labelLists.ReplaceAllString(expr, " ")
	expr = numbers.ReplaceAllString(expr, " ")
	var names []string
	for _, m := range identifiers.FindAllStringSubmatch(expr, -1) {
		word, call := strings.TrimSpace(m[0]), m[1] != ""
		if call || slices.Contains(promKeywords, strings.ToLower(word)) || slices.Contains(names, word) {
			continue
		}
		names = append(names, word)
	}
	return names
}

// labelNames returns the label names an expression matches on or groups by, in order,
// each once.
func labelNames(expr string) []string {
	expr = promStrings.ReplaceAllString(expr, `""`)
	expr = grafanaVars.ReplaceAllString(expr, " ")
	var names []string
	add := func(name string) {
		if name = strings.TrimSpace(name); name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, m := range labelMatchers.FindAllString(expr, -1) {
		for _, n := range matcherNames.FindAllStringSubmatch(m, -1) {
			add(n[1])
		}
	}
	for _, m := range labelLists.FindAllStringSubmatch(expr, -1) {
		for _, n := range strings.Split(m[1], ",") {
			add(n)
		}
	}
	return names
}
