package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/version"
	"github.com/cairn-dc/cairn/images"
	"github.com/cairn-dc/cairn/kernel/agent"
	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// agentOptions are the flags of an agent.
type agentOptions struct {
	NATSURL      string
	WorkDir      string
	Hostname     string
	Address      string
	Resources    string
	Attributes   string
	HTTPAddr     string
	Isolation    string
	NoCPUCap     bool
	KillGrace    time.Duration
	GCDelay      time.Duration
	FetchCacheMB int64
	// MasterURL is the operator API, told to tasks as CAIRN_URL.
	MasterURL string
	// PlainHTTPRegistries are registries (host:port) reached over plain
	// http besides loopback ones.
	PlainHTTPRegistries []string
	// ModulesConfig lists hook modules a standalone agent runs (cairn up's
	// agents use the master's module host instead).
	ModulesConfig string
	// TaskNATSURL is what tasks get as CAIRN_NATS_URL (default: NATSURL
	// without its credentials, which are the agent's).
	TaskNATSURL string
	// NATSCA is the CA file to trust a TLS NATS with (also given to tasks
	// as CAIRN_NATS_CA).
	NATSCA string
}

func (o *agentOptions) addFlags(fs *pflag.FlagSet, withConn bool) {
	if withConn {
		fs.StringVar(&o.NATSURL, "nats-url", "nats://127.0.0.1:4222", "the cluster's NATS `url`, with the agent identity's credentials (nats://agent:PASSWORD@host:4222; a master keeps them in <data-dir>/nats-credentials.json)")
		fs.StringVar(&o.NATSCA, "nats-ca", "", "PEM `file` of the CA to trust a TLS NATS (tls://) with; tasks get it as CAIRN_NATS_CA")
		fs.StringVar(&o.TaskNATSURL, "task-nats-url", "", "NATS `url` tasks get as CAIRN_NATS_URL, for frameworks run as tasks: give it the framework identity's credentials (default: --nats-url without its credentials)")
		fs.StringVar(&o.WorkDir, "work-dir", filepath.Join(defaultDataDir(), "agent"), "`dir` for checkpoints, sandboxes and the fetch cache")
		fs.StringVar(&o.Hostname, "hostname", "", "the agent's unique `name` (default: the machine's hostname)")
		fs.StringVar(&o.Address, "address", "", "`address` where its tasks are reached (default: the hostname's address)")
		fs.StringVar(&o.Resources, "resources", "", "`resources` overriding detection, e.g. cpus:4;mem:8192;ports:[31000-32000]")
		fs.StringVar(&o.HTTPAddr, "http", "127.0.0.1:5051", "agent API listen `address` (sandbox files, task logs)")
		fs.StringVar(&o.MasterURL, "master-url", "", "the master's operator API `url`, told to tasks as CAIRN_URL (frameworks run as tasks find the cluster with it)")
		fs.StringVar(&o.ModulesConfig, "modules-config", "", "JSON `file` listing hook modules to ask before every launch ([{\"name\", \"kind\": \"hook\", \"path\", \"sha256\", \"config\"}])")
	}
	fs.StringVar(&o.Attributes, "attributes", "", "agent `attributes`, e.g. rack:r1;zone:a")
	fs.StringVar(&o.Isolation, "isolation", "auto", "task isolation: auto (cgroups when root), cgroups (required) or none")
	fs.BoolVar(&o.NoCPUCap, "no-cpu-hard-limit", false, "weight CPU by cpus (shares) without capping it (CFS quota)")
	fs.DurationVar(&o.KillGrace, "kill-grace", 5*time.Second, "SIGTERM→SIGKILL grace for tasks that give none")
	fs.DurationVar(&o.GCDelay, "gc-delay", 7*24*time.Hour, "keep the sandboxes of ended tasks this long (less when the disk fills)")
	fs.Int64Var(&o.FetchCacheMB, "fetch-cache-mb", 2048, "bound of the fetcher's cache, in MB")
	fs.StringSliceVar(&o.PlainHTTPRegistries, "insecure-registry", nil,
		"OCI registry `host:port` to reach over plain http (loopback registries always are); repeatable")
}

// clusterEnv tells tasks where the cluster is (never its token: a task
// needing one gets its own).
func clusterEnv(masterURL, natsURL, natsCA string) map[string]string {
	env := map[string]string{}
	if natsCA != "" {
		env[envNATSCA] = natsCA
	}
	if masterURL != "" {
		env[cmdutil.EnvURL] = masterURL
	}
	if natsURL != "" {
		env["CAIRN_NATS_URL"] = natsURL
	}
	return env
}

// newAgent makes an agent able to fetch oci:// artifacts (installed
// packages' binaries) from registries, digest-checked and cached.
func (o *agentOptions) newAgent(cfg agent.Config) (*agent.Agent, error) {
	a, err := agent.New(cfg)
	if err != nil {
		return nil, err
	}
	insecure := map[string]bool{}
	for _, h := range o.PlainHTTPRegistries {
		insecure[strings.TrimSpace(h)] = true
	}
	src, err := images.NewArtifactSource(images.ArtifactConfig{
		PlainHTTP: func(host string) bool { return insecure[host] || isLoopback(host) },
		Logger:    cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("oci artifact source: %w", err)
	}
	a.Fetcher().Register("oci", src)
	return a, nil
}

// supervisorCommand re-executes this binary as a task supervisor.
func supervisorCommand(dir, cgroupParent string) []string {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return []string{exe, "supervisor", "--dir", dir, "--cgroup-parent", cgroupParent}
}

// agentConfig turns options into an agent configuration.
func (o *agentOptions) config(log *slog.Logger, token string) (agent.Config, error) {
	res, err := resources.Parse(o.Resources)
	if err != nil {
		return agent.Config{}, cmdutil.UsageErrorf("--resources: %v", err)
	}
	attrs, err := resources.ParseAttributes(o.Attributes)
	if err != nil {
		return agent.Config{}, cmdutil.UsageErrorf("--attributes: %v", err)
	}
	switch o.Isolation {
	case "auto", "cgroups", "none":
	default:
		return agent.Config{}, cmdutil.UsageErrorf("--isolation %q: use auto, cgroups or none", o.Isolation)
	}
	return agent.Config{WorkDir: o.WorkDir, Hostname: o.Hostname, Address: o.Address, Resources: res, Attributes: attrs,
		HTTPAddr: o.HTTPAddr, Token: token, SupervisorCommand: supervisorCommand, Isolation: o.Isolation,
		DisableCPUHardLimit: o.NoCPUCap, DefaultKillGrace: o.KillGrace, GCDelay: o.GCDelay,
		FetchCacheBytes: o.FetchCacheMB << 20, Version: version.Get().String(), Logger: log}, nil
}

// newAgentRunCmd is "cairn agent run": the agent daemon.
func newAgentRunCmd(f *cli.Factory) *cobra.Command {
	o := &agentOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run an agent on this machine",
		Long: `Run a Cairn agent: it advertises this machine's resources to the master
(detected, or given with --resources), runs tasks in sandboxes under --work-dir
(in cgroups when run as root), runs their health checks, and serves their
files and logs on its API (--http).

Tasks keep running when the agent stops or restarts: they belong to a small
supervisor process the agent starts; a restarted agent re-attaches to them.`,
		Example: `  cairn agent run --nats-url nats://agent:PASSWORD@master:4222 --attributes rack:r1
  cairn agent run --resources 'cpus:2;mem:4096' --hostname agent-7`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.Default()
			cfg, err := o.config(log, f.BearerToken())
			if err != nil {
				return err
			}
			token := f.BearerToken()
			if token == "" && o.HTTPAddr != "" && !isLoopback(o.HTTPAddr) {
				return fmt.Errorf("refusing to serve the agent API on %s without a token: set --token or CAIRN_TOKEN, or listen on 127.0.0.1", o.HTTPAddr)
			}
			nc, err := bus.Connect(o.NATSURL, "cairn-agent", log, natsTLS(o.NATSCA)...)
			if err != nil {
				return err
			}
			defer nc.Close()
			cfg.Conn = nc
			cfg.TaskEnv = clusterEnv(o.MasterURL, cmp.Or(o.TaskNATSURL, withoutUser(o.NATSURL)), o.NATSCA)
			if o.ModulesConfig != "" {
				hooks, mh, err := startAgentHooks(cmd.Context(), o.ModulesConfig, log)
				if err != nil {
					return err
				}
				defer mh.shutdown()
				cfg.LaunchHook = hooks.beforeLaunch
			}
			a, err := o.newAgent(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.Out, "Cairn agent %s (%s) starting; API %s\n", a.ID(), a.Info().Hostname, a.Info().URL)
			err = a.Run(cmd.Context())
			if cmd.Context().Err() != nil {
				fmt.Fprintln(f.IOStreams.Out, "agent stopped; its tasks keep running under the supervisor")
				return nil
			}
			return err
		},
	}
	o.addFlags(cmd.Flags(), true)
	return cmd
}

// addAgentRun hangs "run" under the CLI's "agent" noun.
func addAgentRun(root *cobra.Command, f *cli.Factory) {
	for _, c := range root.Commands() {
		if c.Name() == "agent" {
			c.AddCommand(newAgentRunCmd(f))
			return
		}
	}
}

// runAgents starts n agents as goroutines of this process (cairn up).
type localAgents struct {
	agents []*agent.Agent
	cancel context.CancelFunc
	done   chan struct{}
}

func startLocalAgents(rm *runningMaster, n int, dataDir string, base resources.Resources, o *agentOptions, token string, log *slog.Logger) (*localAgents, error) {
	// The agents outlive Ctrl-C until stop has killed their tasks.
	actx, cancel := context.WithCancel(context.Background())
	la := &localAgents{cancel: cancel, done: make(chan struct{})}
	running := 0
	finished := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("agent-%d", i+1)
		lo := 31000 + 1000*i
		ports := resources.MustParse(fmt.Sprintf("ports:[%d-%d]", lo, lo+999))
		cfg, err := o.config(log.With("agent", name), token)
		if err != nil {
			cancel()
			return nil, err
		}
		cfg.WorkDir = filepath.Join(dataDir, "agents", name)
		cfg.Hostname, cfg.Address, cfg.HTTPAddr = name, "127.0.0.1", "127.0.0.1:0"
		cfg.Resources = base.Plus(ports)
		if len(cfg.Attributes) == 0 {
			cfg.Attributes = resources.MustParseAttributes("agent:" + name)
		}
		nc, err := rm.connect("cairn-"+name, bus.RoleAgent)
		if err != nil {
			cancel()
			return nil, err
		}
		cfg.Conn = nc
		cfg.TaskEnv = clusterEnv(rm.APIURL, rm.taskNATSURL(), rm.natsCA)
		cfg.LaunchHook = rm.moduleHost.beforeLaunch
		a, err := o.newAgent(cfg)
		if err != nil {
			nc.Close()
			cancel()
			return nil, err
		}
		la.agents = append(la.agents, a)
		running++
		go func() {
			defer nc.Close()
			if err := a.Run(actx); err != nil && actx.Err() == nil {
				log.Error("agent stopped", "agent", name, "err", err)
			}
			finished <- struct{}{}
		}()
	}
	go func() {
		for i := 0; i < running; i++ {
			<-finished
		}
		close(la.done)
	}()
	return la, nil
}

// waitReady waits until every agent has registered with the master.
func (la *localAgents) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		ready := 0
		for _, a := range la.agents {
			if a.Ready() {
				ready++
			}
		}
		if ready == len(la.agents) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("only %d of %d agents registered within 60s (see the log above)", ready, len(la.agents))
		case <-la.done:
			return fmt.Errorf("the agents stopped while starting (see the log above)")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop kills every task (grace, then SIGKILL), lets the agents report it,
// and stops them.
func (la *localAgents) stop(grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace+10*time.Second)
	defer cancel()
	// All at once: each waits up to grace for its tasks to end.
	var wg sync.WaitGroup
	for _, a := range la.agents {
		wg.Go(func() {
			if err := a.Shutdown(ctx, grace); err != nil {
				slog.Warn("agent shutdown", "agent", a.Info().Hostname, "err", err)
			}
		})
	}
	wg.Wait()
	for _, a := range la.agents {
		a.WaitIdle(ctx)
	}
	la.cancel()
	<-la.done
}

// splitResources divides the machine between n agents sharing it.
func splitResources(workDir string, n int, given string) (resources.Resources, error) {
	if strings.TrimSpace(given) != "" {
		r, err := resources.Parse(given)
		if err != nil {
			return nil, cmdutil.UsageErrorf("--agent-resources: %v", err)
		}
		return r, nil
	}
	if err := os.MkdirAll(workDir, 0o750); err != nil {
		return nil, err
	}
	all, err := agent.DetectResources(workDir, nil)
	if err != nil {
		return nil, err
	}
	div := resources.Value(n)
	if div < 1 {
		div = 1
	}
	var out resources.Resources
	for _, name := range []string{"cpus", "mem", "disk"} {
		v := all.ScalarTotal(name) / div
		if name == "cpus" && v < resources.FromFloat(0.5) {
			v = resources.FromFloat(0.5)
		}
		if name != "cpus" {
			v -= v % resources.Scale // whole MB
		}
		out = append(out, resources.Resource{Name: name, Type: resources.Scalar, Scalar: v})
	}
	return resources.Resources(nil).Plus(out), nil
}
