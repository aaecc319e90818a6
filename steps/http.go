package steps

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// HTTPMaxBodyBytes caps the response body the http step keeps in its payload; the rest
	// is dropped and the payload says truncated.
	HTTPMaxBodyBytes = 64 << 10
	// HTTPDefaultTimeout bounds a request whose args name no timeout.
	HTTPDefaultTimeout = 30 * time.Second
	// httpMaxRedirects is how many redirects the http step follows, as Go's client does.
	httpMaxRedirects = 10
	// httpErrorBodyBytes is how much of a failed response's body its error quotes.
	httpErrorBodyBytes = 512
)

var errTooManyRedirects = errors.New("stopped after too many redirects")

// HTTP is the http step: one HTTP request. It is off for every host unless the manager's
// --http-allow flag lists patterns that match the URL's hostname (path.Match globs such as
// "*.example.com" or "127.0.0.1"; a port is not part of the match); every redirect target
// is checked the same way, so an allowed host cannot bounce the request elsewhere.
// Hostnames are matched as written, before DNS.
//
// Args:
//   - url (required): an http or https URL.
//   - method: default GET.
//   - headers: an object of header name to string value.
//   - body: a string is sent as it is; any other JSON value is sent JSON-encoded with
//     Content-Type application/json unless headers set one. Without body, the command's
//     spec.body bytes, if any, are sent.
//   - timeout: a Go duration string bounding the whole request, default 30s; the command's
//     TTL bounds it too.
//
// Payload: {"statusCode": 200, "headers": {"Content-Type": "..."}, "body": "...",
// "bodyEncoding": "base64", "truncated": true}. Header values of one name are joined with
// ", ". body is the response body as text, or base64 (with bodyEncoding "base64") when it
// is not UTF-8, and holds at most HTTPMaxBodyBytes (64 KiB) of it; truncated is set when
// there was more. Parse a JSON body in a condition with fromJSON(steps.x.payload.body).
//
// Errors: a host the allowlist refuses, bad args, a TLS verification failure, more than 10
// redirects and a 4xx response are permanent; a 5xx, 408 or 429 response ([*HTTPError]), a connection failure
// and args.timeout passing are retryable. The request is not idempotent as far as baton
// knows, so HTTP does not implement [Idempotent].
type HTTP struct {
	policy hostPolicy
	client *http.Client
}

var (
	_ Handler      = (*HTTP)(nil)
	_ StepsIgnorer = (*HTTP)(nil)
)

// NewHTTP returns the http step allowing the hosts that match allow. transport sends the
// requests; nil means a clone of http.DefaultTransport.
func NewHTTP(allow []string, transport http.RoundTripper) (*HTTP, error) {
	policy, err := newHostPolicy(allow)
	if err != nil {
		return nil, err
	}
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	h := &HTTP{policy: policy}
	h.client = &http.Client{Transport: transport, CheckRedirect: h.checkRedirect}
	return h, nil
}

func (h *HTTP) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= httpMaxRedirects {
		return fmt.Errorf("%w (%d)", errTooManyRedirects, httpMaxRedirects)
	}
	if err := h.policy.check(req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
	}
	return nil
}

// HTTPResponse is the http step's payload.
type HTTPResponse struct {
	StatusCode   int               `json:"statusCode"`
	Headers      map[string]string `json:"headers"`
	Body         string            `json:"body"`
	BodyEncoding string            `json:"bodyEncoding,omitempty"`
	Truncated    bool              `json:"truncated,omitempty"`
}

// HTTPError is a response outside 2xx.
type HTTPError struct {
	Method     string
	URL        string
	StatusCode int
	Status     string
	// Body is the start of the response body, for the error message.
	Body string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("http %s %s: %s", e.Method, e.URL, e.Status)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

type httpArgs struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	Timeout string            `json:"timeout"`
}

// Run sends the request and reads the response.
func (h *HTTP) Run(ctx context.Context, req Request) (any, error) {
	var args httpArgs
	if err := req.DecodeArgs(&args); err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	timeout := HTTPDefaultTimeout
	if args.Timeout != "" {
		d, err := time.ParseDuration(args.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("http: args.timeout %q is not a positive Go duration", args.Timeout)
		}
		timeout = d
	}
	reqCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	httpReq, err := h.newRequest(reqCtx, args, req)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	target := fmt.Sprintf("%s %s", httpReq.Method, httpReq.URL.Redacted())
	req.Logger.V(1).Info("sending http request", "request", target)
	resp, err := h.client.Do(httpReq)
	if err != nil {
		return nil, classifyHTTPError(ctx, reqCtx, target, err)
	}
	defer func() { _ = resp.Body.Close() }()
	out, err := readHTTPResponse(resp)
	if err != nil {
		return nil, classifyHTTPError(ctx, reqCtx, target, fmt.Errorf("reading the response: %w", err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, statusError(httpReq, resp, out)
	}
	return out, nil
}

func (h *HTTP) newRequest(ctx context.Context, args httpArgs, req Request) (*http.Request, error) {
	if args.URL == "" {
		return nil, errors.New("args.url is required")
	}
	u, err := url.Parse(args.URL)
	if err != nil {
		return nil, fmt.Errorf("parsing args.url: %w", err)
	}
	if err := h.policy.check(u); err != nil {
		return nil, err
	}
	method := strings.ToUpper(args.Method)
	if method == "" {
		method = http.MethodGet
	}
	body, jsonBody, err := httpRequestBody(args.Body, req)
	if err != nil {
		return nil, err
	}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	httpReq, err := http.NewRequestWithContext(ctx, method, u.String(), reader)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	for name, value := range args.Headers {
		httpReq.Header.Set(name, value)
	}
	if jsonBody && httpReq.Header.Get("Content-Type") == "" {
		httpReq.Header.Set("Content-Type", "application/json")
	}
	return httpReq, nil
}

// httpRequestBody returns the bytes to send and whether they are JSON the step encoded.
func httpRequestBody(raw json.RawMessage, req Request) ([]byte, bool, error) {
	trimmed := strings.TrimSpace(string(raw))
	switch {
	case trimmed == "" || trimmed == "null":
		if req.Command != nil && len(req.Command.Spec.Body) > 0 {
			return req.Command.Spec.Body, false, nil
		}
		return nil, false, nil
	case strings.HasPrefix(trimmed, `"`):
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false, fmt.Errorf("decoding args.body: %w", err)
		}
		return []byte(s), false, nil
	default:
		return []byte(trimmed), true, nil
	}
}

func readHTTPResponse(resp *http.Response) (*HTTPResponse, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, HTTPMaxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	out := &HTTPResponse{StatusCode: resp.StatusCode, Headers: map[string]string{}}
	if len(data) > HTTPMaxBodyBytes {
		data, out.Truncated = data[:HTTPMaxBodyBytes], true
	}
	for name, values := range resp.Header {
		out.Headers[name] = strings.Join(values, ", ")
	}
	text := data
	if out.Truncated {
		text = trimPartialRune(data)
	}
	if utf8.Valid(text) {
		out.Body = string(text)
	} else {
		out.Body, out.BodyEncoding = base64.StdEncoding.EncodeToString(data), "base64"
	}
	return out, nil
}

// trimPartialRune drops an incomplete UTF-8 sequence that truncation left at the end.
func trimPartialRune(data []byte) []byte {
	for i := 1; i < utf8.UTFMax && i <= len(data); i++ {
		if utf8.RuneStart(data[len(data)-i]) {
			if !utf8.FullRune(data[len(data)-i:]) {
				return data[:len(data)-i]
			}
			break
		}
	}
	return data
}

func statusError(req *http.Request, resp *http.Response, out *HTTPResponse) error {
	body := out.Body
	if out.BodyEncoding != "" {
		body = ""
	}
	if len(body) > httpErrorBodyBytes {
		body = string(trimPartialRune([]byte(body[:httpErrorBodyBytes]))) + "..."
	}
	err := &HTTPError{
		Method: req.Method, URL: req.URL.Redacted(),
		StatusCode: resp.StatusCode, Status: resp.Status, Body: body,
	}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusRequestTimeout:
		return Retryable(err)
	default:
		return err
	}
}

// classifyHTTPError says why a request failed: the command's context ending (permanent),
// the host policy or TLS verification (permanent), or a transient failure (retryable).
func classifyHTTPError(ctx, reqCtx context.Context, target string, err error) error {
	wrapped := fmt.Errorf("http %s: %w", target, err)
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verification *tls.CertificateVerificationError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("http %s: %w", target, ctx.Err())
	case errors.Is(err, errHostNotAllowed), errors.Is(err, errTooManyRedirects),
		errors.As(err, &unknownAuthority), errors.As(err, &hostname),
		errors.As(err, &invalid), errors.As(err, &verification):
		return wrapped
	case reqCtx.Err() != nil:
		return Retryable(fmt.Errorf("http %s: args.timeout passed: %w", target, err))
	default:
		return Retryable(wrapped)
	}
}

// IgnoresSteps is true: http reads only its own args.
func (*HTTP) IgnoresSteps() bool { return true }
