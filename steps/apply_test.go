package steps_test

import (
	"context"
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/batonhq/baton/steps"
)

// configMap is an object as a command's args carry it.
func configMap(name string, data map[string]any) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name},
		"data":     data,
	}
}

func getConfigMap(ns, name string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{}
	Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, cm)).To(Succeed())
	return cm
}

func applied(payload any) []steps.AppliedObject {
	Expect(payload).To(BeAssignableToTypeOf(steps.ApplyResult{}))
	return payload.(steps.ApplyResult).Objects
}

var _ = Describe("apply", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("creates, reconfigures and leaves unchanged, in the command's namespace", func() {
		cmd := func(value string) *commandBuilder {
			return newCommand(steps.TypeApply).Namespace(ns).
				Arg("objects", []any{configMap("settings", map[string]any{"mode": value})})
		}
		payload, err := run(suiteCtx, cmd("fast"))
		Expect(err).NotTo(HaveOccurred())
		Expect(applied(payload)).To(Equal([]steps.AppliedObject{{
			APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: "settings",
			Operation: steps.OperationCreated, Changed: true,
		}}))
		cm := getConfigMap(ns, "settings")
		Expect(cm.Data).To(Equal(map[string]string{"mode": "fast"}))
		Expect(cm.ManagedFields).To(ContainElement(HaveField("Manager", steps.FieldManager)))

		payload, err = run(suiteCtx, cmd("fast"))
		Expect(err).NotTo(HaveOccurred())
		Expect(applied(payload)[0].Operation).To(Equal(steps.OperationUnchanged))
		Expect(applied(payload)[0].Changed).To(BeFalse())

		payload, err = run(suiteCtx, cmd("safe"))
		Expect(err).NotTo(HaveOccurred())
		Expect(applied(payload)[0]).To(And(
			HaveField("Operation", steps.OperationConfigured), HaveField("Changed", true)))
		Expect(getConfigMap(ns, "settings").Data).To(Equal(map[string]string{"mode": "safe"}))
	})

	It("applies every YAML document of the body, namespaced and cluster-scoped", func() {
		other := newNamespace()
		clusterNS := ns + "-made-by-apply"
		DeferCleanup(func() {
			Expect(client.IgnoreNotFound(k8s.Delete(context.Background(), &corev1.Namespace{
				ObjectMeta: metaName(clusterNS)}))).To(Succeed())
		})
		body := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\ndata:\n  count: \"1\"\n" +
			"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: second\n  namespace: " + other + "\nstringData:\n  token: s3cret\n" +
			"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + clusterNS + "\n"
		payload, err := run(suiteCtx, newCommand(steps.TypeApply).Namespace(ns).Body(body))
		Expect(err).NotTo(HaveOccurred())
		Expect(applied(payload)).To(Equal([]steps.AppliedObject{
			{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: "first", Operation: "created", Changed: true},
			{APIVersion: "v1", Kind: "Secret", Namespace: other, Name: "second", Operation: "created", Changed: true},
			{APIVersion: "v1", Kind: "Namespace", Name: clusterNS, Operation: "created", Changed: true},
		}))
		Expect(getConfigMap(ns, "first").Data).To(HaveKeyWithValue("count", "1"))
		secret := &corev1.Secret{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: other, Name: "second"}, secret)).To(Succeed())
		Expect(string(secret.Data["token"])).To(Equal("s3cret"))
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Name: clusterNS}, &corev1.Namespace{})).To(Succeed())
	})

	It("takes over fields another field manager owns", func() {
		theirs := &unstructured.Unstructured{Object: configMap("shared", map[string]any{"owner": "them"})}
		theirs.SetNamespace(ns)
		Expect(k8s.Apply(suiteCtx, client.ApplyConfigurationFromUnstructured(theirs), client.FieldOwner("someone-else"))).To(Succeed())

		payload, err := run(suiteCtx, newCommand(steps.TypeApply).Namespace(ns).
			Arg("objects", []any{configMap("shared", map[string]any{"owner": "baton"})}))
		Expect(err).NotTo(HaveOccurred())
		Expect(applied(payload)[0].Operation).To(Equal(steps.OperationConfigured))
		Expect(getConfigMap(ns, "shared").Data).To(Equal(map[string]string{"owner": "baton"}))
	})

	It("fails permanently on an object the API server rejects, keeping the ones before it", func() {
		invalid := configMap("Not_A_Valid_Name", map[string]any{"k": "v"})
		_, err := run(suiteCtx, newCommand(steps.TypeApply).Namespace(ns).
			Arg("objects", []any{configMap("before", map[string]any{"k": "v"}), invalid}))
		Expect(err).To(MatchError(ContainSubstring("applying ConfigMap " + ns + "/Not_A_Valid_Name")))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want the API's Invalid answer wrapped, got %v", err)
		Expect(steps.IsRetryable(err)).To(BeFalse())
		Expect(getConfigMap(ns, "before").Data).To(Equal(map[string]string{"k": "v"}))
	})

	It("fails retryably on a kind the API server does not serve yet", func() {
		_, err := run(suiteCtx, newCommand(steps.TypeApply).Namespace(ns).Arg("objects", []any{map[string]any{
			"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"},
		}}))
		Expect(err).To(MatchError(ContainSubstring("Widget")))
		Expect(steps.IsRetryable(err)).To(BeTrue())
	})

	It("fails permanently on args that name nothing to apply", func() {
		_, err := run(suiteCtx, newCommand(steps.TypeApply).Namespace(ns))
		Expect(err).To(MatchError(ContainSubstring("nothing to apply")))
		Expect(steps.IsRetryable(err)).To(BeFalse())
	})

	It("stops with the context's error when cancelled, applying nothing", func() {
		_, err := run(cancelled(), newCommand(steps.TypeApply).Namespace(ns).
			Arg("objects", []any{configMap("never", nil)}))
		Expect(errors.Is(err, context.Canceled)).To(BeTrue(), "got %v", err)
		Expect(steps.IsRetryable(err)).To(BeFalse())
		Expect(apierrors.IsNotFound(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "never"}, &corev1.ConfigMap{}))).To(BeTrue())
	})
})
