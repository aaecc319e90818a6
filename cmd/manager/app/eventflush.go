package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// eventFlushTimeout bounds an Event write that outlives the manager.
const eventFlushTimeout = 10 * time.Second

// eventFlush lets the manager's last Events reach the API server. controller-runtime stops
// its event broadcaster after every runnable stopped, then at once cancels the context of
// the writes still in flight, and a sequence's end event, recorded as it finished, would be
// lost on SIGTERM (client-go logs "Unable to write event ... context canceled"). eventFlush
// sits in the manager's transport: an Event write keeps going when that context ends
// (bounded by eventFlushTimeout, well inside a pod's termination grace period), and Run
// returns only once those writes are done.
type eventFlush struct {
	inFlight sync.WaitGroup
}

func (f *eventFlush) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if !isEventWrite(req) {
			return rt.RoundTrip(req)
		}
		f.inFlight.Add(1)
		defer f.inFlight.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), eventFlushTimeout)
		defer cancel()
		resp, err := rt.RoundTrip(req.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		// The body is read after RoundTrip returns: read it now, within ctx.
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the response to an Event write: %w", err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	})
}

// wait waits for the Event writes in flight.
func (f *eventFlush) wait() { f.inFlight.Wait() }

func isEventWrite(req *http.Request) bool {
	return req.Method != http.MethodGet && strings.Contains(req.URL.Path, "/apis/events.k8s.io/")
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
