package steps

import (
	"errors"
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/batonhq/baton/engine"
)

// waitExpressionMemoryBudget mirrors the engine's budget for one evaluation of a
// kubescape.io/when condition (expr-lang's default is 1e6).
const waitExpressionMemoryBudget = 100_000

// objectExpression is a wait condition written in expr-lang over `object`. engine.Evaluate
// only evaluates over engine.Env, so this compiles against {object} with the engine's
// limits: engine.MaxExpressionLength, engine.MaxExpressionNodes, the same memory budget, and
// now() disabled.
type objectExpression struct {
	source  string
	program *vm.Program
}

func compileObjectExpression(source string) (objectMatcher, error) {
	if len(source) > engine.MaxExpressionLength {
		return nil, fmt.Errorf("condition expression longer than %d bytes", engine.MaxExpressionLength)
	}
	program, err := compileGuarded(source)
	if err != nil {
		return nil, fmt.Errorf("compiling the condition expression: %w", err)
	}
	return &objectExpression{source: source, program: program}, nil
}

func compileGuarded(source string) (p *vm.Program, err error) {
	// The compiler is third-party code fed user input: a panic there is a refusal.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("compiler panic: %v", r)
		}
	}()
	return expr.Compile(source,
		expr.Env(map[string]any{"object": map[string]any{}}),
		expr.AsBool(),
		expr.MaxNodes(engine.MaxExpressionNodes),
		expr.DisableBuiltin("now"),
	)
}

func (e *objectExpression) String() string { return fmt.Sprintf("expression %q", e.source) }

func (e *objectExpression) match(obj map[string]any) (bool, error) {
	machine := vm.VM{MemoryBudget: waitExpressionMemoryBudget}
	out, err := machine.Run(e.program, map[string]any{"object": obj})
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, errors.New("condition expression did not return a bool")
	}
	return b, nil
}
