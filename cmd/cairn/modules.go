package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/cairn-dc/cairn/kernel/agent"
	"github.com/cairn-dc/cairn/modules/host"
	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/modules/sdk"
)

// moduleOptions are the flags of the module host, shared by `cairn
// master` and `cairn up`.
type moduleOptions struct {
	DNSAddr    string
	ModulesDir string
	// Config is a JSON file listing more modules (name, kind, path,
	// sha256, config).
	Config string
}

func (o *moduleOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DNSAddr, "dns", "127.0.0.1:8053",
		"listen `address` of the DNS module (names for tasks and apps: <app>.services.cairn); \"none\" runs no DNS")
	fs.StringVar(&o.ModulesDir, "modules-dir", "",
		"`dir` of the built-in module binaries and their SHA256SUMS (default: modules/ beside the cairn binary)")
	fs.StringVar(&o.Config, "modules-config", "",
		"JSON `file` listing more modules to run: [{\"name\", \"kind\" (watcher|hook), \"path\", \"sha256\", \"config\"}] (see docs/modules.md)")
}

func (o *moduleOptions) modulesDir() string {
	if o.ModulesDir != "" {
		return o.ModulesDir
	}
	exe, err := os.Executable()
	if err != nil {
		return "modules"
	}
	return filepath.Join(filepath.Dir(exe), "modules")
}

// dnsModule is the built-in DNS module's binary name (make modules).
const dnsModule = "cairn-dns"

// readSums reads a sha256sum file: "<hex>  <name>" lines.
func readSums(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 {
			sums[strings.TrimPrefix(fields[1], "*")] = fields[0]
		}
	}
	return sums, sc.Err()
}

// builtinModules are the modules cairn up runs: the DNS module, checked
// against the checksum make build recorded beside it.
func (o *moduleOptions) builtinModules() ([]moduleapi.Spec, error) {
	if o.DNSAddr == "" || o.DNSAddr == "none" {
		return nil, nil
	}
	dir, err := filepath.Abs(o.modulesDir())
	if err != nil {
		return nil, err
	}
	sums, err := readSums(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		return nil, fmt.Errorf("built-in modules: %w: build them with make build (or pass --dns none)", err)
	}
	sum, ok := sums[dnsModule]
	if !ok {
		return nil, fmt.Errorf("built-in modules: %s has no checksum for %s: build it with make build (or pass --dns none)", filepath.Join(dir, "SHA256SUMS"), dnsModule)
	}
	cfg, err := json.Marshal(map[string]any{"listen": o.DNSAddr})
	if err != nil {
		return nil, err
	}
	return []moduleapi.Spec{{Name: "dns", Kind: "watcher", Path: filepath.Join(dir, dnsModule), SHA256: sum, Config: cfg}}, nil
}

// describe prints where the DNS module answers.
func (o *moduleOptions) describe(out io.Writer) {
	if o.DNSAddr == "" || o.DNSAddr == "none" {
		fmt.Fprintf(out, "  modules       /v1/modules (no DNS: --dns none)\n")
		return
	}
	fmt.Fprintf(out, "  DNS           %s (<task>.<framework>.cairn, <app>.services.cairn; module dns, see cairn module list)\n", o.DNSAddr)
}

// moduleHost is the running module host.
type moduleHost struct {
	h    *host.Host
	stop context.CancelFunc
	done chan error
}

// startModuleHost starts the module host: the built-in modules and those
// installed through its API (kept in the data dir), fed with the
// cluster's state by the master's operator API; its API is mounted on the
// master's endpoint (/v1/modules).
func startModuleHost(ctx context.Context, rm *runningMaster, dataDir string, o *moduleOptions, token string, log *slog.Logger) (*moduleHost, error) {
	specs, err := o.builtinModules()
	if err != nil {
		return nil, err
	}
	if o.Config != "" {
		data, err := os.ReadFile(o.Config)
		if err != nil {
			return nil, fmt.Errorf("--modules-config: %w", err)
		}
		more, err := host.DecodeSpecs(data)
		if err != nil {
			return nil, fmt.Errorf("--modules-config %s: %w", o.Config, err)
		}
		for _, m := range more {
			for _, s := range specs {
				if s.Name == m.Name {
					return nil, fmt.Errorf("--modules-config %s: module %q is a built-in module's name: choose another", o.Config, m.Name)
				}
			}
		}
		specs = append(specs, more...)
	}
	mc, err := host.NewMasterClient(rm.APIURL, token, nil)
	if err != nil {
		return nil, err
	}
	store, err := host.OpenStore(filepath.Join(dataDir, "modules.json"))
	if err != nil {
		return nil, err
	}
	h, err := host.New(host.Config{Logger: log.With("component", "modules"), Master: mc, Store: store,
		Sources: []host.Source{host.StaticSource(specs...)}})
	if err != nil {
		return nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	mh := &moduleHost{h: h, stop: cancel, done: make(chan error, 1)}
	go func() { mh.done <- h.Run(mctx) }()
	rm.modulesAPI.Set(h.Handler())
	rm.moduleHost.h.Store(h)
	return mh, nil
}

// lateHost is the module host once it runs: it gives agents its hook
// modules, and the package API installs module packages on it
// (modulePackages).
type lateHost struct {
	h atomic.Pointer[host.Host]
}

// beforeLaunch is an agent.LaunchHook: the hook modules' environment and
// label changes (the labels reach the master on the task's updates).
func (l *lateHost) beforeLaunch(ctx context.Context, t agent.LaunchInfo) (agent.LaunchChanges, error) {
	h := l.h.Load()
	if h == nil {
		return agent.LaunchChanges{}, nil
	}
	env, labels, err := h.BeforeLaunch(ctx, sdk.TaskLaunchInfo{TaskID: string(t.TaskID), Name: t.Name, FrameworkID: string(t.FrameworkID),
		Env: t.Env, Labels: t.Labels, Command: t.Command})
	return agent.LaunchChanges{Env: env, Labels: labels}, err
}

// startAgentHooks runs the hook modules listed in file (a JSON list of
// specs, as --modules-config) for a standalone agent, which asks them
// before every launch. Watchers are refused: they follow the cluster on
// the master's module host.
func startAgentHooks(ctx context.Context, file string, log *slog.Logger) (*lateHost, *moduleHost, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("--modules-config: %w", err)
	}
	specs, err := host.DecodeSpecs(data)
	if err != nil {
		return nil, nil, fmt.Errorf("--modules-config %s: %w", file, err)
	}
	for _, s := range specs {
		if s.Kind != moduleapi.KindHook {
			return nil, nil, fmt.Errorf("--modules-config %s: module %s is a %s: an agent runs hook modules only (watchers run on the master's module host: cairn master --modules-config)", file, s.Name, s.Kind)
		}
	}
	h, err := host.New(host.Config{Logger: log.With("component", "modules"), Sources: []host.Source{host.StaticSource(specs...)}})
	if err != nil {
		return nil, nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	mh := &moduleHost{h: h, stop: cancel, done: make(chan error, 1)}
	go func() { mh.done <- h.Run(mctx) }()
	// The agent launches nothing before its hooks have started (or failed):
	// a task must not miss their changes because it came first.
	wait, stop := context.WithTimeout(ctx, hookStartWait)
	defer stop()
	for !hooksStarted(h, len(specs)) {
		select {
		case <-wait.Done():
			log.Warn("hook modules still starting; the agent starts without waiting longer", "waited", hookStartWait)
			return lateHostOf(h), mh, nil
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, st := range h.List() {
		if st.State != moduleapi.Running {
			log.Warn("a hook module is not running: tasks launch without its changes until it does", "module", st.Name, "state", st.State, "err", st.LastError)
		}
	}
	return lateHostOf(h), mh, nil
}

// hookStartWait bounds how long a standalone agent waits for its hook
// modules to start.
const hookStartWait = 30 * time.Second

// hooksStarted says whether all n modules of h are past starting.
func hooksStarted(h *host.Host, n int) bool {
	list := h.List()
	if len(list) < n {
		return false
	}
	for _, st := range list {
		if st.State == moduleapi.Starting {
			return false
		}
	}
	return true
}

func lateHostOf(h *host.Host) *lateHost {
	l := &lateHost{}
	l.h.Store(h)
	return l
}

// shutdown stops every module.
func (mh *moduleHost) shutdown() {
	mh.stop()
	<-mh.done
}
