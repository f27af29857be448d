//go:build tools

// Package cluster is a throwaway Go module whose only purpose is to pin the
// upstream Kubernetes and etcd versions used by the Kiln e2e cluster, so that
// build.sh can `go build` their commands straight from the Go module proxy.
//
// k8s.io/kubernetes cannot be `go install`ed (its go.mod has replace
// directives) and its staging modules are required at v0.0.0; go.mod in this
// directory therefore replaces every staging module with the matching v0.34.x
// tag (see go.mod and build.sh).
package cluster

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
