package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
)

// classifyAPIError marks what a Kubernetes API call returned as retryable when trying again
// may help: server-side timeouts and throttling, internal and unavailable errors, a kind
// the client does not know yet (a CRD applied moments ago), and connection failures. Other
// API answers (invalid, forbidden, not found, ...) are permanent. When ctx has ended its
// error is returned instead, wrapped, permanent.
func classifyAPIError(ctx context.Context, doing string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", doing, ctx.Err())
	}
	wrapped := fmt.Errorf("%s: %w", doing, err)
	var netErr net.Error
	switch {
	case apierrors.IsServerTimeout(err), apierrors.IsTimeout(err), apierrors.IsTooManyRequests(err),
		apierrors.IsServiceUnavailable(err), apierrors.IsInternalError(err),
		meta.IsNoMatchError(err):
		return Retryable(wrapped)
	case errors.As(err, &netErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return Retryable(wrapped)
	default:
		return wrapped
	}
}
