package steps_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/steps"
)

// apply and wait are proven on a real kube-apiserver and etcd, through the registry the
// manager builds, with the client kind the manager hands them.
var (
	env      *envtest.Environment
	k8s      client.WithWatch
	registry *steps.Registry
	suiteCtx context.Context
)

func TestSteps(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "steps on a real API server")
}

var _ = BeforeSuite(func() {
	var cancel context.CancelFunc
	suiteCtx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	var err error
	env, _, k8s, err = localcluster.StartEnv()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	registry = steps.NewRegistry()
	Expect(steps.RegisterBuiltins(registry, steps.BuiltinConfig{Client: k8s})).To(Succeed())
})

// newNamespace creates a namespace for one spec and deletes it after.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "steps-"}}
	Expect(k8s.Create(suiteCtx, ns)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(context.Background(), ns))).To(Succeed()) })
	return ns.Name
}

// run looks the command's type up in the suite's registry and runs it, as the engine does,
// within a TTL of 20s when ctx has none.
func run(ctx context.Context, cmd *commandBuilder) (any, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
	}
	obj := cmd.Obj()
	h, ok := registry.Lookup(obj.Spec.CommandType, obj.Spec.CommandVersion)
	Expect(ok).To(BeTrue(), "no handler for %s", obj.Spec.CommandType)
	return h.Run(ctx, steps.Request{Command: obj, Logger: GinkgoLogr})
}
