// Package faults holds process-level fault tests: the real bin/manager, built from this
// tree, runs as a subprocess against a local control plane (internal/localcluster) while a
// test kills it, kills the leader of two, stops the API server under it, or storms its
// commands with conflicting writes. Steps are `http` steps against an httptest server in
// the test process, so invocations are counted outside the manager: a step run twice
// shows there even when the manager's own records were lost.
//
// The package has tests only; nothing may import it.
package faults
