package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// objectMatcher decides whether an observed object is what a wait step waits for.
type objectMatcher interface {
	// match reports whether obj (an object as the API returns it) matches; an error says
	// it could not tell yet (an expression over a field not set).
	match(obj map[string]any) (bool, error)
	String() string
}

// waitCondition is args.condition in its object form.
type waitCondition struct {
	Type       string `json:"type"`
	Status     string `json:"status"`
	Expression string `json:"expression"`
}

// parseWaitCondition reads args.condition: {type, status} (status defaults to "True"),
// {expression}, or a string, which is an expression.
func parseWaitCondition(raw json.RawMessage) (objectMatcher, error) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		return nil, errors.New("args.condition is required")
	}
	var c waitCondition
	if strings.HasPrefix(trimmed, `"`) {
		if err := json.Unmarshal(raw, &c.Expression); err != nil {
			return nil, fmt.Errorf("decoding args.condition: %w", err)
		}
	} else if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("args.condition must be {type, status}, {expression} or a string: %w", err)
	}
	switch {
	case c.Type != "" && c.Expression != "":
		return nil, errors.New("args.condition: give type or expression, not both")
	case c.Type != "":
		if c.Status == "" {
			c.Status = "True"
		}
		return statusCondition{conditionType: c.Type, status: c.Status}, nil
	case c.Expression != "":
		return compileObjectExpression(c.Expression)
	default:
		return nil, errors.New("args.condition needs a type or an expression")
	}
}

// statusCondition matches an object whose status.conditions holds an entry of the type
// with the status (compared case-insensitively, as kubectl wait does) that is not stale:
// when the entry has observedGeneration, it must have caught up with metadata.generation.
type statusCondition struct {
	conditionType, status string
}

func (c statusCondition) String() string {
	return fmt.Sprintf("condition %s=%s", c.conditionType, c.status)
}

func (c statusCondition) match(obj map[string]any) (bool, error) {
	status, _ := obj["status"].(map[string]any)
	conditions, _ := status["conditions"].([]any)
	for _, item := range conditions {
		cond, _ := item.(map[string]any)
		if cond["type"] != c.conditionType {
			continue
		}
		got, _ := cond["status"].(string)
		if !strings.EqualFold(got, c.status) {
			return false, nil
		}
		meta, _ := obj["metadata"].(map[string]any)
		observed, hasObserved := asInt64(cond["observedGeneration"])
		generation, hasGeneration := asInt64(meta["generation"])
		return !hasObserved || !hasGeneration || observed >= generation, nil
	}
	return false, nil
}

func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}
