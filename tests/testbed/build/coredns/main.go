// Command coredns is the test bed's cluster DNS: CoreDNS with only the plugins its Corefile uses, so that the build
// does not fetch the modules of every cloud plugin. No `forward` plugin: names outside the cluster do not resolve,
// and no DNS query leaves the test bed.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/rewrite"
)

// The plugins in CoreDNS's own execution order (its plugin.cfg).
var directives = []string{
	"reload", "ready", "health", "errors", "log", "loadbalance", "cache", "rewrite", "hosts", "kubernetes", "loop",
}

func init() { dnsserver.Directives = directives }

func main() { coremain.Run() }
