package sequence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"sigs.k8s.io/yaml"
)

// File is a sequence as written in a submit file:
//
//	sequence: scan-and-report   # key: label kubescape.io/sequence and GUID; generated if absent
//	ttl: 10m                    # default TTL of every step
//	steps:
//	- name: scan                # metadata.name; default <sequence>-<position>
//	  type: StartCVEScan        # spec.commandType
//	  executor: operator        # hold kubescape.io/app-name=<executor> until the gate opens
//	  args: {}                  # spec.args
//	  body: {commandName: scan} # spec.body: a string as its bytes, anything else as its JSON
//	  batch: 0                  # commandIndex; default: the step's position
//	  when: 'true'              # kubescape.io/when
//	  retries: 0                # kubescape.io/retries
//	  ttl: 5m
//	  continueOnFailure: false
type File struct {
	// Sequence is the key; generated (a UUID) when empty.
	Sequence string `json:"sequence,omitempty"`
	// TTL is the default TTL of every step; zero leaves the manager's --default-ttl.
	TTL Duration `json:"ttl,omitempty"`
	// Steps in order; a step's position is its default batch.
	Steps []Step `json:"steps"`
}

// Step is one member of the sequence.
type Step struct {
	// Name is the command's metadata.name; default <sequence>-<position>.
	Name string `json:"name,omitempty"`
	// Type is spec.commandType.
	Type string `json:"type"`
	// Executor, when set, holds the routing label kubescape.io/app-name=<Executor> in the
	// annotation kubescape.io/gate-labels until the step's gate opens.
	Executor string `json:"executor,omitempty"`
	// Args is spec.args.
	Args map[string]any `json:"args,omitempty"`
	// Body is spec.body: a string (or []byte) is sent as its bytes, anything else (a map,
	// a list, a number, a bool) as its JSON. The Kubescape operator's OperatorAPI command
	// reads its whole request from the body.
	Body any `json:"body,omitempty"`
	// Batch is spec.commandIndex; default: the step's position in Steps.
	Batch *int `json:"batch,omitempty"`
	// When is the kubescape.io/when condition.
	When string `json:"when,omitempty"`
	// Retries is kubescape.io/retries.
	Retries int `json:"retries,omitempty"`
	// TTL overrides the file's TTL.
	TTL Duration `json:"ttl,omitempty"`
	// ContinueOnFailure sets kubescape.io/continue-on-failure: "true".
	ContinueOnFailure bool `json:"continueOnFailure,omitempty"`
}

// Duration reads a Go duration string ("90s", "5m") or int64 nanoseconds, and writes the
// string form.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON accepts "90s" or 90000000000.
func (d *Duration) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*d = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		ns, err := strconv.ParseInt(string(data), 10, 64)
		if err != nil {
			return fmt.Errorf("ttl must be a duration string such as \"5m\" or int64 nanoseconds, not %s", data)
		}
		*d = Duration(ns)
		return nil
	}
	parsed, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("ttl: %w", err)
	}
	*d = Duration(parsed)
	return nil
}

// Parse reads a submit file (YAML or JSON). Unknown fields are an error, so a typo in a
// step does not silently drop what it meant to set. Numbers in args and body keep every
// digit (json.Number): a 64-bit ID is not rounded through a float.
func Parse(data []byte) (*File, error) {
	var f File
	if err := yaml.UnmarshalStrict(data, &f, useNumber); err != nil {
		return nil, fmt.Errorf("reading the sequence: %w", err)
	}
	return &f, nil
}

func useNumber(d *json.Decoder) *json.Decoder {
	d.UseNumber()
	return d
}
