package deploy

import (
	"context"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/batonhq/baton/internal/localcluster"
)

// managerUser is the identity of the manager's ServiceAccount as the API server sees it.
const managerUser = "system:serviceaccount:baton-system:baton-manager"

var managerGroups = []string{"system:serviceaccounts", "system:serviceaccounts:baton-system", "system:authenticated"}

// TestManifests renders every kustomization baton ships with the kubectl built beside the
// control plane and has the API server validate each object with a server-side dry run;
// then installs config/default and checks its RBAC grants the manager no more than it uses.
func TestManifests(t *testing.T) {
	env, _, c, err := localcluster.StartEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	kubeconfig, err := localcluster.WriteKubeconfig(env, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A dry run creates no namespace, so the objects placed in it need it to exist.
	// It warns on a Deployment whose pods would break the restricted Pod Security Standard
	// only when the namespace already asks for warnings: here it does.
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "baton-system",
		Labels: map[string]string{"pod-security.kubernetes.io/warn": "restricted"}}}); err != nil {
		t.Fatal(err)
	}

	for dir, namespace := range map[string]string{
		"config/default":               "",
		"config/examples/apply-wait":   "",
		"config/components/apply-wait": "",
		"config/samples":               "default",
	} {
		t.Run("server-side dry run of "+dir, func(t *testing.T) {
			manifests := render(t, env, dir)
			args := []string{"apply", "--dry-run=server", "--server-side", "--force-conflicts", "-f", "-"}
			if namespace != "" {
				args = append(args, "-n", namespace)
			}
			out := kubectl(t, env, kubeconfig, manifests, args...)
			if got, want := strings.Count(string(out), "(server dry run)"), strings.Count(string(manifests), "\nkind: "); got != want {
				t.Errorf("%d objects validated, want %d:\n%s", got, want, out)
			}
		})
	}

	t.Run("the default RBAC grants what the manager uses and nothing more", func(t *testing.T) {
		kubectl(t, env, kubeconfig, render(t, env, "config/default"), "apply", "--server-side", "--force-conflicts", "-f", "-")
		cases := map[string]struct {
			attrs authorizationv1.ResourceAttributes
			want  bool
		}{
			"watch commands anywhere":          {authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "watch", Group: "kubescape.io", Resource: "operatorcommands"}, true},
			"patch command status":             {authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "patch", Group: "kubescape.io", Resource: "operatorcommands", Subresource: "status"}, true},
			"create sequences":                 {authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "create", Group: "kubescape.io", Resource: "commandsequences"}, true},
			"record events":                    {authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "create", Group: "events.k8s.io", Resource: "events"}, true},
			"list leases to check scopes":      {authorizationv1.ResourceAttributes{Verb: "list", Group: "coordination.k8s.io", Resource: "leases"}, true},
			"update its own namespace's lease": {authorizationv1.ResourceAttributes{Namespace: "baton-system", Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}, true},
			"no lease writes elsewhere":        {authorizationv1.ResourceAttributes{Namespace: "kube-system", Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}, false},
			"no status updates: it patches":    {authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "update", Group: "kubescape.io", Resource: "operatorcommands", Subresource: "status"}, false},
			"no secrets":                       {authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "get", Resource: "secrets"}, false},
			"no creating commands":             {authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "create", Group: "kubescape.io", Resource: "operatorcommands"}, false},
			"apply needs the opt-in component": {authorizationv1.ResourceAttributes{Namespace: "default", Verb: "patch", Resource: "configmaps"}, false},
			"no CRD changes":                   {authorizationv1.ResourceAttributes{Verb: "update", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}, false},
		}
		for name, tc := range cases {
			review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: managerUser, Groups: managerGroups, ResourceAttributes: &tc.attrs,
			}}
			if err := c.Create(ctx, review); err != nil {
				t.Fatal(err)
			}
			if review.Status.Allowed != tc.want {
				t.Errorf("%s: the manager may %s %s/%s in %q = %v, want %v", name, tc.attrs.Verb,
					tc.attrs.Resource, tc.attrs.Subresource, tc.attrs.Namespace, review.Status.Allowed, tc.want)
			}
		}
	})
}
