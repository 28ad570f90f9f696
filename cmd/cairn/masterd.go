package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/master"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// masterOptions are the flags of a master, shared by `cairn master` and `cairn up`.
type masterOptions struct {
	DataDir  string
	NATSURL  string
	NATSHost string
	// NATSTLSCert/Key make the embedded NATS require TLS (then it may
	// listen off loopback); NATSTLSCA is what tasks trust it with
	// (default: the certificate itself, self-signed).
	NATSTLSCert, NATSTLSKey, NATSTLSCA string
	NATSPort                           int
	HTTPAddr                           string

	OfferTimeout            time.Duration
	AllocationInterval      time.Duration
	AgentPingInterval       time.Duration
	AgentUnreachableTimeout time.Duration
	FailoverTimeout         time.Duration
	RoleWeights             string
	MinAllocatable          string

	Packages packageOptions
	Modules  moduleOptions
}

func (o *masterOptions) addFlags(fs *pflag.FlagSet) {
	o.Packages.addFlags(fs)
	o.Modules.addFlags(fs)
	fs.StringVar(&o.DataDir, "data-dir", defaultDataDir(), "`dir` for the cluster's data (JetStream files, ids)")
	fs.StringVar(&o.NATSURL, "nats-url", "", "use an external NATS (with JetStream) at this `url` instead of the embedded one")
	fs.StringVar(&o.NATSHost, "nats-host", "127.0.0.1", "embedded NATS listen `host`")
	fs.IntVar(&o.NATSPort, "nats-port", 4222, "embedded NATS listen `port` (-1: any free port)")
	fs.StringVar(&o.NATSTLSCert, "nats-tls-cert", "", "PEM certificate `file`: the embedded NATS then requires TLS (and may listen off loopback)")
	fs.StringVar(&o.NATSTLSKey, "nats-tls-key", "", "PEM key `file` of --nats-tls-cert")
	fs.StringVar(&o.NATSTLSCA, "nats-tls-ca", "", "PEM `file` of the CA that signed --nats-tls-cert, given to tasks as CAIRN_NATS_CA (default: the certificate itself)")
	fs.StringVar(&o.HTTPAddr, "http", "127.0.0.1:5050", "operator API listen `address`")
	fs.DurationVar(&o.OfferTimeout, "offer-timeout", 10*time.Second, "rescind offers not answered within this `duration`")
	fs.DurationVar(&o.AllocationInterval, "allocation-interval", time.Second, "longest `duration` between allocation cycles (changes trigger one sooner)")
	fs.DurationVar(&o.AgentPingInterval, "agent-ping-interval", 5*time.Second, "how often agents ping; 3 missed pings make an agent UNREACHABLE")
	fs.DurationVar(&o.AgentUnreachableTimeout, "agent-unreachable-timeout", 5*time.Minute, "an UNREACHABLE agent is GONE (its tasks too) after this `duration`")
	fs.DurationVar(&o.FailoverTimeout, "framework-failover-timeout", time.Hour, "default failover timeout of frameworks that set none")
	fs.StringVar(&o.RoleWeights, "weights", "", "role weights, e.g. `prod=2,dev=1`")
	fs.StringVar(&o.MinAllocatable, "min-allocatable-resources", "cpus:0.01|mem:32", "offer an agent only if it has at least one of these `quantities`")
}

// defaultDataDir is $XDG_DATA_HOME/cairn or ~/.local/share/cairn.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "cairn")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "cairn")
	}
	return "cairn-data"
}

func parseWeights(s string) (map[string]float64, error) {
	out := map[string]float64{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		role, w, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("--weights: %q is not role=weight (e.g. prod=2)", kv)
		}
		f, err := strconv.ParseFloat(w, 64)
		if err != nil || !(f > 0) {
			return nil, fmt.Errorf("--weights: weight of %q must be a number > 0, got %q", role, w)
		}
		if err := resources.ValidateRole(role); err != nil {
			return nil, fmt.Errorf("--weights: %w", err)
		}
		out[role] = f
	}
	return out, nil
}

func parseMinAllocatable(s string) ([]resources.Resources, error) {
	var out []resources.Resources
	for _, alt := range strings.Split(s, "|") {
		if strings.TrimSpace(alt) == "" {
			continue
		}
		r, err := resources.Parse(alt)
		if err != nil {
			return nil, fmt.Errorf("--min-allocatable-resources: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// persistentID reads an id from file, or makes one and writes it there.
func persistentID(file string, mk func() string) (string, error) {
	if b, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	id := mk()
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return "", err
	}
	return id, os.WriteFile(file, []byte(id+"\n"), 0o640)
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// runningMaster is a master with its NATS and operator API.
type runningMaster struct {
	Bus     *bus.Bus
	Master  *master.Master
	APIURL  string
	NATSURL string
	// starting holds GET /health at 503 while set: `cairn up` reports
	// healthy only once its agents are registered too.
	starting atomic.Bool
	// packageAPI is mounted at /package/ from the start and set once the
	// package repository is up.
	packageAPI lateHandler
	// modulesAPI is mounted at /v1/modules and set once the module host runs.
	modulesAPI lateHandler
	// natsCreds are the embedded NATS's identities (nil with an external
	// NATS).
	natsCreds *natsCredentials
	// natsCA is the CA file tasks trust the embedded NATS's TLS with.
	natsCA string
	// moduleHost is the module host once it runs: its hooks are asked by
	// this process's agents before every launch, and the package API
	// installs module packages on it.
	moduleHost lateHost
	srv        *http.Server
	done       chan error
	cancel     context.CancelFunc
}

// healthGate answers /health with 503 while the cluster is still starting.
func (rm *runningMaster) healthGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" && rm.starting.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"starting","message":"the cluster is starting: its agents are registering"}` + "\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// startMaster starts NATS (embedded unless --nats-url), the master and its
// operator API. Stop it with stop.
func startMaster(ctx context.Context, o *masterOptions, token, version string, log *slog.Logger, starting bool) (*runningMaster, error) {
	if token == "" && !isLoopback(o.HTTPAddr) {
		return nil, fmt.Errorf("refusing to serve the operator API on %s without a token: set --token or CAIRN_TOKEN, or listen on 127.0.0.1", o.HTTPAddr)
	}
	if o.NATSURL == "" && o.NATSTLSCert == "" && !isLoopback(net.JoinHostPort(o.NATSHost, "0")) {
		return nil, fmt.Errorf("refusing to expose the embedded NATS on %s without TLS: give --nats-tls-cert and --nats-tls-key, or keep --nats-host on 127.0.0.1", o.NATSHost)
	}
	weights, err := parseWeights(o.RoleWeights)
	if err != nil {
		return nil, err
	}
	minAlloc, err := parseMinAllocatable(o.MinAllocatable)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", o.DataDir, err)
	}
	id, err := persistentID(filepath.Join(o.DataDir, "master-id"), func() string { return newULID() })
	if err != nil {
		return nil, fmt.Errorf("master id in %s: %w", o.DataDir, err)
	}
	// The embedded NATS takes only its identities (master, agent,
	// framework), each with its subject permissions.
	var creds *natsCredentials
	var users []bus.User
	if o.NATSURL == "" {
		if creds, err = loadNATSCredentials(o.DataDir); err != nil {
			return nil, err
		}
		users = creds.users()
	}
	b, err := bus.Start(ctx, bus.Config{URL: o.NATSURL, Host: o.NATSHost, Port: o.NATSPort,
		StoreDir: filepath.Join(o.DataDir, "nats"), Users: users, TLSCert: o.NATSTLSCert, TLSKey: o.NATSTLSKey, Logger: log})
	if err != nil {
		return nil, err
	}
	rm := &runningMaster{Bus: b, NATSURL: b.URL(), natsCreds: creds}
	if o.NATSTLSCert != "" {
		rm.natsCA = cmp.Or(o.NATSTLSCA, o.NATSTLSCert)
		if rm.natsCA, err = filepath.Abs(rm.natsCA); err != nil {
			b.Shutdown()
			return nil, err
		}
	}
	nc, err := rm.connect("cairn-master", bus.RoleMaster)
	if err != nil {
		b.Shutdown()
		return nil, err
	}
	ln, err := net.Listen("tcp", o.HTTPAddr)
	if err != nil {
		nc.Close()
		b.Shutdown()
		return nil, fmt.Errorf("operator API: listen on %s: %w (is another master running? use --http to pick another address)", o.HTTPAddr, err)
	}
	apiURL := "http://" + ln.Addr().String()
	host, _ := os.Hostname()
	m, err := master.New(master.Config{Conn: nc, ID: id, Hostname: host, URL: apiURL, NATSURL: b.URL(), Version: version, Logger: log,
		AllocationInterval: o.AllocationInterval, OfferTimeout: o.OfferTimeout, AgentPingInterval: o.AgentPingInterval,
		AgentUnreachableTimeout: o.AgentUnreachableTimeout, DefaultFailoverTimeout: o.FailoverTimeout,
		RoleWeights: weights, MinAllocatable: minAlloc})
	if err != nil {
		_ = ln.Close()
		nc.Close()
		b.Shutdown()
		return nil, err
	}
	// The master outlives Ctrl-C until stop: agents report their killed
	// tasks to it on the way down.
	mctx, cancel := context.WithCancel(context.Background())
	rm.Master, rm.APIURL, rm.cancel, rm.done = m, apiURL, cancel, make(chan error, 1)
	rm.srv = &http.Server{Handler: rm.healthGate(m.Handler(master.HTTPConfig{Token: token,
		Mounts: map[string]http.Handler{"/package/": &rm.packageAPI, "/v1/modules": &rm.modulesAPI, "/v1/modules/": &rm.modulesAPI}})), ReadHeaderTimeout: 10 * time.Second}
	rm.starting.Store(starting)
	go func() {
		if err := rm.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("operator API stopped", "err", err)
		}
	}()
	go func() {
		rm.done <- m.Run(mctx)
		nc.Close()
	}()
	return rm, nil
}

// waitReady waits until the master leads and has recovered its state.
func (rm *runningMaster) waitReady(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !rm.Master.Ready() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-rm.done:
			rm.done <- err
			return fmt.Errorf("master stopped before it was ready: %v", err)
		case <-t.C:
		}
	}
	return nil
}

// stop shuts the operator API, the master and NATS down, in that order.
func (rm *runningMaster) stop() {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rm.srv.Shutdown(sctx)
	rm.cancel()
	<-rm.done
	rm.Bus.Shutdown()
}
