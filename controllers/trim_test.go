package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

var _ = Describe("the cache's trimmed commands", func() {
	// The cache drops args, body and designators (controllers.CacheTransform); a handler
	// must see them all the same, and a condition must still read args at the gate.
	It("hands a handler the args, body and designators the cache drops", func() {
		ns := newNamespace()
		h := newHandlers(ns)
		startManager(testOptions(), h)

		first := newCommand(ns, "plain").Type("echo").In("trim", 0, 2).Arg("image", "nginx").Obj()
		first.Spec.Body = []byte("payload body")
		first.Spec.Designators = []batonv1.PortalDesignator{{DesignatorType: "Attributes", Attributes: map[string]string{"a": "b"}}}
		Expect(k8s.Create(suiteCt, first)).To(Succeed())
		newCommand(ns, "conditional").Type("echo").In("trim", 1, 2).Arg("image", "redis").
			Annotate(batonv1.AnnotationWhen, "args.image == 'redis'").Create()

		Eventually(phaseOf(ns, "conditional"), wait).Should(Equal(batonv1.CommandSucceeded))
		plain := payloadOf(getCommand(ns, "plain"))
		Expect(plain).To(HaveKeyWithValue("args", HaveKeyWithValue("image", "nginx")))
		Expect(plain).To(HaveKeyWithValue("envArgs", HaveKeyWithValue("image", "nginx")))
		Expect(plain).To(HaveKeyWithValue("body", "payload body"))
		Expect(plain).To(HaveKeyWithValue("designators", BeEquivalentTo(1)))
		conditional := payloadOf(getCommand(ns, "conditional"))
		Expect(conditional).To(HaveKeyWithValue("args", HaveKeyWithValue("image", "redis")))
		Expect(conditional).To(HaveKeyWithValue("envArgs", HaveKeyWithValue("image", "redis")))
	})
})
