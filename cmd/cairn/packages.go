package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/services/marathon"
	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/repository"
	"github.com/cairn-dc/cairn/repository/builtin"
	"github.com/cairn-dc/cairn/repository/packageapi"
	"github.com/cairn-dc/cairn/repository/registry"
	"github.com/cairn-dc/cairn/repository/remote"
)

// builtinNamespace is the namespace of the built-in packages in the
// embedded registry: oci://<registry>/cairn.
const builtinNamespace = "cairn"

// packageOptions are the flags of the package manager, shared by `cairn
// master` and `cairn up`.
type packageOptions struct {
	RegistryAddr string
	PackagesDir  string
}

func (o *packageOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.RegistryAddr, "registry", "127.0.0.1:5000",
		"embedded OCI registry listen `address` (the built-in package repository); \"none\" runs no registry")
	fs.StringVar(&o.PackagesDir, "packages-dir", "",
		"`dir` of the built-in packages seeded into the embedded registry (default: packages/ beside the cairn binary)")
}

// packagesDir is where the built-in packages are: --packages-dir, else
// packages/ beside this executable (bin/packages after make build).
func (o *packageOptions) packagesDir() string {
	if o.PackagesDir != "" {
		return o.PackagesDir
	}
	exe, err := os.Executable()
	if err != nil {
		return "packages"
	}
	return filepath.Join(filepath.Dir(exe), "packages")
}

// packageManager is the package API with, unless disabled, the embedded
// registry holding the built-in packages.
type packageManager struct {
	reg        *registry.Registry // nil with --registry none
	BuiltInURI string
	Seeded     []builtin.Result
	nc         *nats.Conn
}

// startPackageManager starts the embedded registry, seeds it with the
// built-in packages and mounts the package API on the master's endpoint
// (/package/). Packages are installed as apps of the services framework,
// reached through the master's /service/services/ proxy.
func startPackageManager(ctx context.Context, rm *runningMaster, dataDir string, o *packageOptions, token string, log *slog.Logger) (*packageManager, error) {
	pm := &packageManager{}
	var builtIn *packageapi.Repository
	if o.RegistryAddr != "" && o.RegistryAddr != "none" {
		if !isLoopback(o.RegistryAddr) {
			return nil, fmt.Errorf("refusing to expose the embedded registry on %s: it has no TLS yet; keep --registry on 127.0.0.1, or run a registry of your own and add it with cairn repo add", o.RegistryAddr)
		}
		reg, err := registry.Start(ctx, registry.Config{Addr: o.RegistryAddr, RootDir: filepath.Join(dataDir, "registry"),
			Logger: log.With("component", "registry")})
		if err != nil {
			return nil, fmt.Errorf("embedded registry: %w (is another cluster running? pick another address with --registry)", err)
		}
		pm.reg = reg
		pm.BuiltInURI = "oci://" + reg.Addr() + "/" + builtinNamespace
		builtIn = &packageapi.Repository{Name: "builtin", URI: pm.BuiltInURI, PlainHTTP: true}
		repo, err := remote.Open(remote.Config{URI: pm.BuiltInURI, PlainHTTP: true, Logger: log})
		if err != nil {
			pm.stop()
			return nil, err
		}
		dir := o.packagesDir()
		if _, err := os.Stat(dir); err != nil {
			log.Warn("no built-in packages to seed the registry with: build them with make build, or pass --packages-dir", "dir", dir, "err", err)
		} else if pm.Seeded, err = builtin.Seed(ctx, repo, dir, log.With("component", "packages")); err != nil {
			pm.stop()
			return nil, err
		}
	}
	client, err := apiclient.New(rm.APIURL, token, cmdutil.NewHTTPClient())
	if err != nil {
		pm.stop()
		return nil, err
	}
	nc, err := rm.connect("cairn-packages", bus.RoleMaster)
	if err != nil {
		pm.stop()
		return nil, err
	}
	pm.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		pm.stop()
		return nil, fmt.Errorf("package repositories: %w", err)
	}
	store, err := repository.NewKVStore(ctx, js, repository.KVStoreOptions{})
	if err != nil {
		pm.stop()
		return nil, err
	}
	mods := &modulePackages{dir: filepath.Join(dataDir, "modules", "packages"), host: &rm.moduleHost}
	srv, err := repository.NewServer(ctx, repository.Config{Services: servicesClient{client}, Modules: mods, Store: store,
		BuiltIn: builtIn, Logger: log.With("component", "packages")})
	if err != nil {
		pm.stop()
		return nil, err
	}
	rm.packageAPI.Set(srv.Handler())
	return pm, nil
}

// describe prints where the registry listens and what it holds.
func (pm *packageManager) describe(out io.Writer) {
	if pm.reg == nil {
		fmt.Fprintf(out, "  packages      /package/ (no embedded registry: add repositories with cairn repo add)\n")
		return
	}
	names := make([]string, 0, len(pm.Seeded))
	for _, r := range pm.Seeded {
		names = append(names, r.Name+" "+r.Version)
	}
	held := "no built-in packages (build them with make build)"
	if len(names) > 0 {
		held = "built-in packages: " + strings.Join(names, ", ")
	}
	fmt.Fprintf(out, "  registry      %s (%s)\n", pm.BuiltInURI, held)
}

func (pm *packageManager) stop() {
	if pm.reg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = pm.reg.Close(ctx)
	}
	if pm.nc != nil {
		pm.nc.Close()
	}
}

// servicesClient is the services framework for the package API: its
// Marathon API through the master's proxy, errors mapped to repository's.
type servicesClient struct{ c *apiclient.Client }

func (s servicesClient) Apps(ctx context.Context, selector string) ([]marathon.AppStatus, error) {
	apps, err := s.c.AppsByLabel(ctx, selector)
	return apps, servicesError(err)
}

func (s servicesClient) App(ctx context.Context, id string) (marathon.AppStatus, error) {
	app, err := s.c.App(ctx, id)
	return app, servicesError(err)
}

func (s servicesClient) CreateApp(ctx context.Context, def json.RawMessage) (string, error) {
	created, err := s.c.CreateApp(ctx, def)
	if err != nil {
		return "", servicesError(err)
	}
	return created.DeploymentID(), nil
}

func (s servicesClient) UpdateApp(ctx context.Context, id string, def json.RawMessage) (string, error) {
	res, err := s.c.UpdateApp(ctx, id, def, false)
	return res.DeploymentID, servicesError(err)
}

// DeleteApp forces the removal over a deployment in progress, as Cosmos
// did: uninstalling an app whose install is still deploying must work.
func (s servicesClient) DeleteApp(ctx context.Context, id string) (string, error) {
	res, err := s.c.DeleteApp(ctx, id, true)
	return res.DeploymentID, servicesError(err)
}

// servicesError maps the services framework's answers to the errors the
// package API knows (see repository.Services).
func servicesError(err error) error {
	if err == nil {
		return nil
	}
	var locked *apiclient.AppLockedError
	var invalid *apiclient.AppInvalidError
	var ae *apiclient.APIError
	var absent *apiclient.NoServiceError
	switch {
	case errors.As(err, &absent):
		return err // the services framework is not running: the API answers 503
	case errors.As(err, &locked):
		return fmt.Errorf("%w: %v", repository.ErrAppLocked, err)
	case errors.As(err, &invalid):
		return fmt.Errorf("%w: %v", repository.ErrAppInvalid, err)
	case errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %v", repository.ErrAppNotFound, err)
	case errors.As(err, &ae) && ae.StatusCode == http.StatusConflict:
		return fmt.Errorf("%w: %v", repository.ErrAppExists, err)
	case errors.As(err, &ae) && ae.StatusCode == http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: %v", repository.ErrAppInvalid, err)
	}
	return err
}
