package repository

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// Services is what the package API needs of the services framework
// (Cairn's Marathon, whose v2 REST API the master proxies at
// /service/services/): installed packages are its apps, and their install
// state is their labels. The composition root adapts the services API
// client (cli/apiclient) to it.
//
// Errors: an app that does not exist wraps ErrAppNotFound; the other
// sentinels below let the package API answer precisely; anything else is
// reported as the services framework being unavailable (503).
type Services interface {
	// Apps lists the apps whose labels match selector, as
	// GET /v2/apps?label=<selector>: "KEY" (the label is set) or
	// "KEY==VALUE". The apps carry their task counts.
	Apps(ctx context.Context, labelSelector string) ([]marathon.AppStatus, error)
	// App is GET /v2/apps/<id> (id canonical, "/web").
	App(ctx context.Context, id string) (marathon.AppStatus, error)
	// CreateApp is POST /v2/apps with an app definition (a JSON object);
	// it returns the deployment creating the app ("" if none).
	CreateApp(ctx context.Context, definition json.RawMessage) (deploymentID string, err error)
	// UpdateApp is PUT /v2/apps/<id> with the app's new definition (all
	// the fields a package renders); not forced: a deployment in progress
	// holding the app is ErrAppLocked.
	UpdateApp(ctx context.Context, id string, definition json.RawMessage) (deploymentID string, err error)
	// DeleteApp is DELETE /v2/apps/<id>: kill its tasks and remove it.
	DeleteApp(ctx context.Context, id string) (deploymentID string, err error)
}

// Errors a Services implementation wraps (errors.Is) so the package API
// answers with the right status and type.
var (
	// ErrAppNotFound: no such app (the services API's 404).
	ErrAppNotFound = errors.New("app not found")
	// ErrAppExists: an app with that id exists (409 on create).
	ErrAppExists = errors.New("app already exists")
	// ErrAppInvalid: the services framework refused the app definition
	// (its 422); the error's message should list the problems.
	ErrAppInvalid = errors.New("app definition refused")
	// ErrAppLocked: a deployment in progress holds the app (409 on
	// update or delete).
	ErrAppLocked = errors.New("app locked by a deployment")
)
