package v1alpha1

// The leader-election lease of a baton manager records the namespace scope it acts on, so
// that a manager whose scope overlaps a live one refuses to start (DESIGN.md section 4:
// two managers with overlapping scopes would each take the other's claims for lost).
const (
	// LabelScopeLease marks a coordination.k8s.io Lease as a baton manager's lease; its
	// value is ScopeLeaseValue. Managers list leases by this label at start.
	LabelScopeLease = "baton.kubescape.io/scope-lease"
	// ScopeLeaseValue is the value of LabelScopeLease.
	ScopeLeaseValue = "true"
	// AnnotationScope on a baton manager's lease holds the namespaces it watches, sorted
	// and comma-separated, or ScopeAllNamespaces.
	AnnotationScope = "baton.kubescape.io/scope"
	// ScopeAllNamespaces is the AnnotationScope value of a manager that watches every
	// namespace; it overlaps every other scope.
	ScopeAllNamespaces = "*"
)
