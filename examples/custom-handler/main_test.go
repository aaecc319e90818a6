package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/steps"
)

// TestGreetInASequence runs this program's registry — greet beside the built-ins — in the
// full manager on a real API server, after a built-in step.
func TestGreetInASequence(t *testing.T) {
	ctx := context.Background()
	registry := steps.NewRegistry()
	registry.MustRegister("greet", "", Greet{})
	cluster, err := localcluster.Start(ctx, registry)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	c := cluster.Client
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "greet"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct{ name, commandType string }{{"first", "noop"}, {"hello", "greet"}} {
		index, count := i, 2
		cmd := &batonv1.OperatorCommand{
			ObjectMeta: metav1.ObjectMeta{Namespace: "greet", Name: step.name, Labels: map[string]string{batonv1.LabelSequence: "greeting"}},
			Spec: batonv1.OperatorCommandSpec{
				GUID: step.name, CommandType: step.commandType, CommandIndex: &index, CommandCount: &count,
				Args: batonv1.Args{"name": "baton"},
			},
		}
		if err := c.Create(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}

	var seq batonv1.CommandSequence
	deadline := time.Now().Add(time.Minute)
	for !seq.Status.Phase.Terminal() {
		if time.Now().After(deadline) {
			t.Fatalf("sequence not finished after a minute: %+v", seq.Status)
		}
		time.Sleep(200 * time.Millisecond)
		_ = c.Get(ctx, client.ObjectKey{Namespace: "greet", Name: "greeting"}, &seq)
	}
	if seq.Status.Phase != batonv1.SequenceSucceeded {
		t.Fatalf("sequence phase = %s (%s), want Succeeded", seq.Status.Phase, seq.Status.Message)
	}
	hello := seq.Status.Report.Members[1]
	var payload map[string]string
	if err := json.Unmarshal(hello.Payload.Raw, &payload); err != nil {
		t.Fatal(err)
	}
	if hello.Name != "hello" || payload["greeting"] != "hello, baton" {
		t.Errorf("report member = %s with payload %v, want hello with greeting \"hello, baton\"", hello.Name, payload)
	}
}

func TestGreetNeedsAName(t *testing.T) {
	_, err := Greet{}.Run(context.Background(), steps.Request{Command: &batonv1.OperatorCommand{}})
	if err == nil {
		t.Fatal("Greet without args.name succeeded")
	}
}
