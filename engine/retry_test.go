package engine

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestRetryDelay(t *testing.T) {
	cases := map[string]struct {
		opts    Options
		attempt int
		want    time.Duration
	}{
		"defaults, first failure":        {attempt: 1, want: time.Second},
		"defaults, doubles":              {attempt: 4, want: 8 * time.Second},
		"defaults, capped at 5m":         {attempt: 20, want: 5 * time.Minute},
		"an absurd attempt stays capped": {attempt: math.MaxInt, want: 5 * time.Minute},
		"attempt 0 or less is the first": {attempt: -3, want: time.Second},
		"custom base and cap":            {opts: Options{RetryBaseDelay: 100 * time.Millisecond, RetryMaxDelay: time.Second}, attempt: 3, want: 400 * time.Millisecond},
		"custom cap reached":             {opts: Options{RetryBaseDelay: 100 * time.Millisecond, RetryMaxDelay: time.Second}, attempt: 5, want: time.Second},
		"base above cap is the cap":      {opts: Options{RetryBaseDelay: time.Hour, RetryMaxDelay: time.Minute}, attempt: 1, want: time.Minute},
		"a huge cap does not overflow":   {opts: Options{RetryMaxDelay: math.MaxInt64}, attempt: 100, want: math.MaxInt64},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := RetryDelay(tc.opts, tc.attempt); got != tc.want {
				t.Errorf("RetryDelay(%+v, %d) = %v, want %v", tc.opts, tc.attempt, got, tc.want)
			}
		})
	}
}

func TestRetryFits(t *testing.T) {
	cases := map[string]struct {
		attempt  int
		deadline time.Time
		want     bool
	}{
		"no deadline":               {attempt: 50, want: true},
		"fits before the TTL":       {attempt: 1, deadline: at(2 * time.Second), want: true},
		"would start at the TTL":    {attempt: 2, deadline: at(2 * time.Second), want: false},
		"would start after the TTL": {attempt: 3, deadline: at(2 * time.Second), want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := RetryFits(Options{}, tc.attempt, t0, tc.deadline); got != tc.want {
				t.Errorf("RetryFits(%d, %v) = %v, want %v", tc.attempt, tc.deadline, got, tc.want)
			}
		})
	}
}

func TestCheckPayload(t *testing.T) {
	cases := map[string]struct {
		opts Options
		size int
		want error
	}{
		"under the limit":        {opts: Options{MaxPayloadBytes: 10}, size: 10},
		"over the limit":         {opts: Options{MaxPayloadBytes: 10}, size: 11, want: &ReasonError{Reason: batonv1.ReasonPayloadTooLarge, Message: "payload is 11 bytes, over the limit of 10 (--max-payload-bytes)"}},
		"zero takes the default": {size: DefaultMaxPayloadBytes},
		"over the default":       {size: DefaultMaxPayloadBytes + 1, want: &ReasonError{Reason: batonv1.ReasonPayloadTooLarge, Message: "payload is 262145 bytes, over the limit of 262144 (--max-payload-bytes)"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckPayload(tc.opts, make([]byte, tc.size))
			if diff := cmp.Diff(tc.want, err); diff != "" {
				t.Errorf("CheckPayload (-want +got):\n%s", diff)
			}
			var re *ReasonError
			if err != nil && (!errors.As(err, &re) || err.Error() != re.Reason+": "+re.Message) {
				t.Errorf("CheckPayload error %v is not a ReasonError", err)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	cases := map[string]struct {
		annotations map[string]string
		want        int
		wantErr     bool
	}{
		"absent":         {want: 0},
		"nil map":        {annotations: nil, want: 0},
		"zero":           {annotations: map[string]string{batonv1.AnnotationRetries: "0"}, want: 0},
		"spaces allowed": {annotations: map[string]string{batonv1.AnnotationRetries: " 3 "}, want: 3},
		"the maximum":    {annotations: map[string]string{batonv1.AnnotationRetries: "100"}, want: 100},
		"too many":       {annotations: map[string]string{batonv1.AnnotationRetries: "101"}, wantErr: true},
		"negative":       {annotations: map[string]string{batonv1.AnnotationRetries: "-1"}, wantErr: true},
		"empty":          {annotations: map[string]string{batonv1.AnnotationRetries: ""}, wantErr: true},
		"a float":        {annotations: map[string]string{batonv1.AnnotationRetries: "1.5"}, wantErr: true},
		"overflow":       {annotations: map[string]string{batonv1.AnnotationRetries: "99999999999999999999"}, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Retries(tc.annotations)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("Retries(%v) = %d, %v; want %d, error %v", tc.annotations, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
