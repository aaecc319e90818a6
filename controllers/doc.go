// Package controllers runs sequences on the API server. It is a thin adapter around the
// engine: it loads one sequence (or one standalone command) from the cache, asks
// engine.Decide for a plan, applies the plan's writes, runs in-process handlers, keeps the
// CommandSequence object current, and requeues at the plan's next instant. No sequencing
// rule lives here; if a test here needs one explained, the answer is in engine/.
//
// Everything is rebuilt from the API server's objects on every reconcile. What is kept
// between reconciles is derived from them or from this process alone: the member index
// (the cache's commands filed by sequence, in report order, kept by the command watch),
// which handlers this process is running right now, so that a Running command whose
// handler is not here is known to have lost its executor, the progress writes waiting to
// be coalesced, and each sequence's phase, behind the baton_sequences and
// baton_active_sequences gauges.
//
// This package must not be imported by engine/ or steps/.
package controllers
