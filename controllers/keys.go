package controllers

import (
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// memberKeyField indexes commands by the unit they are reconciled in: "seq:<key>" for a
// sequence member, "cmd:<name>" for a standalone command. The same string is the
// reconcile request's name, so one reconcile handles one sequence.
const memberKeyField = "baton.memberKey"

const (
	sequencePrefix   = "seq:"
	standalonePrefix = "cmd:"
)

// unitKey is the index value and request name for a command.
func unitKey(cmd *batonv1.OperatorCommand) string {
	if !cmd.InSequence() {
		return standalonePrefix + cmd.Name
	}
	return sequencePrefix + cmd.SequenceKey()
}

func indexMemberKey(obj client.Object) []string {
	cmd, ok := obj.(*batonv1.OperatorCommand)
	if !ok {
		return nil
	}
	return []string{unitKey(cmd)}
}

// unit is a parsed request: a sequence key, or a standalone command's name.
type unit struct {
	namespace  string
	index      string // the memberKeyField value
	key        string // the sequence key, or the command name
	standalone bool
}

// id names the unit across namespaces.
func (u unit) id() string { return u.namespace + "/" + u.index }

func parseRequest(req reconcile.Request) (unit, bool) {
	u := unit{namespace: req.Namespace, index: req.Name}
	switch {
	case strings.HasPrefix(req.Name, sequencePrefix):
		u.key = strings.TrimPrefix(req.Name, sequencePrefix)
	case strings.HasPrefix(req.Name, standalonePrefix):
		u.key, u.standalone = strings.TrimPrefix(req.Name, standalonePrefix), true
	default:
		return u, false
	}
	return u, true
}

func requestFor(namespace, index string) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: namespace, Name: index}}
}
