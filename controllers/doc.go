// Package controllers runs sequences on the API server. It is a thin adapter around the
// engine: it loads one sequence (or one standalone command) from the cache, asks
// engine.Decide for a plan, applies the plan's writes, runs in-process handlers, keeps the
// CommandSequence object current, and requeues at the plan's next instant. No sequencing
// rule lives here; if a test here needs one explained, the answer is in engine/.
//
// Everything is rebuilt from the API server on every reconcile. The only memory kept
// between reconciles is which handlers this process is running right now, so that a
// Running command whose handler is not here is known to have lost its executor (and the
// set of active sequences behind the baton_active_sequences gauge).
//
// This package must not be imported by engine/ or steps/.
package controllers
