package engine

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Limits on an expression (kubescape.io/when and the expr step). Past them an expression is
// refused at compile time: a condition is then InvalidCondition.
const (
	// MaxExpressionLength is the longest expression accepted, in bytes.
	MaxExpressionLength = 4096
	// MaxExpressionNodes bounds the expression's syntax tree.
	MaxExpressionNodes = 1000
	// expressionMemoryBudget bounds what one evaluation may allocate (ranges, maps, ...),
	// in the vm's units; the library default is 1e6.
	expressionMemoryBudget = 100_000
	// programCacheSize bounds the number of compiled programs kept.
	programCacheSize = 1024
)

// Evaluate compiles expression once (cached) against Env and runs it over env. It returns
// the expression's value. Errors say whether compiling or running failed.
func Evaluate(expression string, env Env) (any, error) {
	p, err := compile(expression, false)
	if err != nil {
		return nil, err
	}
	return RunExpression(p, env)
}

// EvaluateBool is Evaluate for a condition: the result must be a bool.
func EvaluateBool(expression string, env Env) (bool, error) {
	p, err := compile(expression, true)
	if err != nil {
		return false, err
	}
	out, err := RunExpression(p, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("expression returned %s, not bool", typeName(out))
	}
	return b, nil
}

func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return reflect.TypeOf(v).String()
}

var vmPool = sync.Pool{New: func() any { return &vm.VM{} }}

// RunExpression runs a program from CompileExpression over env within the memory budget
// every baton expression gets.
func RunExpression(p *vm.Program, env any) (any, error) {
	machine := vmPool.Get().(*vm.VM)
	defer vmPool.Put(machine)
	machine.MemoryBudget = expressionMemoryBudget
	out, err := machine.Run(p, env)
	if err != nil {
		return nil, fmt.Errorf("evaluating expression: %w", err)
	}
	return out, nil
}

type cacheKey struct {
	expression string
	asBool     bool
}

type compiled struct {
	program *vm.Program
	err     error
}

// programCache keeps compiled programs, failures included, in two generations: lookups hit
// the young one or promote from the old one; when the young one is full the old one is
// dropped. That bounds memory at programCacheSize entries with O(1) work and no list.
type programCache struct {
	mu         sync.Mutex
	young, old map[cacheKey]compiled
}

var programs = &programCache{young: map[cacheKey]compiled{}}

func (c *programCache) get(k cacheKey) (compiled, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.young[k]; ok {
		return v, true
	}
	if v, ok := c.old[k]; ok {
		c.putLocked(k, v)
		return v, true
	}
	return compiled{}, false
}

func (c *programCache) put(k cacheKey, v compiled) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, v)
}

func (c *programCache) putLocked(k cacheKey, v compiled) {
	if len(c.young) >= programCacheSize/2 {
		c.old, c.young = c.young, make(map[cacheKey]compiled, programCacheSize/2)
	}
	c.young[k] = v
}

var errTooLong = fmt.Errorf("expression longer than %d bytes", MaxExpressionLength)

func compile(expression string, asBool bool) (*vm.Program, error) {
	k := cacheKey{expression: expression, asBool: asBool}
	if c, ok := programs.get(k); ok {
		return c.program, c.err
	}
	p, err := CompileExpression(expression, Env{}, asBool)
	programs.put(k, compiled{program: p, err: err})
	return p, err
}

// CompileExpression compiles an expr-lang expression against env (a value of the type it
// will run over) with the limits every baton expression gets: MaxExpressionLength,
// MaxExpressionNodes, no now(). asBool requires a bool result. It does not cache; Evaluate
// and EvaluateBool do.
func CompileExpression(expression string, env any, asBool bool) (p *vm.Program, err error) {
	if len(expression) > MaxExpressionLength {
		return nil, errTooLong
	}
	// The compiler is third-party code fed user input: a panic there is a refusal.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("compiling expression: %v", r)
		}
	}()
	opts := []expr.Option{
		expr.Env(env),
		expr.MaxNodes(MaxExpressionNodes),
		// now() reads the clock; decisions take the time as a parameter.
		expr.DisableBuiltin("now"),
	}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	p, err = expr.Compile(expression, opts...)
	if err != nil {
		return nil, fmt.Errorf("compiling expression: %w", err)
	}
	if p == nil {
		return nil, errors.New("compiling expression: no program")
	}
	return p, nil
}

// firstLine drops the source excerpt expr appends to its errors.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// conditionHolds evaluates the member's kubescape.io/when condition as its gate opens. A
// false condition skips the member (ConditionFalse, which lets the next batch open); a
// condition that does not compile, exceeds the limits, fails to run or is not a bool fails
// it (InvalidCondition). No annotation holds.
func (d *decision) conditionHolds(ms *memberState) bool {
	cond, ok := ms.m.Annotations[batonv1.AnnotationWhen]
	if !ok {
		return true
	}
	holds, err := EvaluateBool(cond, d.envFor(ms))
	switch {
	case err != nil:
		d.finish(ms, batonv1.CommandFailed, batonv1.ReasonInvalidCondition,
			fmt.Sprintf("condition %q: %s", clipTo(cond, 200), firstLine(err.Error())))
		return false
	case !holds:
		d.finish(ms, batonv1.CommandSkipped, batonv1.ReasonConditionFalse,
			fmt.Sprintf("condition %q is false", clipTo(cond, 200)))
		return false
	}
	return true
}
