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
// once stopped. A manager of an overlapping scope finds its live lease and refuses to start.
// One of the same scope finds the lease itself held by another identity: it waits, as a
// candidate for leadership would, but only until it can tell a running manager from a
// dead one — the holder renews the lease (it runs: refuse) or lets it lapse (it died
// without releasing it, a SIGKILL or a lost node: take it). A manager with leader election
// that finds such a lease waits its turn as it would behind a leader.

// errLeaseTaken says another identity holds this manager's lease live.
var errLeaseTaken = errors.New("held by another manager")

// holdAttempts bounds the races lost while taking the lease before giving up.
const holdAttempts = 5

// heldLease is this manager's lease as found held live by another identity.
type heldLease struct{ lease *coordinationv1.Lease }

func (h *heldLease) Error() string {
	return fmt.Sprintf("%s %q", errLeaseTaken, ptr.Deref(h.lease.Spec.HolderIdentity, ""))
}

func (h *heldLease) Unwrap() error { return errLeaseTaken }

// hold refuses an overlapping live lease, takes this manager's own lease with a write
// guarded by resourceVersion — waiting out a holder that does not renew it, refusing one
// that does — and checks again once it holds it: of two overlapping managers starting at
// once, the later one sees the earlier one's lease (both may refuse; neither runs beside
// the other).
func (s *scopeLease) hold(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		if err := s.checkOverlap(ctx, time.Now()); err != nil {
			return err
		}
		err := s.take(ctx, time.Now())
		if err == nil {
			break
		}
		var held *heldLease
		if errors.As(err, &held) {
			if err := s.waitLapse(ctx, held.lease); err != nil {
				return err
			}
			attempt = 0 // the lease lapsed: a fresh start
			continue
		}
		raced := apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
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

// waitLapse watches this manager's lease, found held live by another identity, until its
// holder renews it (a manager of the same scope runs: refuse to start) or it lapses or is
// released (return nil, to take it).
func (s *scopeLease) waitLapse(ctx context.Context, seen *coordinationv1.Lease) error {
	holder := ptr.Deref(seen.Spec.HolderIdentity, "")
	s.log.Info("this manager's lease is held by another identity; waiting for it to be renewed (refuse) or to lapse (take it)",
		"lease", s.namespace+"/"+s.name, "holder", holder)
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for lease %s/%s held by %s: %w", s.namespace, s.name, holder, ctx.Err())
		case <-time.After(scopeWatchEvery):
		}
		l, err := s.leases.Leases(s.namespace).Get(ctx, s.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading lease %s/%s: %w", s.namespace, s.name, err)
		}
		now := time.Now()
		if !leaseLive(l, now) {
			return nil
		}
		if h := ptr.Deref(l.Spec.HolderIdentity, ""); h != holder || !l.Spec.RenewTime.Equal(seen.Spec.RenewTime) {
			return fmt.Errorf("refusing to start: lease %s/%s of this manager's namespace scope %q is held by %s, renewed %s ago: "+
				"another manager of the same scope is running, and two would each take the other's claimed steps for lost. "+
				"Stop it, or run every replica with --leader-elect so that they take turns",
				s.namespace, s.name, s.scope, h, now.Sub(l.Spec.RenewTime.Time).Round(time.Second))
		}
	}
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
		return &heldLease{lease: l}
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
// manager when it finds the lease held by another identity. A renewal that fails (the API
// server is down or unreachable) is retried every scopeRenewRetry without stopping the
// manager: it cannot write anything else either, and results that could not be written are
// written once the API server is back (DESIGN.md 4). Should its lease lapse meanwhile and
// another manager take it, the first renewal that gets through stops this one.
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
			return fmt.Errorf("lost lease %s/%s, not renewed for %s: %w", r.s.namespace, r.s.name,
				now.Sub(renewed).Round(time.Second), err)
		}
		r.s.log.Error(err, "renewing the scope lease; retrying", "lease", r.s.namespace+"/"+r.s.name,
			"lastRenewed", renewed, "leaseDuration", scopeLeaseDuration)
		timer.Reset(scopeRenewRetry)
	}
}
