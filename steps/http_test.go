package steps_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/steps"
)

// echoServer answers with what it received: method, content type, a header and the body.
func echoServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		_, _ = fmt.Fprintf(w, "%s %s ct=%s x=%s body=%s", r.Method, r.URL.Path,
			r.Header.Get("Content-Type"), r.Header.Get("X-Test"), body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func newHTTP(t *testing.T, allow ...string) *steps.HTTP {
	t.Helper()
	h, err := steps.NewHTTP(allow, nil)
	if err != nil {
		t.Fatalf("NewHTTP: %v", err)
	}
	return h
}

func TestHTTPSuccess(t *testing.T) {
	srv, _ := echoServer(t)
	cases := map[string]struct {
		cmd  *commandBuilder
		body string
	}{
		"GET by default": {
			cmd:  newCommand("http").Arg("url", srv.URL+"/get"),
			body: "GET /get ct= x= body=",
		},
		"string body and headers": {
			cmd: newCommand("http").Arg("url", srv.URL+"/post").Arg("method", "post").
				Arg("headers", map[string]any{"X-Test": "yes", "Content-Type": "text/csv"}).Arg("body", "a,b"),
			body: "POST /post ct=text/csv x=yes body=a,b",
		},
		"object body is JSON": {
			cmd:  newCommand("http").Arg("url", srv.URL+"/j").Arg("method", "PUT").Arg("body", map[string]any{"k": "v"}),
			body: `PUT /j ct=application/json x= body={"k":"v"}`,
		},
		"command body when args have none": {
			cmd:  newCommand("http").Arg("url", srv.URL+"/b").Arg("method", "POST").Body("raw bytes"),
			body: "POST /b ct= x= body=raw bytes",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := newHTTP(t, "127.0.0.1").Run(within(t, 10*time.Second), tc.cmd.request(t))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			resp := got.(*steps.HTTPResponse)
			want := &steps.HTTPResponse{StatusCode: 200, Body: tc.body, Headers: resp.Headers}
			if diff := cmp.Diff(want, resp); diff != "" {
				t.Fatalf("payload (-want +got):\n%s", diff)
			}
			if resp.Headers["X-Multi"] != "a, b" || resp.Headers["Content-Type"] != "text/plain; charset=utf-8" {
				t.Fatalf("headers: %v", resp.Headers)
			}
		})
	}
}

func TestHTTPHostPolicy(t *testing.T) {
	srv, hits := echoServer(t)
	cases := map[string][]string{
		"off by default":         nil,
		"other host":             {"*.example.com"},
		"localhost is not an IP": {"localhost"},
	}
	for name, allow := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := newHTTP(t, allow...).Run(within(t, 10*time.Second),
				newCommand("http").Arg("url", srv.URL).request(t))
			if err == nil || !strings.Contains(err.Error(), "not allowed") || steps.IsRetryable(err) {
				t.Fatalf("err = %v, want a permanent refusal", err)
			}
		})
	}
	if hits.Load() != 0 {
		t.Fatalf("a refused request reached the server %d times", hits.Load())
	}
	if _, err := newHTTP(t, "127.0.0.*").Run(within(t, 10*time.Second),
		newCommand("http").Arg("url", srv.URL).request(t)); err != nil {
		t.Fatalf("a glob matching 127.0.0.1 was refused: %v", err)
	}
}

func TestHTTPRedirects(t *testing.T) {
	target, targetHits := echoServer(t)
	u, _ := url.Parse(target.URL)
	viaLocalhost := "http://localhost:" + u.Port() + "/landed"
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-allowed":
			http.Redirect(w, r, target.URL+"/landed", http.StatusFound)
		case "/to-denied":
			http.Redirect(w, r, viaLocalhost, http.StatusFound)
		default:
			http.Redirect(w, r, r.URL.Path, http.StatusFound) // a loop
		}
	}))
	t.Cleanup(redirector.Close)
	h := newHTTP(t, "127.0.0.1")

	got, err := h.Run(within(t, 10*time.Second), newCommand("http").Arg("url", redirector.URL+"/to-allowed").request(t))
	if err != nil || got.(*steps.HTTPResponse).Body != "GET /landed ct= x= body=" {
		t.Fatalf("allowed redirect: %v, %v", got, err)
	}
	before := targetHits.Load()
	_, err = h.Run(within(t, 10*time.Second), newCommand("http").Arg("url", redirector.URL+"/to-denied").request(t))
	if err == nil || !strings.Contains(err.Error(), `"localhost": host not allowed`) || steps.IsRetryable(err) {
		t.Fatalf("redirect to a denied host: err = %v, want a permanent refusal", err)
	}
	if targetHits.Load() != before {
		t.Fatal("the denied redirect target was reached")
	}
	_, err = h.Run(within(t, 10*time.Second), newCommand("http").Arg("url", redirector.URL+"/loop").request(t))
	if err == nil || !strings.Contains(err.Error(), "too many redirects") || steps.IsRetryable(err) {
		t.Fatalf("redirect loop: err = %v, want a permanent error", err)
	}
}

func TestHTTPStatusErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		_, _ = fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/"), "%d", &code)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "detail "+strings.Repeat("x", 1000))
	}))
	t.Cleanup(srv.Close)
	cases := map[string]struct {
		code      int
		retryable bool
	}{
		"not found is permanent":       {404, false},
		"bad request is permanent":     {400, false},
		"server error is retryable":    {500, true},
		"unavailable is retryable":     {503, true},
		"too many requests retryable":  {429, true},
		"request timeout is retryable": {408, true},
		"not modified is an error":     {304, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := newHTTP(t, "127.0.0.1").Run(within(t, 10*time.Second),
				newCommand("http").Arg("url", fmt.Sprintf("%s/%d", srv.URL, tc.code)).request(t))
			var httpErr *steps.HTTPError
			if !errors.As(err, &httpErr) || httpErr.StatusCode != tc.code {
				t.Fatalf("err = %v, want an HTTPError with code %d", err, tc.code)
			}
			if steps.IsRetryable(err) != tc.retryable {
				t.Fatalf("retryable = %v, want %v", steps.IsRetryable(err), tc.retryable)
			}
			if tc.code != 304 && (!strings.Contains(err.Error(), "detail xx") || len(err.Error()) > 700) {
				t.Fatalf("message should quote the start of the body, briefly: %q", err.Error())
			}
		})
	}
}

func TestHTTPBodyCapAndEncoding(t *testing.T) {
	big := strings.Repeat("é", steps.HTTPMaxBodyBytes) // 2 bytes each: twice the cap
	binary := []byte{0xff, 0xfe, 0x00, 0x01}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			_, _ = io.WriteString(w, big)
			return
		}
		_, _ = w.Write(binary)
	}))
	t.Cleanup(srv.Close)
	h := newHTTP(t, "127.0.0.1")

	got, err := h.Run(within(t, 10*time.Second), newCommand("http").Arg("url", srv.URL+"/big").request(t))
	if err != nil {
		t.Fatalf("big: %v", err)
	}
	resp := got.(*steps.HTTPResponse)
	if !resp.Truncated || len(resp.Body) != steps.HTTPMaxBodyBytes || resp.Body != big[:steps.HTTPMaxBodyBytes] {
		t.Fatalf("big body: truncated=%v len=%d", resp.Truncated, len(resp.Body))
	}

	got, err = h.Run(within(t, 10*time.Second), newCommand("http").Arg("url", srv.URL+"/bin").request(t))
	if err != nil {
		t.Fatalf("binary: %v", err)
	}
	resp = got.(*steps.HTTPResponse)
	if resp.BodyEncoding != "base64" || resp.Body != base64.StdEncoding.EncodeToString(binary) || resp.Truncated {
		t.Fatalf("binary body: %+v", resp)
	}
}

func TestHTTPTimeoutAndCancellation(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	h := newHTTP(t, "127.0.0.1")

	_, err := h.Run(within(t, 10*time.Second),
		newCommand("http").Arg("url", srv.URL).Arg("timeout", "50ms").request(t))
	if err == nil || !strings.Contains(err.Error(), "args.timeout passed") || !steps.IsRetryable(err) {
		t.Fatalf("args.timeout: err = %v, want a retryable timeout", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = h.Run(ctx, newCommand("http").Arg("url", srv.URL).request(t))
	if !errors.Is(err, context.Canceled) || steps.IsRetryable(err) {
		t.Fatalf("cancelled: err = %v, want permanent context.Canceled", err)
	}
}

func TestHTTPTransportFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String()
	_ = ln.Close()
	_, err = newHTTP(t, "127.0.0.1").Run(within(t, 10*time.Second), newCommand("http").Arg("url", closedURL).request(t))
	if err == nil || !steps.IsRetryable(err) {
		t.Fatalf("connection refused: err = %v, want retryable", err)
	}

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(tlsSrv.Close)
	_, err = newHTTP(t, "127.0.0.1").Run(within(t, 10*time.Second), newCommand("http").Arg("url", tlsSrv.URL).request(t))
	if err == nil || !strings.Contains(err.Error(), "certificate") || steps.IsRetryable(err) {
		t.Fatalf("untrusted certificate: err = %v, want permanent", err)
	}
	trusting, err := steps.NewHTTP([]string{"127.0.0.1"}, tlsSrv.Client().Transport)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trusting.Run(within(t, 10*time.Second), newCommand("http").Arg("url", tlsSrv.URL).request(t)); err != nil {
		t.Fatalf("with the server's CA in the transport: %v", err)
	}
}

func TestHTTPBadArgs(t *testing.T) {
	cases := map[string]struct {
		cmd  *commandBuilder
		want string
	}{
		"no url":        {newCommand("http"), "args.url is required"},
		"bad scheme":    {newCommand("http").Arg("url", "file:///etc/passwd"), `scheme "file"`},
		"no host":       {newCommand("http").Arg("url", "http:///path"), "has no host"},
		"bad timeout":   {newCommand("http").Arg("url", "http://127.0.0.1/").Arg("timeout", "soon"), "args.timeout"},
		"zero timeout":  {newCommand("http").Arg("url", "http://127.0.0.1/").Arg("timeout", "0s"), "args.timeout"},
		"headers shape": {newCommand("http").Arg("url", "http://127.0.0.1/").Arg("headers", []any{"x"}), "decoding args"},
		"bad method":    {newCommand("http").Arg("url", "http://127.0.0.1/").Arg("method", "G T"), "building the request"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := newHTTP(t, "127.0.0.1").Run(within(t, 10*time.Second), tc.cmd.request(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) || steps.IsRetryable(err) {
				t.Fatalf("err = %v, want a permanent error containing %q", err, tc.want)
			}
		})
	}
}

func TestNewHTTPRejectsBadPatterns(t *testing.T) {
	if _, err := steps.NewHTTP([]string{"ok.example.com", "[bad"}, nil); err == nil {
		t.Fatal("a malformed pattern was accepted")
	}
}
