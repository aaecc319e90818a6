package steps_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/steps"
)

// commandBuilder builds OperatorCommands for tests: newCommand("sleep").Arg(...).Obj().
type commandBuilder struct {
	cmd batonv1.OperatorCommand
}

func newCommand(commandType string) *commandBuilder {
	return &commandBuilder{cmd: batonv1.OperatorCommand{
		ObjectMeta: metav1.ObjectMeta{Name: commandType + "-1", Namespace: "default"},
		Spec:       batonv1.OperatorCommandSpec{GUID: "guid-1", CommandType: commandType},
	}}
}

func (b *commandBuilder) Namespace(ns string) *commandBuilder {
	b.cmd.Namespace = ns
	return b
}

func (b *commandBuilder) Arg(name string, value any) *commandBuilder {
	if b.cmd.Spec.Args == nil {
		b.cmd.Spec.Args = batonv1.Args{}
	}
	b.cmd.Spec.Args[name] = value
	return b
}

func (b *commandBuilder) Body(body string) *commandBuilder {
	b.cmd.Spec.Body = []byte(body)
	return b
}

func (b *commandBuilder) Obj() *batonv1.OperatorCommand {
	return b.cmd.DeepCopy()
}

// request wraps the command in a Request that logs to the test.
func (b *commandBuilder) request(t *testing.T) steps.Request {
	return steps.Request{Command: b.Obj(), Logger: testr.New(t)}
}

// cancelled returns a context that has already ended.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// within returns a context ending after d, cancelled when the test ends.
func within(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func metaName(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }
