package sdk

import (
	"fmt"
	"os"

	plugin "github.com/hashicorp/go-plugin"
)

// Serve runs m as a module: call it from main. m must implement Watcher,
// Hook, or both. Serve returns only when the host ends the module (it then
// exits the process); run by hand, outside a module host, it says so and
// exits with status 1.
func Serve(m Module) {
	if m == nil || len(kindsOf(m)) == 0 {
		fmt.Fprintf(os.Stderr, "sdk.Serve: %T implements neither sdk.Watcher nor sdk.Hook: give it a Watch or a BeforeLaunch method\n", m)
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake(),
		Plugins:         PluginSet(m),
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
