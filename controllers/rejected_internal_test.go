package controllers

import (
	"errors"
	"fmt"
	"io"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// TestResultRejected: which failed writes are refusals for good (the step fails with
// ResultRejected) and which may succeed if sent again (retried until the TTL).
func TestResultRejected(t *testing.T) {
	gr := schema.GroupResource{Group: batonv1.GroupVersion.Group, Resource: "operatorcommands"}
	tooLarge := apierrors.NewInternalError(errors.New("etcdserver: request is too large"))
	for name, tc := range map[string]struct {
		err                 error
		rejected, transient bool
	}{
		"400":                        {err: apierrors.NewBadRequest("bad"), rejected: true},
		"403":                        {err: apierrors.NewForbidden(gr, "x", errors.New("denied")), rejected: true},
		"413":                        {err: apierrors.NewRequestEntityTooLargeError("limit is 3145728"), rejected: true},
		"422":                        {err: apierrors.NewInvalid(batonv1.GroupVersion.WithKind("OperatorCommand").GroupKind(), "x", nil), rejected: true},
		"etcd: request is too large": {err: tooLarge, rejected: true},
		"wrapped 422": {err: fmt.Errorf("writing the status of command x: %w",
			apierrors.NewInvalid(batonv1.GroupVersion.WithKind("OperatorCommand").GroupKind(), "x", nil)), rejected: true},
		"503":              {err: apierrors.NewServiceUnavailable("later"), transient: true},
		"other 500":        {err: apierrors.NewInternalError(errors.New("etcdserver: leader changed")), transient: true},
		"timeout":          {err: apierrors.NewTimeoutError("slow", 1), transient: true},
		"connection reset": {err: fmt.Errorf("patch: %w", io.ErrUnexpectedEOF), transient: true},
		"429":              {err: apierrors.NewTooManyRequests("slow down", 1), transient: true},
	} {
		t.Run(name, func(t *testing.T) {
			if got := isRejected(tc.err); got != tc.rejected {
				t.Errorf("isRejected(%v) = %t, want %t", tc.err, got, tc.rejected)
			}
			if got := isTransient(tc.err); got != tc.transient {
				t.Errorf("isTransient(%v) = %t, want %t", tc.err, got, tc.transient)
			}
		})
	}
}
