// Package controllers runs sequences on the API server. It is a thin adapter around the
// engine: it loads one sequence (or one standalone command) from the cache, asks
// engine.Decide for a plan, applies the plan's writes, runs in-process handlers, keeps the
// CommandSequence object current, and requeues at the plan's next instant. No sequencing
// rule lives here; if a test here needs one explained, the answer is in engine/.
//
// Everything is rebuilt from the API server's objects on every reconcile. Two things are
// kept between reconciles:
//
//   - the member index (members.go): the cache's commands filed by unit, in report order,
//     kept by the command watch and forgotten by it when a command is deleted. It mirrors
//     the cache; a unit whose index and sequence are empty is gone.
//   - units (unitstate.go): what this process alone knows of each unit, one entry behind
//     one lock, dropped by units.forget when the reconcile finds the unit gone:
//     the writes it made that the cache may not show yet, and the sequence it created
//     (ownwrites.go; recorded by the writers, statusWriter and sequenceWriter, never by
//     their callers); since when the sequence's progress has waited to be written
//     (budget.go); the handlers it holds, so that a Running command whose handler is not
//     here is known to have lost its executor (runner.go); the Ungated warnings already
//     given (events.go); and the sequence's phase, behind the baton_sequences and
//     baton_active_sequences gauges (metrics.go).
//
// This package must not be imported by engine/ or steps/.
package controllers
