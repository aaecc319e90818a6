package v1alpha1_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/batonhq/baton/internal/localcluster"
)

// The wire contract is proven on a real kube-apiserver and etcd with the generated CRDs.
var (
	env        *envtest.Environment
	cfg        *rest.Config
	k8s        client.WithWatch
	dyn        dynamic.Interface
	kubeconfig string
	suiteCt    context.Context
)

func TestAPI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "api/v1alpha1 wire contract")
}

var _ = BeforeSuite(func() {
	var cancel context.CancelFunc
	suiteCt, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	var err error
	env, cfg, k8s, err = localcluster.StartEnv()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	dyn, err = dynamic.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	kubeconfig, err = localcluster.WriteKubeconfig(env, GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())
})
