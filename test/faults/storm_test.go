package faults_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/internal/localcluster"
)

var _ = Describe("a conflict storm", func() {
	It("duplicates no claim on a rate-limited manager while another writer keeps changing its commands, and everything finishes once it stops", func() {
		const sequences, steps, pokeEvery, qps, storm = 10, 3, time.Second, "5", 20 * time.Second
		ns := newNamespace()
		e := newEndpoint(0)
		metrics, err := localcluster.FreeAddress()
		Expect(err).NotTo(HaveOccurred())
		m := startManager("baton-1", ns, "--kube-api-qps="+qps, "--kube-api-burst="+qps, "--metrics-bind-address="+metrics)

		By("annotating every unfinished command every second, without a resourceVersion")
		ctx, stopStorm := context.WithCancel(suiteCtx)
		var patches atomic.Int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer GinkgoRecover()
			defer wg.Done()
			for ctx.Err() == nil {
				var list batonv1.OperatorCommandList
				if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
					continue
				}
				for i := range list.Items {
					cmd := &list.Items[i]
					if cmd.Status.Phase.Terminal() {
						continue
					}
					patch := client.RawPatch("application/merge-patch+json",
						fmt.Appendf(nil, `{"metadata":{"annotations":{"test.baton/poke":"%d"}}}`, patches.Load()))
					if err := k8s.Patch(ctx, cmd, patch); err == nil {
						patches.Add(1)
					}
				}
				select {
				case <-ctx.Done():
				case <-time.After(pokeEvery):
				}
			}
		}()
		DeferCleanup(func() { stopStorm(); wg.Wait() })

		started := time.Now()
		names := submitSequences(ns, e, 0, sequences, steps)
		time.Sleep(storm)
		stopStorm()
		wg.Wait()
		duringStorm, sentDuringStorm := finishedSequences(ns), e.requests()
		expectSentAtMostOnce(ns, e, names)
		By(fmt.Sprintf("during the storm: %d of %d sequences finished, %d steps sent; manager requests: %s",
			duringStorm, sequences, sentDuringStorm, requestsSeen(metrics)))

		Eventually(func() int { return finishedSequences(ns) }, 2*time.Minute).Should(Equal(sequences),
			func() string { return "requests sent by the manager: " + requestsSeen(metrics) })
		took := time.Since(started)

		phases := expectRunAtMostOnce(ns, e, names)
		Expect(phases).To(Equal(map[batonv1.CommandPhase]int{batonv1.CommandSucceeded: sequences * steps}))
		for _, cmd := range commands(ns) {
			Expect(cmd.Status.Attempts).To(Equal(int32(1)), "%s claimed once", cmd.Name)
		}
		conflicts := conflictsSeen(metrics)
		Expect(conflicts).To(BeNumerically(">", 0), "the storm made the manager's writes conflict")
		Expect(m.running()).To(BeTrue())
		figures := fmt.Sprintf("%d sequences of %d http steps at --kube-api-qps=%s, every unfinished command patched every %s for %s "+
			"(%d foreign patches): %d sequences finished during the storm, all %s after submission; the manager got %d conflicts (409); "+
			"%d requests, none twice, every command Succeeded on its first claim",
			sequences, steps, qps, pokeEvery, storm, patches.Load(), duringStorm, took.Round(time.Millisecond), conflicts, e.requests())
		By(figures)
		AddReportEntry("conflict storm", figures)
	})
})

// conflictsSeen sums client-go's rest_client_requests_total{code="409"} on a manager's
// metrics endpoint.
func conflictsSeen(address string) int {
	resp, err := http.Get("http://" + address + "/metrics")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	total := 0
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, "rest_client_requests_total{") || !strings.Contains(line, `code="409"`) {
			continue
		}
		fields := strings.Fields(line)
		n, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		Expect(err).NotTo(HaveOccurred())
		total += int(n)
	}
	Expect(scanner.Err()).NotTo(HaveOccurred())
	return total
}

// requestsSeen summarises client-go's rest_client_requests_total on a manager's metrics
// endpoint, by method and code.
func requestsSeen(address string) string {
	resp, err := http.Get("http://" + address + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var out []string
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		if line := scanner.Text(); strings.HasPrefix(line, "rest_client_requests_total{") {
			out = append(out, strings.TrimPrefix(line, "rest_client_requests_total"))
		}
	}
	return strings.Join(out, "; ")
}
