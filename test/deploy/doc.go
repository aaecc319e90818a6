// Package deploy tests what `kubectl apply -k config/default` installs: every manifest is
// validated by a real API server (server-side dry run), the generated RBAC is checked for
// least privilege, and, with the build tag image (make test-image), the manager image runs
// with the Deployment's arguments and hardening and completes a sequence.
package deploy
