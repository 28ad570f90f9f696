package services

import "strings"

// The framework's state is in a JetStream KV bucket of its own
// (frameworks/internal/kvstate), "cairn-fw-<name>":
//
//	framework-id                 the framework's ID (to fail over)
//	app.<app id>                 the current definition of each app
//	version.<app id>.<version>   every stored version (bounded per app)
//	deployment.<id>              deployments in progress
//	instance.<task id>           every instance (task) not yet forgotten

// Keys. App ids ("/prod/web") and versions are valid key material: KV keys
// allow '/', '-', '_', '.' and alphanumerics.
func appKey(id string) string                { return "app." + id }
func versionKey(id, version string) string   { return "version." + id + "." + kvSafe(version) }
func deploymentKey(id string) string         { return "deployment." + id }
func instanceKey(taskID string) string       { return "instance." + taskID }
func versionPrefix(id string) string         { return "version." + id + "." }
func kvSafe(s string) string                 { return strings.NewReplacer(":", "-").Replace(s) }
func keyKind(key string) (kind, rest string) { kind, rest, _ = strings.Cut(key, "."); return }
