package controllers

import (
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

const (
	sequencePrefix   = "seq:"
	standalonePrefix = "cmd:"
)

// unitKey names the unit a command is reconciled in: "seq:<key>" for a sequence member,
// "cmd:<name>" for a standalone command. It is the reconcile request's name, so one
// reconcile handles one sequence, and the member index files the command under it.
func unitKey(cmd *batonv1.OperatorCommand) string {
	if !cmd.InSequence() {
		return standalonePrefix + cmd.Name
	}
	return sequencePrefix + cmd.SequenceKey()
}

// unit is a parsed request: a sequence key, or a standalone command's name.
type unit struct {
	namespace  string
	index      string // the unitKey
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
