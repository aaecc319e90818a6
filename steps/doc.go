// Package steps is baton's handler SDK: what runs an in-process step of a sequence.
//
// # Contract
//
// A step type is a [Handler] registered in a [Registry] under a commandType and, optionally,
// a commandVersion. When the engine opens a command's gate and finds a handler for its
// type, it claims the command (a status write guarded by resourceVersion, so no step ever
// runs twice at once), calls Run with a context that ends at the command's TTL, and writes
// the outcome to the command's status:
//
//   - a nil error completes the command as Succeeded; the returned value becomes
//     status.payload through [EncodePayload] (nil stays empty, []byte and json.RawMessage
//     are written as they are, anything else is JSON-encoded);
//   - a non-nil error fails it. Errors are permanent unless wrapped with [Retryable], in
//     which case the engine re-runs the handler with exponential backoff while attempts
//     remain (annotation kubescape.io/retries) and the TTL allows.
//
// A handler must return promptly when its context ends. What it returns then is discarded:
// either the TTL passed (the engine marks the command Expired) or the manager is stopping
// (the next manager re-runs an [Idempotent] handler, or fails the command with reason
// ExecutorLost). A failed command's status.error has reason HandlerFailed and the error's
// text as its message. A handler logs only through Request.Logger, which carries the
// command's name and type. A type with no registered handler is not an error: the engine treats
// it as external and leaves it to another executor (DESIGN.md section 4).
//
// Optional capabilities are separate small interfaces a handler may also implement, the way
// [Idempotent] declares that a step may be re-run after the executor running it was lost
// (a manager restart); without it such a step fails with reason ExecutorLost, and
// [StepsIgnorer] that it never reads the earlier steps, which spares a long sequence the
// cost of building them for every step.
//
// # Built-in steps
//
// [RegisterBuiltins] registers noop, sleep, expr, apply, wait and http; the manager does so
// at start. Each is documented on its type ([Noop], [Sleep], [Expr], [Apply], [Wait],
// [HTTP]) and in docs/handlers.md.
//
// # Imports
//
// This package owns the handler contract, the registry and the built-in handlers. It may
// import api/v1alpha1 and the pure engine package (for [engine.Env] and the expression
// evaluator); it must not import controllers/ or cmd/, which import it.
package steps
