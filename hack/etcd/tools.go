//go:build tools

// Package etcd pins the etcd that tests, the demo and the benchmark run against. It is a
// module of its own: `go install ...@version` refuses etcd because its go.mod has replaces.
package etcd

import _ "go.etcd.io/etcd/server/v3"
