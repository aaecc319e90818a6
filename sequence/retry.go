package sequence

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// RetryResult says what Retry created.
type RetryResult struct {
	// Key of the new sequence, SEQ-retry-N.
	Key string
	// Copied are the new names of the members copied in with their completed status.
	Copied []string
	// Rerun are the new names of the members that run again.
	Rerun []string
}

var retrySuffix = regexp.MustCompile(`-retry-[0-9]+$`)

// Retry makes the retry of a failed sequence (DESIGN.md section 5): a new sequence
// SEQ-retry-N holding the blocking member (the first in batch order that neither succeeded,
// nor was skipped by its condition, nor may fail) and every later one, fresh, plus the
// earlier members copied in with their status copied whole, so conditions see their
// results and nothing that succeeded runs again. Every member is named <name>-retry-N and
// carries kubescape.io/retry-of: SEQ and kubescape.io/step: its step name in SEQ (its
// annotation there, else its name), so conditions and expressions find earlier steps under
// the names they were written with; they are not rewritten. The copies and their completed status are written before the
// other members, so the new sequence assembles only once they read as done. Copies carry
// no routing label and no kubescape.io/gate-labels; a rerun member is held for its
// executor as the original was (its routing labels moved back into gate-labels).
// Retrying SEQ-retry-N makes SEQ-retry-M with the next free M.
//
// It is purely client side: the members are created with c, which must be allowed to
// create OperatorCommands and update their status.
func Retry(ctx context.Context, c client.Client, namespace, name string) (*RetryResult, error) {
	seq, err := Get(ctx, c, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("reading sequence %s/%s: %w", namespace, name, err)
	}
	if seq.Status.Phase != batonv1.SequenceFailed {
		return nil, fmt.Errorf("sequence %s/%s is %s: only a Failed sequence can be retried", namespace, seq.Name, orDefault(string(seq.Status.Phase), "new"))
	}
	members, err := Members(ctx, c, namespace, seq.Spec.Key)
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, fmt.Errorf("sequence %s/%s has no commands left to retry", namespace, seq.Name)
	}
	n, key, err := nextRetryKey(ctx, c, namespace, seq.Spec.Key)
	if err != nil {
		return nil, err
	}
	copies, rerun := splitForRetry(members)
	if len(rerun) == 0 {
		return nil, fmt.Errorf("sequence %s/%s has no failed member to retry", namespace, seq.Name)
	}
	res := &RetryResult{Key: key}
	for _, m := range copies {
		cmd := retryCommand(&m, n, key, seq.Spec.Key, true)
		if err := c.Create(ctx, cmd); err != nil {
			return res, fmt.Errorf("creating copy %s: %w", cmd.Name, err)
		}
		before := cmd.DeepCopy()
		cmd.Status = *m.Status.DeepCopy()
		if err := c.Status().Patch(ctx, cmd, client.MergeFrom(before)); err != nil {
			return res, fmt.Errorf("copying the status of %s to %s: %w", m.Name, cmd.Name, err)
		}
		res.Copied = append(res.Copied, cmd.Name)
	}
	for _, m := range rerun {
		cmd := retryCommand(&m, n, key, seq.Spec.Key, false)
		if err := c.Create(ctx, cmd); err != nil {
			return res, fmt.Errorf("creating %s: %w", cmd.Name, err)
		}
		res.Rerun = append(res.Rerun, cmd.Name)
	}
	return res, nil
}

// Members lists the commands of the sequence with this key, in batch order (index, then
// name).
func Members(ctx context.Context, c client.Reader, namespace, key string) ([]batonv1.OperatorCommand, error) {
	var list batonv1.OperatorCommandList
	opts := []client.ListOption{client.InNamespace(namespace)}
	if len(validation.IsValidLabelValue(key)) == 0 {
		// A key that can be a label value may still be a GUID with no label: list all and
		// filter, unless a labelled member shows the label is in use.
		var labelled batonv1.OperatorCommandList
		if err := c.List(ctx, &labelled, append(opts, client.MatchingLabels{batonv1.LabelSequence: key})...); err != nil {
			return nil, fmt.Errorf("listing the commands of %s: %w", key, err)
		}
		if len(labelled.Items) > 0 {
			list = labelled
		}
	}
	if len(list.Items) == 0 {
		if err := c.List(ctx, &list, opts...); err != nil {
			return nil, fmt.Errorf("listing the commands of %s: %w", key, err)
		}
	}
	var out []batonv1.OperatorCommand
	for _, cmd := range list.Items {
		if cmd.InSequence() && cmd.SequenceKey() == key {
			out = append(out, cmd)
		}
	}
	slices.SortStableFunc(out, compareCommands)
	return out, nil
}

func compareCommands(a, b batonv1.OperatorCommand) int {
	ai, bi := indexOf(&a), indexOf(&b)
	if ai != bi {
		return cmp.Compare(ai, bi)
	}
	return strings.Compare(a.Name, b.Name)
}

func indexOf(c *batonv1.OperatorCommand) int {
	if c.Spec.CommandIndex == nil {
		return -1
	}
	return *c.Spec.CommandIndex
}

// passed reports whether a member lets later batches run: it succeeded, its condition
// skipped it, or it may fail and has finished.
func passed(c *batonv1.OperatorCommand) bool {
	phase := c.Status.Phase
	switch {
	case phase == batonv1.CommandSucceeded:
		return true
	case phase == batonv1.CommandSkipped && c.Status.Error != nil && c.Status.Error.Reason == batonv1.ReasonConditionFalse:
		return true
	case phase.Terminal() && c.Annotations[batonv1.AnnotationContinueOnFailure] == "true":
		return true
	}
	return false
}

// splitForRetry returns the members copied in (every member before the first batch with a
// blocking member, and the succeeded members of that batch) and the members run again.
func splitForRetry(members []batonv1.OperatorCommand) (copies, rerun []batonv1.OperatorCommand) {
	blocking := -1
	for i := range members {
		if !passed(&members[i]) {
			blocking = indexOf(&members[i])
			break
		}
	}
	if blocking < 0 {
		return members, nil
	}
	for _, m := range members {
		idx := indexOf(&m)
		if idx < blocking || (idx == blocking && m.Status.Phase == batonv1.CommandSucceeded) {
			copies = append(copies, m)
		} else {
			rerun = append(rerun, m)
		}
	}
	return copies, rerun
}

// nextRetryKey is the first SEQ-retry-N (SEQ without its own -retry-N suffix) with no
// sequence and no command.
func nextRetryKey(ctx context.Context, c client.Reader, namespace, key string) (int, string, error) {
	base := retrySuffix.ReplaceAllString(key, "")
	for n := 1; n < 1000; n++ {
		candidate := base + "-retry-" + strconv.Itoa(n)
		if _, err := Get(ctx, c, namespace, candidate); err == nil {
			continue
		} else if !apierrors.IsNotFound(err) {
			return 0, "", fmt.Errorf("looking for a free retry name: %w", err)
		}
		if cmds, err := Members(ctx, c, namespace, candidate); err != nil {
			return 0, "", err
		} else if len(cmds) > 0 {
			continue
		}
		if errs := validation.IsValidLabelValue(candidate); len(errs) > 0 {
			return 0, "", fmt.Errorf("the retry key %q cannot be a label value: %s", candidate, errs[0])
		}
		return n, candidate, nil
	}
	return 0, "", fmt.Errorf("sequence %s has been retried too often", key)
}

func retryName(name string, n int) string {
	return retrySuffix.ReplaceAllString(name, "") + "-retry-" + strconv.Itoa(n)
}

// retryCommand is the new member made from m: same spec (GUID and key replaced), labels and
// annotations but for the gate, the routing labels and the retry bookkeeping.
func retryCommand(m *batonv1.OperatorCommand, n int, key, original string, copied bool) *batonv1.OperatorCommand {
	labels := maps.Clone(m.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	annotations := maps.Clone(m.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	held := map[string]string{}
	for _, l := range batonv1.RoutingLabels {
		if v, ok := labels[l]; ok {
			held[l] = v
			delete(labels, l)
		}
	}
	delete(labels, batonv1.LabelGate)
	labels[batonv1.LabelSequence] = key
	delete(annotations, "kubectl.kubernetes.io/last-applied-configuration")
	annotations[batonv1.AnnotationRetryOf] = original
	// The step keeps its name: conditions and expressions find it by that, not by the
	// object's new name.
	annotations[batonv1.AnnotationStep] = batonv1.StepName(m.Name, m.Annotations)
	if copied {
		delete(annotations, batonv1.AnnotationGateLabels)
	} else if _, ok := annotations[batonv1.AnnotationGateLabels]; !ok && len(held) > 0 {
		data, _ := json.Marshal(held)
		annotations[batonv1.AnnotationGateLabels] = string(data)
	}
	cmd := &batonv1.OperatorCommand{}
	cmd.Name = retryName(m.Name, n)
	cmd.Namespace = m.Namespace
	cmd.Labels, cmd.Annotations = labels, annotations
	cmd.Spec = *m.Spec.DeepCopy()
	cmd.Spec.GUID = key
	return cmd
}
