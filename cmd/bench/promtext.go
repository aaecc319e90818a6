package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// sample is one line of the Prometheus text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseSamples reads the Prometheus text format, keeping only the metrics whose name is
// in names (all of them when names is empty). Comments and malformed lines are skipped:
// the scrape is a measurement, not a validation.
func parseSamples(r io.Reader, names ...string) ([]sample, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, ok := parseSample(line)
		if !ok || (len(want) > 0 && !want[s.name]) {
			continue
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	return out, nil
}

// parseSample parses `name{k="v",...} value [timestamp]`.
func parseSample(line string) (sample, bool) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, false
	}
	s.name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		end, ok := parseLabels(rest[1:], s.labels)
		if !ok {
			return s, false
		}
		rest = rest[1+end:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, false
	}
	s.value = v
	return s, true
}

// parseLabels reads `k="v",k2="v2"}` into into and returns the index just past the '}'.
func parseLabels(in string, into map[string]string) (int, bool) {
	i := 0
	for {
		for i < len(in) && (in[i] == ' ' || in[i] == ',') {
			i++
		}
		if i >= len(in) {
			return 0, false
		}
		if in[i] == '}' {
			return i + 1, true
		}
		eq := strings.IndexByte(in[i:], '=')
		if eq < 0 || i+eq+1 >= len(in) || in[i+eq+1] != '"' {
			return 0, false
		}
		key := strings.TrimSpace(in[i : i+eq])
		i += eq + 2
		var val strings.Builder
		for ; i < len(in) && in[i] != '"'; i++ {
			if in[i] == '\\' && i+1 < len(in) {
				i++
				switch in[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(in[i])
				}
				continue
			}
			val.WriteByte(in[i])
		}
		if i >= len(in) {
			return 0, false
		}
		i++ // closing quote
		into[key] = val.String()
	}
}

// sumWhere adds the values of the samples named name whose labels include every pair in
// match.
func sumWhere(samples []sample, name string, match map[string]string) (float64, bool) {
	var total float64
	found := false
	for _, s := range samples {
		if s.name == name && s.has(match) {
			total += s.value
			found = true
		}
	}
	return total, found
}

// has reports whether the sample's labels include every pair in match.
func (s sample) has(match map[string]string) bool {
	for k, v := range match {
		if s.labels[k] != v {
			return false
		}
	}
	return true
}
