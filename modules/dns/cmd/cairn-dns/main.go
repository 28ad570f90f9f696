// Command cairn-dns is Cairn's DNS module: run by the module host, it
// serves mesos-dns style names for the cluster's tasks from an embedded
// CoreDNS. See modules/dns/README.md.
package main

import (
	"github.com/cairn-dc/cairn/modules/dns/module"
	"github.com/cairn-dc/cairn/modules/sdk"
)

func main() { sdk.Serve(module.New()) }
