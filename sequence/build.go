package sequence

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	upstream "github.com/kubescape/backend/pkg/command/types/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Options complete a File when building its commands.
type Options struct {
	// Namespace of every command.
	Namespace string
	// Executor is the executor of steps that name none (`kubectl baton submit
	// --executor`); empty leaves them to in-process handlers or ungated executors.
	Executor string
	// NewKey generates the sequence key when the file has none; default: a random UUID.
	NewKey func() string
}

// Build returns the commands of the sequence in step order: one GUID and one
// kubescape.io/sequence label (the key), commandIndex (the step's batch) and commandCount
// (the number of steps), TTL in int64 nanoseconds, spec.body from the step's body (a
// string as its bytes, anything else as its JSON), and the annotations kubescape.io/step
// (the step's name, which `steps[...]` finds it by, whatever its object is named later, as
// in a retry), kubescape.io/when, kubescape.io/retries, kubescape.io/continue-on-failure
// and, for a step with an executor, kubescape.io/gate-labels holding
// {"kubescape.io/app-name": executor}; no routing label is set on the object, so the
// executor sees it only when baton opens its gate.
func Build(f *File, opts Options) ([]upstream.OperatorCommand, error) {
	if len(f.Steps) == 0 {
		return nil, errors.New("the sequence has no steps")
	}
	key := f.Sequence
	if key == "" {
		newKey := opts.NewKey
		if newKey == nil {
			newKey = uuid.NewString
		}
		key = newKey()
	}
	if errs := validation.IsValidLabelValue(key); len(errs) > 0 {
		return nil, fmt.Errorf("sequence %q cannot be the label %s: %s", key, batonv1.LabelSequence, errs[0])
	}
	count := len(f.Steps)
	cmds := make([]upstream.OperatorCommand, 0, count)
	names := map[string]int{}
	for i, step := range f.Steps {
		cmd, err := buildStep(key, i, count, step, f.TTL, opts)
		if err != nil {
			return nil, fmt.Errorf("step %d (%s): %w", i, orDefault(step.Name, step.Type), err)
		}
		if j, dup := names[cmd.Name]; dup {
			return nil, fmt.Errorf("steps %d and %d are both named %q", j, i, cmd.Name)
		}
		names[cmd.Name] = i
		cmds = append(cmds, cmd)
	}
	return cmds, nil
}

func buildStep(key string, position, count int, step Step, defaultTTL Duration, opts Options) (upstream.OperatorCommand, error) {
	name := step.Name
	if name == "" {
		name = fmt.Sprintf("%s-%d", key, position)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return upstream.OperatorCommand{}, fmt.Errorf("name %q is not a valid object name: %s", name, errs[0])
	}
	if step.Type == "" {
		return upstream.OperatorCommand{}, errors.New("type is required")
	}
	index := position
	if step.Batch != nil {
		index = *step.Batch
	}
	if index < 0 {
		return upstream.OperatorCommand{}, fmt.Errorf("batch %d is negative", index)
	}
	if step.Retries < 0 {
		return upstream.OperatorCommand{}, fmt.Errorf("retries %d is negative", step.Retries)
	}
	ttl := step.TTL
	if ttl == 0 {
		ttl = defaultTTL
	}
	if ttl < 0 {
		return upstream.OperatorCommand{}, fmt.Errorf("ttl %s is negative", time.Duration(ttl))
	}
	annotations := map[string]string{batonv1.AnnotationStep: name}
	if step.When != "" {
		annotations[batonv1.AnnotationWhen] = step.When
	}
	if step.Retries > 0 {
		annotations[batonv1.AnnotationRetries] = strconv.Itoa(step.Retries)
	}
	if step.ContinueOnFailure {
		annotations[batonv1.AnnotationContinueOnFailure] = "true"
	}
	executor := step.Executor
	if executor == "" {
		executor = opts.Executor
	}
	if executor != "" {
		held, err := GateLabels(executor)
		if err != nil {
			return upstream.OperatorCommand{}, err
		}
		annotations[batonv1.AnnotationGateLabels] = held
	}
	body, err := encodeBody(step.Body)
	if err != nil {
		return upstream.OperatorCommand{}, err
	}
	return upstream.OperatorCommand{
		TypeMeta: metav1.TypeMeta{APIVersion: batonv1.GroupVersion.String(), Kind: "OperatorCommand"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   opts.Namespace,
			Labels:      map[string]string{batonv1.LabelSequence: key},
			Annotations: annotations,
		},
		Spec: upstream.OperatorCommandSpec{
			GUID:         key,
			CommandType:  step.Type,
			TTL:          time.Duration(ttl),
			Args:         maps.Clone(step.Args),
			Body:         body,
			CommandIndex: &index,
			CommandCount: &count,
		},
	}, nil
}

// encodeBody is spec.body for a step's body: a string or []byte as its bytes, JSON text
// (json.RawMessage) as it is, anything else as its JSON; nil for none.
func encodeBody(body any) ([]byte, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(b), nil
	case json.RawMessage:
		return slices.Clone(b), nil
	case []byte:
		return slices.Clone(b), nil
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	return data, nil
}

// GateLabels is the kubescape.io/gate-labels annotation value that holds back a command
// for the executor: {"kubescape.io/app-name": executor}.
func GateLabels(executor string) (string, error) {
	if errs := validation.IsValidLabelValue(executor); len(errs) > 0 {
		return "", fmt.Errorf("executor %q cannot be the label %s: %s", executor, batonv1.LabelAppName, errs[0])
	}
	data, err := json.Marshal(map[string]string{batonv1.LabelAppName: executor})
	return string(data), err
}

// Name is the name baton gives the CommandSequence of a key.
func Name(key string) string { return batonv1.SequenceName(key) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
