package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
}

// row writes one tab-separated table row.
func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// printObject prints v as JSON (indented, as kubectl does) or YAML.
func printObject(w io.Writer, format string, v any) error {
	switch format {
	case "json":
		data, err := json.MarshalIndent(v, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	case "yaml":
		data, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	return fmt.Errorf("unknown output format %q", format)
}

// age is how long ago t was, as kubectl prints it; "<1s" for less than a second.
func age(now time.Time, t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	d := now.Sub(t.Time)
	if d < time.Second {
		return "<1s"
	}
	return duration.HumanDuration(d)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func current(b *int) string {
	if b == nil {
		return "-"
	}
	return fmt.Sprint(*b)
}

func orPhase(p batonv1.SequencePhase) string {
	if p == "" {
		return "Pending"
	}
	return string(p)
}

func withTypeMeta(seq *batonv1.CommandSequence) *batonv1.CommandSequence {
	out := seq.DeepCopy()
	out.APIVersion, out.Kind = batonv1.GroupVersion.String(), "CommandSequence"
	return out
}

type metaTime = metav1.Time
