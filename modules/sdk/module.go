// Package sdk is what a Cairn module imports: the go-plugin handshake, the
// typed interfaces of the module kinds (Watcher, Hook), the Host a module
// may call back, the cluster types, and Serve, which a module's main calls.
//
// A module is a program the module host starts with hashicorp/go-plugin and
// talks to over gRPC (modulepb/module.proto; mutual TLS set up by
// go-plugin). A minimal watcher:
//
//	type counter struct{}
//
//	func (counter) Configure(ctx context.Context, config []byte) error { return nil }
//
//	func (counter) Watch(ctx context.Context, host sdk.Host, snap sdk.Snapshot, events <-chan sdk.Event) error {
//		log := sdk.Logger(host)
//		log.Info("watching", "tasks", len(snap.Tasks))
//		for ev := range events {
//			log.Info("event", "type", ev.Type)
//		}
//		return nil
//	}
//
//	func main() { sdk.Serve(counter{}) }
//
// See README.md beside this file and docs/modules.md.
package sdk

import (
	"context"
	"log/slog"

	plugin "github.com/hashicorp/go-plugin"
)

// The go-plugin handshake. The host refuses a binary built with another
// protocol version; the magic cookie only tells a person who runs a module
// by hand that it is not a command.
const (
	// ProtocolVersion is the module protocol's version; it changes only
	// when modulepb/module.proto changes incompatibly.
	ProtocolVersion = 1
	// MagicCookieKey and MagicCookieValue are the environment variable the
	// host sets for a module, and its value.
	MagicCookieKey   = "CAIRN_MODULE_MAGIC_COOKIE"
	MagicCookieValue = "b8a6c0f4c1e4d7b2-cairn-module"
	// PluginName is the one go-plugin plugin a module serves.
	PluginName = "module"
	// Version is this SDK's version, reported to the host (Info).
	Version = "1.0.0"
)

// Handshake is the go-plugin handshake both sides use.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{ProtocolVersion: ProtocolVersion,
		MagicCookieKey: MagicCookieKey, MagicCookieValue: MagicCookieValue}
}

// Module is what every module implements; a module also implements Watcher,
// Hook, or both.
type Module interface {
	// Configure is called once, right after the module starts and before
	// anything else, with the configuration given to the host for this
	// module (the JSON of its "config" object, or the bytes of its "config"
	// string; empty when it has none). An error stops the module: the host
	// logs it and starts the module again later (with backoff), so say
	// what is wrong and how to fix it.
	Configure(ctx context.Context, config []byte) error
}

// Watcher is a module that follows the cluster (DNS, load balancers,
// inventories ...).
type Watcher interface {
	Module
	// Watch receives the cluster: snapshot first, then every change on
	// events, in order. host is how to call the host back (Log, Snapshot).
	//
	// Return nil when events is closed: the host ended the stream (it is
	// stopping the module, or this watcher fell too far behind) and may
	// call Watch again with a fresh snapshot, so keep no state across
	// calls that the snapshot does not rebuild. Return an error when you
	// cannot go on: the host logs it and restarts the module. Returning
	// while events is still open counts as the latter. ctx is cancelled
	// when the host goes away.
	Watch(ctx context.Context, host Host, snapshot Snapshot, events <-chan Event) error
}

// Hook is a module the agent asks before launching a task.
type Hook interface {
	Module
	// BeforeLaunch may add environment variables and labels to the task.
	// It must be quick: the host gives every hook a deadline (ctx) and
	// reports a late one as failed. An error is reported to the agent with
	// the module's name.
	BeforeLaunch(ctx context.Context, host Host, task TaskLaunchInfo) (LaunchChanges, error)
}

// Host is what a module may ask of the host. It is safe for concurrent use.
type Host interface {
	// Log writes a line to the host's log (log/slog), attributed to the
	// module. Logger wraps it in a *slog.Logger.
	Log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) error
	// Snapshot is the cluster as the host knows it now.
	Snapshot(ctx context.Context) (Snapshot, error)
}

// kindsOf lists the kinds m implements.
func kindsOf(m Module) []Kind {
	var kinds []Kind
	if _, ok := m.(Watcher); ok {
		kinds = append(kinds, KindWatcher)
	}
	if _, ok := m.(Hook); ok {
		kinds = append(kinds, KindHook)
	}
	return kinds
}
