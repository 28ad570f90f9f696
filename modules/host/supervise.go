package host

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc/codes"

	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/modules/sdk"
)

// instance is one running process of a module.
type instance struct {
	client  *plugin.Client
	module  *sdk.Client
	proc    *procRunner
	tail    *tailWriter
	started time.Time
	sdk     string
}

// supervise keeps m running until ctx ends: start, watch, restart with
// backoff; a permanent failure (checksum, missing binary, wrong kind) stops
// it in state failed.
func (h *Host) supervise(ctx context.Context, m *module) {
	defer close(m.done)
	bo := &backoff{cfg: h.cfg.Backoff}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			m.update(func(st *moduleapi.Status) { st.Restarts++ })
		}
		m.update(func(st *moduleapi.Status) { st.State, st.NextStart = moduleapi.Starting, nil })
		var ranFor time.Duration
		inst, err := h.start(ctx, m)
		if err == nil {
			ranFor, err = h.runInstance(ctx, m, inst)
		}
		if ctx.Err() != nil {
			m.setDown(moduleapi.Stopped, nil, nil)
			return
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			m.setDown(moduleapi.Failed, err, nil)
			m.log.Error("module failed: it will not be restarted until its configuration changes", "err", err)
			<-ctx.Done()
			m.setDown(moduleapi.Stopped, nil, nil)
			return
		}
		delay := bo.next(ranFor)
		next := time.Now().Add(delay)
		m.setDown(moduleapi.Backoff, err, &next)
		m.log.Error("module stopped: restarting it", "err", err, "in", delay)
		if !sleep(ctx, delay) {
			m.setDown(moduleapi.Stopped, nil, nil)
			return
		}
	}
}

// backoff is the restart delay of one module: Initial after a failure,
// doubling up to Max for each failure in a row, back to Initial after a
// run of at least ResetAfter.
type backoff struct {
	cfg  Backoff
	last time.Duration // 0 before the first failure
}

// next is the delay before restarting a module that ran for ranFor (0 when
// it did not start).
func (b *backoff) next(ranFor time.Duration) time.Duration {
	if b.last == 0 || ranFor >= b.cfg.ResetAfter {
		b.last = b.cfg.Initial
	} else {
		b.last = min(2*b.last, b.cfg.Max)
	}
	return b.last
}

// start verifies the binary, starts the process (go-plugin handshake with
// mutual TLS), checks that it serves its kind and configures it.
func (h *Host) start(ctx context.Context, m *module) (*instance, error) {
	if err := verifyBinary(m.spec.Path, m.spec.SHA256); err != nil {
		return nil, err
	}
	tail := newTailWriter(8)
	var proc *procRunner
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		Plugins:          sdk.PluginSet(nil),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     h.cfg.StartTimeout,
		Logger:           newHCLogger(m.log),
		Stderr:           tail,
		RunnerFunc: func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
			cmd := exec.Command(m.spec.Path)
			cmd.Env = append(h.moduleEnv(m), spec.Env...)
			setDeathSignal(cmd)
			r, err := newProcRunner(cmd)
			proc = r
			return r, err
		},
	})
	fail := func(what string, err error) (*instance, error) {
		client.Kill()
		msg := oneLine(err.Error())
		if proc != nil {
			select {
			case <-proc.exited:
				if proc.pid != 0 {
					msg += "; " + proc.exitError().Error()
				}
			default:
			}
		}
		if t := tail.String(); t != "" {
			msg += "; its last output: " + t
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: %s", what, msg)
	}
	rpc, err := client.Client()
	if err != nil {
		return fail("it did not start", err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return fail("it did not start", err)
	}
	mc, ok := raw.(*sdk.Client)
	if !ok {
		return fail("it did not start", fmt.Errorf("go-plugin dispensed a %T, not an *sdk.Client", raw))
	}
	sctx, cancel := context.WithTimeout(ctx, h.cfg.StartTimeout)
	defer cancel()
	info, err := mc.Info(sctx)
	if err != nil {
		return fail("it did not start", err)
	}
	if !info.Serves(sdk.Kind(m.spec.Kind)) {
		client.Kill()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		kinds := make([]string, len(info.Kinds))
		for i, k := range info.Kinds {
			kinds[i] = string(k)
		}
		return nil, permanent(fmt.Errorf("the module serves kind %s, not %s: configure it with kind %q (or is this the wrong binary?)",
			strings.Join(kinds, " and "), m.spec.Kind, kinds[0]))
	}
	mh := moduleHost{cluster: h.cluster, log: m.log}
	if err := mc.Configure(sctx, m.spec.Name, mh, m.spec.ConfigBytes()); err != nil {
		return fail("it refused its configuration", err)
	}
	m.log.Info("module started", "pid", proc.pid, "kind", m.spec.Kind, "sdk", info.SDKVersion)
	return &instance{client: client, module: mc, proc: proc, tail: tail, started: time.Now(), sdk: info.SDKVersion}, nil
}

// oneLine joins the lines of a multi-line message.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// runInstance watches a started instance until it dies, fails its health
// checks, ends its watch, or ctx ends (it is then stopped gracefully). It
// returns how long it ran and why it stopped.
func (h *Host) runInstance(ctx context.Context, m *module, inst *instance) (time.Duration, error) {
	ictx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	m.setRunning(inst.proc.pid, inst.started, inst.sdk, inst.module)

	failed := make(chan error, 2)
	wg.Go(func() {
		if err := h.healthLoop(ictx, inst); err != nil {
			failed <- err
		}
	})
	if m.spec.Kind == moduleapi.KindWatcher {
		wg.Go(func() {
			if err := h.feed(ictx, m, inst); err != nil {
				failed <- err
			}
		})
	}
	var err error
	exited := false
	select {
	case <-inst.proc.exited:
		err, exited = inst.proc.exitError(), true
	case err = <-failed:
		// A lost connection usually means the process died: its exit
		// status says more.
		if connectionLost(err) {
			t := time.NewTimer(exitGrace)
			select {
			case <-inst.proc.exited:
				err, exited = inst.proc.exitError(), true
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
		}
	case <-ctx.Done():
	}
	ran := time.Since(inst.started)
	m.clearClient() // no more calls to it
	cancel()
	if ctx.Err() != nil {
		inst.client.Kill() // graceful: go-plugin asks it to exit, then kills it
		m.log.Info("module stopped", "pid", inst.proc.pid)
		return ran, ctx.Err()
	}
	// It failed: make sure the process is gone, then clean up.
	_ = inst.proc.Kill(context.Background())
	inst.client.Kill()
	if t := inst.tail.String(); t != "" && exited {
		err = fmt.Errorf("%w; its last output: %s", err, t)
	}
	return ran, err
}

// exitGrace is how long the host waits for a module's process to exit
// after losing its connection, to report its exit status.
const exitGrace = 2 * time.Second

// connectionLost reports whether err says the module's gRPC connection
// broke.
func connectionLost(err error) bool {
	var re *sdk.RemoteError
	return errors.As(err, &re) && re.Code == codes.Unavailable
}

// healthLoop pings the module every HealthInterval; it returns an error
// after HealthFailures failures in a row, nil when ctx ends.
func (h *Host) healthLoop(ctx context.Context, inst *instance) error {
	t := time.NewTicker(h.cfg.HealthInterval)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, h.cfg.HealthTimeout)
		err := inst.module.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			failures = 0
			continue
		}
		failures++
		if failures >= h.cfg.HealthFailures {
			return fmt.Errorf("it failed %d health checks in a row: %w", failures, err)
		}
	}
}

// feed streams the cluster to a watcher: a snapshot, then the events; when
// it falls behind, a fresh snapshot. It returns nil when ctx ends, or why
// the module's watch ended.
func (h *Host) feed(ctx context.Context, m *module, inst *instance) error {
	if h.cfg.Master == nil {
		m.log.Warn("the module host has no master to read the cluster from: this watcher gets no snapshot")
	}
	for {
		snap, sub, err := h.cluster.subscribe(ctx)
		if err != nil {
			return nil // ctx ended
		}
		m.log.Debug("streaming the cluster to the module", "agents", len(snap.Agents), "tasks", len(snap.Tasks))
		err = inst.module.Watch(ctx, snap, sub.events)
		h.cluster.unsubscribe(sub)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("its watch ended: %w", err)
		}
		// The host closed the stream: the module fell behind.
		m.log.Warn("the module fell behind the cluster's events: sending it a fresh snapshot")
	}
}
