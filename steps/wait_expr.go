package steps

import (
	"errors"
	"fmt"

	"github.com/expr-lang/expr/vm"

	"github.com/batonhq/baton/engine"
)

// objectExpression is a wait condition written in expr-lang over `object`, compiled and run
// by the engine with the limits of every baton expression.
type objectExpression struct {
	source  string
	program *vm.Program
}

func compileObjectExpression(source string) (objectMatcher, error) {
	program, err := engine.CompileExpression(source, map[string]any{"object": map[string]any{}}, true)
	if err != nil {
		return nil, fmt.Errorf("the condition expression: %w", err)
	}
	return &objectExpression{source: source, program: program}, nil
}

func (e *objectExpression) String() string { return fmt.Sprintf("expression %q", e.source) }

func (e *objectExpression) match(obj map[string]any) (bool, error) {
	out, err := engine.RunExpression(e.program, map[string]any{"object": obj})
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, errors.New("condition expression did not return a bool")
	}
	return b, nil
}
