package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestEventFlush: an Event write in flight when the manager's context ends is still
// written, and Run returns only after it; other requests are cancelled
// as usual.
func TestEventFlush(t *testing.T) {
	arrived, release := make(chan struct{}, 2), make(chan struct{})
	var responded atomic.Bool
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		responded.Store(true)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"kind":"Event"}`)
	}))
	defer server.Close()
	flush := &eventFlush{}
	c := &http.Client{Transport: flush.wrap(http.DefaultTransport)}

	send := func(ctx context.Context, path string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, server.URL+path, strings.NewReader("{}"))
		if err != nil {
			return "", err
		}
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.Status + " " + string(body), err
	}
	type result struct {
		out string
		err error
	}
	ctx, cancel := context.WithCancel(context.Background())
	event, other := make(chan result, 1), make(chan result, 1)
	go func() {
		out, err := send(ctx, "/apis/events.k8s.io/v1/namespaces/default/events")
		event <- result{out, err}
	}()
	go func() {
		out, err := send(ctx, "/apis/kubescape.io/v1alpha1/namespaces/default/operatorcommands")
		other <- result{out, err}
	}()
	<-arrived
	<-arrived
	cancel() // the manager stops while both are in flight
	if r := <-other; !errors.Is(r.err, context.Canceled) {
		t.Errorf("another write: %q, %v; want it cancelled", r.out, r.err)
	}
	close(release)
	flush.wait()
	if !responded.Load() {
		t.Error("wait returned before the Event write in flight was answered")
	}
	if r := <-event; r.err != nil || r.out != `201 Created {"kind":"Event"}` {
		t.Errorf("the Event write: %q, %v; want it written", r.out, r.err)
	}
}
