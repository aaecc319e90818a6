package controllers

import (
	"context"
	"errors"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// WriteUnclaimed writes change to cmd's status as the one write of a quick step does:
// guarded by cmd's resourceVersion; after a conflict, read again through c and applied
// only to a command still not completed nor started by another executer. It reports
// whether the write landed; false with no error when it was dropped.
func WriteUnclaimed(ctx context.Context, c client.Client, cmd *batonv1.OperatorCommand, executer string,
	change func(*batonv1.OperatorCommandStatus)) (bool, error) {
	w := &statusWriter{client: c, apiRead: c, clock: clock.RealClock{}, units: &units{}}
	u := unit{namespace: cmd.Namespace, index: "cmd:" + cmd.Name, key: cmd.Name, standalone: true}
	switch err := w.writeUnclaimed(ctx, u, cmd, executer, change); {
	case errors.Is(err, errClaimLost):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}
