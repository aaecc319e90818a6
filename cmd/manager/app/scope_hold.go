package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// A manager run without leader election holds its scope lease itself, as a leader would:
// it takes the lease when nobody holds it live, renews it while it runs, and releases it
// once stopped. Another manager of the same scope then finds the lease held live by
// another identity and refuses to start, as one of an overlapping scope finds any live
// baton lease; a manager with leader election finds a held lease and waits its turn.

// errLeaseTaken says another identity holds this manager's lease live.
var errLeaseTaken = errors.New("held by another manager")

// holdAttempts bounds the races lost while taking the lease before giving up.
const holdAttempts = 5

// hold refuses an overlapping live lease (this manager's own lease held by another identity
// included), takes the lease with a write guarded by resourceVersion, and checks again
// once it holds it: of two overlapping managers starting at once, the later one sees the
// earlier one's lease (both may refuse; neither runs beside the other).
func (s *scopeLease) hold(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		if err := s.checkOverlap(ctx, time.Now()); err != nil {
			return err
		}
		err := s.take(ctx, time.Now())
		if err == nil {
			break
		}
		raced := errors.Is(err, errLeaseTaken) || apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
		if !raced || attempt == holdAttempts {
			return fmt.Errorf("taking lease %s/%s: %w", s.namespace, s.name, err)
		}
	}
	s.log.Info("holding the scope lease without leader election", "lease", s.namespace+"/"+s.name, "identity", s.identity, "scope", s.scope)
	if err := s.checkOverlap(ctx, time.Now()); err != nil {
		s.release()
		return err
	}
	return nil
}

// take makes this manager the holder of its lease, marked with its scope.
func (s *scopeLease) take(ctx context.Context, now time.Time) error {
	leases := s.leases.Leases(s.namespace)
	l, err := leases.Get(ctx, s.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.namespace}}
		s.mark(l)
		s.stamp(l, now)
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	if holder := ptr.Deref(l.Spec.HolderIdentity, ""); holder != s.identity && leaseLive(l, now) {
		return fmt.Errorf("%w %q", errLeaseTaken, holder)
	}
	s.mark(l)
	s.stamp(l, now)
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// stamp makes l held by this manager, acquired (unless it already held it) and renewed now.
func (s *scopeLease) stamp(l *coordinationv1.Lease, now time.Time) {
	t := &metav1.MicroTime{Time: now}
	if holder := ptr.Deref(l.Spec.HolderIdentity, ""); holder != s.identity {
		if holder != "" {
			l.Spec.LeaseTransitions = ptr.To(ptr.Deref(l.Spec.LeaseTransitions, 0) + 1)
		}
		l.Spec.HolderIdentity, l.Spec.AcquireTime = ptr.To(s.identity), t
	}
	l.Spec.RenewTime = t
	l.Spec.LeaseDurationSeconds = ptr.To(int32(scopeLeaseDuration / time.Second))
}

// renew writes a new renewTime on the lease, guarded by resourceVersion; it fails with
// errLeaseTaken when another identity holds the lease.
func (s *scopeLease) renew(ctx context.Context, now time.Time) error {
	leases := s.leases.Leases(s.namespace)
	l, err := leases.Get(ctx, s.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return s.take(ctx, now) // deleted by hand: take it again
	}
	if err != nil {
		return err
	}
	if holder := ptr.Deref(l.Spec.HolderIdentity, ""); holder != s.identity {
		return fmt.Errorf("%w %q", errLeaseTaken, holder)
	}
	s.stamp(l, now)
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// release gives the lease up, as leader election does on a clean stop (no holder, a
// one-second duration), so the next manager of the scope may start at once. It runs after
// the manager stopped, on its own short deadline.
func (s *scopeLease) release() {
	if s.identity == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scopeReleaseWithin)
	defer cancel()
	leases := s.leases.Leases(s.namespace)
	l, err := leases.Get(ctx, s.name, metav1.GetOptions{})
	if err == nil && ptr.Deref(l.Spec.HolderIdentity, "") != s.identity {
		return
	}
	if err == nil {
		now := &metav1.MicroTime{Time: time.Now()}
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = ptr.To(""), ptr.To[int32](1)
		l.Spec.AcquireTime, l.Spec.RenewTime = now, now
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		s.log.Error(err, "releasing the scope lease; it lapses on its own", "lease", s.namespace+"/"+s.name,
			"within", scopeLeaseDuration)
	}
}

// renewer renews a lease the manager holds itself while the manager runs, and stops the
// manager when the lease was taken or could not be renewed for scopeRenewDeadline.
type renewer struct{ s *scopeLease }

func (r renewer) NeedLeaderElection() bool { return false }

func (r renewer) Start(ctx context.Context) error {
	renewed := time.Now()
	timer := time.NewTimer(scopeRenewEvery)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		now := time.Now()
		err := r.s.renew(ctx, now)
		switch {
		case err == nil:
			renewed = now
			timer.Reset(scopeRenewEvery)
			continue
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errLeaseTaken):
			return fmt.Errorf("lost lease %s/%s: %w", r.s.namespace, r.s.name, err)
		case now.Sub(renewed) >= scopeRenewDeadline:
			return fmt.Errorf("stopping before lease %s/%s lapses: not renewed for %s: %w",
				r.s.namespace, r.s.name, now.Sub(renewed).Round(time.Second), err)
		}
		r.s.log.Error(err, "renewing the scope lease; retrying", "lease", r.s.namespace+"/"+r.s.name)
		timer.Reset(scopeRenewRetry)
	}
}
