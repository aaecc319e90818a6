package app

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/uuid"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// The manager's own lease lives in the leader-election namespace; listing the other
// managers' leases needs a cluster-wide list (a manager installed in another namespace is
// found too). Nothing else on leases is granted cluster-wide.
//
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=list
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;create;update,namespace=baton-system
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch,namespace=baton-system

// inClusterNamespaceFile holds the pod's namespace, where the lease lives by default.
const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// electionNamespace is --leader-election-namespace, else the pod's namespace; outside a
// pod, a manager without leader election keeps its lease in the default namespace.
func electionNamespace(flagValue string, elect bool) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	data, err := os.ReadFile(inClusterNamespaceFile)
	switch {
	case err == nil:
		return strings.TrimSpace(string(data)), nil
	case !elect:
		return metav1.NamespaceDefault, nil
	}
	return "", fmt.Errorf("--leader-elect outside a pod needs --leader-election-namespace: reading %s: %w", inClusterNamespaceFile, err)
}

// Without leader election (--leader-elect=false) a manager holds its lease itself (see
// scope_hold.go): a lease of scopeLeaseDuration (controller-runtime's leader election's),
// renewed every scopeRenewEvery, retried every scopeRenewRetry after a failure; a manager
// of the same scope watches a held lease every scopeWatchEvery; the release on stop gets
// scopeReleaseWithin.
const (
	scopeLeaseDuration = 15 * time.Second
	scopeRenewEvery    = 5 * time.Second
	scopeRenewRetry    = time.Second
	scopeWatchEvery    = time.Second
	scopeReleaseWithin = 5 * time.Second
)

// claimScope refuses a scope that overlaps a live baton manager's and prepares this
// manager's lease: with leader election, it records the scope on the lease the election
// will use (mgrOpts gets its namespace); without, the manager takes the lease itself, and
// must release it once stopped.
func claimScope(ctx context.Context, cfg *rest.Config, opts Options, mgrOpts *ctrl.Options, log logr.Logger) (*scopeLease, error) {
	namespace, err := electionNamespace(opts.LeaderElectionNamespace, opts.LeaderElect)
	if err != nil {
		return nil, err
	}
	identity := ""
	if !opts.LeaderElect {
		identity = executer() + "_" + string(uuid.NewUUID())
	}
	s, err := newScopeLease(cfg, namespace, mgrOpts.LeaderElectionID, opts.Namespaces, identity, log)
	if err != nil {
		return nil, err
	}
	if opts.LeaderElect {
		mgrOpts.LeaderElectionNamespace = namespace
		if err := s.checkOverlap(ctx, time.Now()); err != nil {
			return nil, err
		}
		return s, s.record(ctx)
	}
	return s, s.hold(ctx)
}

// scopeOf is the AnnotationScope value of a manager watching names (none: all).
func scopeOf(names []string) string {
	if len(names) == 0 {
		return batonv1.ScopeAllNamespaces
	}
	return strings.Join(sets.List(sets.New(names...)), ",")
}

// scopesOverlap says whether two AnnotationScope values share a namespace; all
// namespaces overlaps everything, and an empty or unreadable scope counts as all.
func scopesOverlap(a, b string) bool {
	all := func(s string) bool { return s == batonv1.ScopeAllNamespaces || strings.TrimSpace(s) == "" }
	if all(a) || all(b) {
		return true
	}
	set := sets.New(strings.Split(a, ",")...)
	return slices.ContainsFunc(strings.Split(b, ","), set.Has)
}

// leaseLive says whether a lease has a holder whose renewal has not lapsed at now.
func leaseLive(l *coordinationv1.Lease, now time.Time) bool {
	s := l.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return false
	}
	return s.RenewTime.Add(time.Duration(*s.LeaseDurationSeconds) * time.Second).After(now)
}

// scopeLease is this manager's lease and the scope it records.
type scopeLease struct {
	leases    coordinationclient.LeasesGetter
	namespace string
	name      string
	scope     string
	// identity is this manager's holder identity when it holds the lease itself (no
	// leader election); "" when leader election holds it.
	identity string
	log      logr.Logger
}

func newScopeLease(cfg *rest.Config, namespace, name string, names []string, identity string, log logr.Logger) (*scopeLease, error) {
	c, err := coordinationclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the lease client: %w", err)
	}
	return &scopeLease{leases: c, namespace: namespace, name: name, scope: scopeOf(names), identity: identity, log: log}, nil
}

// checkOverlap returns an error naming every live baton lease other than this manager's
// whose scope overlaps its own.
func (s *scopeLease) checkOverlap(ctx context.Context, now time.Time) error {
	list, err := s.list(ctx)
	if err != nil {
		return err
	}
	var conflicts []string
	for i := range list {
		l := &list[i]
		if l.Namespace == s.namespace && l.Name == s.name {
			continue // this manager's own lease: leader election, or hold, deals with its holder
		}
		if scope := l.Annotations[batonv1.AnnotationScope]; leaseLive(l, now) && scopesOverlap(s.scope, scope) {
			conflicts = append(conflicts, fmt.Sprintf("lease %s/%s (scope %q, held by %s, renewed %s ago)",
				l.Namespace, l.Name, scope, *l.Spec.HolderIdentity, now.Sub(l.Spec.RenewTime.Time).Round(time.Second)))
		}
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("refusing to start: this manager's namespace scope %q overlaps another live baton manager's: %s; "+
			"two managers acting on one namespace would each take the other's claimed steps for lost. "+
			"Give each manager a disjoint --namespace set (no --namespace means all namespaces), or stop the other one",
			s.scope, strings.Join(conflicts, "; "))
	}
	return nil
}

// list returns the baton leases of the whole cluster, or of the lease namespace when the
// manager may not list leases cluster-wide.
func (s *scopeLease) list(ctx context.Context) ([]coordinationv1.Lease, error) {
	opts := metav1.ListOptions{LabelSelector: labels.Set{batonv1.LabelScopeLease: batonv1.ScopeLeaseValue}.String()}
	list, err := s.leases.Leases(metav1.NamespaceAll).List(ctx, opts)
	if apierrors.IsForbidden(err) {
		s.log.Info("may not list leases cluster-wide; checking for overlapping managers in the lease namespace only", "namespace", s.namespace)
		list, err = s.leases.Leases(s.namespace).List(ctx, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("listing baton leases to check for overlapping managers: %w", err)
	}
	return list.Items, nil
}

// record makes sure this manager's lease exists and carries its scope annotation and
// label before leader election uses it; leader election keeps metadata it did not set.
func (s *scopeLease) record(ctx context.Context) error {
	leases := s.leases.Leases(s.namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		l, err := leases.Get(ctx, s.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.namespace}}
			s.mark(l)
			_, err = leases.Create(ctx, l, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(coordinationv1.Resource("leases"), s.name, err)
			}
			return err
		}
		if err != nil {
			return err
		}
		if !s.mark(l) {
			return nil
		}
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("recording the scope on lease %s/%s: %w", s.namespace, s.name, err)
	}
	return nil
}

// mark sets the scope label and annotation on l and says whether it changed anything.
func (s *scopeLease) mark(l *coordinationv1.Lease) bool {
	if l.Labels[batonv1.LabelScopeLease] == batonv1.ScopeLeaseValue && l.Annotations[batonv1.AnnotationScope] == s.scope {
		return false
	}
	if l.Labels == nil {
		l.Labels = map[string]string{}
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Labels[batonv1.LabelScopeLease] = batonv1.ScopeLeaseValue
	l.Annotations[batonv1.AnnotationScope] = s.scope
	return true
}

// recheck runs once this manager is elected: two overlapping managers started in the
// same instant may both pass the first check; once elected, each sees the other's live
// lease and stops, rather than both running side by side.
type recheck struct{ s *scopeLease }

func (r recheck) NeedLeaderElection() bool { return true }

func (r recheck) Start(ctx context.Context) error {
	err := r.s.checkOverlap(ctx, time.Now())
	if err != nil && ctx.Err() != nil {
		return nil
	}
	return err
}

// keeper is what keeps the scope claimed while the manager runs: the check once elected,
// or the renewal of a lease the manager holds itself.
func (s *scopeLease) keeper() manager.Runnable {
	if s.identity == "" {
		return recheck{s}
	}
	return renewer{s}
}
