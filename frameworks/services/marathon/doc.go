// Package marathon is the services framework's wire: Marathon's app JSON
// (v2 REST API) with its validation, defaults and partial updates, the
// task ids, environment and health checks derived from an app, and the
// response and event shapes Marathon users' scripts read. No I/O.
//
// The life of a definition:
//
//	app, warnings, err := marathon.ParseApp(body) // typed errors, unknown-field warnings
//	app.Normalize()                               // canonical id, Marathon's defaults
//	if verr := app.Validate(); verr != nil { ... } // every problem, with its path (a 422)
//
// and of an update (PUT /v2/apps/{id}):
//
//	u, warnings, err := marathon.ParseAppUpdate(body)
//	verr := u.ValidateFor(id)                     // no renames; version only with id
//	next := u.Apply(current); next.Normalize(); next.Validate()
//
// See README.md for the defaults (and their sources) and for what Cairn
// rejects and why.
package marathon
