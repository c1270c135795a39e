//go:build tools

// Package tools pins the etcd server module so that `go build go.etcd.io/etcd/server/v3` builds etcd from
// this wrapper: etcd's own go.mod has replace directives, which rule out a plain `go install`.
package tools

import _ "go.etcd.io/etcd/server/v3"
