package agent

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairn-dc/cairn/kernel/containerizer/supervisor"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// The agent's connection to its task supervisor, and what it does when the
// supervisor goes away while the agent runs (killed, crashed): it starts a
// new one, which re-adopts the processes its journal records, and
// reconciles its tasks with it, as it does after an agent restart. The
// tasks keep running meanwhile (they are the supervisor's children, not its
// threads); starts in flight wait for the new supervisor, and a kill sent
// meanwhile is sent again.

// supervisorConn is the current supervisor client.
type supervisorConn struct {
	mu   sync.Mutex
	c    *supervisor.Client
	next chan struct{} // closed when c is replaced
}

// supervisor is the current supervisor client (nil before Run has one).
func (a *Agent) supervisor() *supervisor.Client {
	a.supConn.mu.Lock()
	defer a.supConn.mu.Unlock()
	return a.supConn.c
}

// setSupervisor makes c the current client and wakes who waits for one.
func (a *Agent) setSupervisor(c *supervisor.Client) {
	a.supConn.mu.Lock()
	defer a.supConn.mu.Unlock()
	a.supConn.c = c
	if a.supConn.next != nil {
		close(a.supConn.next)
	}
	a.supConn.next = make(chan struct{})
}

// nextSupervisor waits until the current client is another than lost.
func (a *Agent) nextSupervisor(ctx context.Context, lost *supervisor.Client) (*supervisor.Client, error) {
	for {
		a.supConn.mu.Lock()
		c, next := a.supConn.c, a.supConn.next
		a.supConn.mu.Unlock()
		if c != lost {
			return c, nil
		}
		select {
		case <-next:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// watchSupervisor turns c's exit events into task updates and, when its
// connection ends while the agent runs, has the supervisor started again.
func (a *Agent) watchSupervisor(ctx context.Context, c *supervisor.Client) {
	for p := range c.Exits() {
		a.push(ctx, func() { a.exited(p) })
	}
	if ctx.Err() == nil {
		a.push(ctx, func() { a.supervisorLost(ctx, c) })
	}
}

// supervisorLost runs on the loop when lost's connection ended.
func (a *Agent) supervisorLost(ctx context.Context, lost *supervisor.Client) {
	if a.supervisor() != lost || a.supStopping.Load() || ctx.Err() != nil {
		return
	}
	a.log.Error("the task supervisor went away; starting it again (its tasks keep running and are re-attached)",
		"pid", lost.ServerPID(), "log", filepath.Join(a.supDir, "supervisor.log"))
	go a.restartSupervisor(ctx, lost)
}

// restartSupervisor starts a supervisor again until one answers, then has
// the loop re-attach the tasks to it.
func (a *Agent) restartSupervisor(ctx context.Context, lost *supervisor.Client) {
	delay := 100 * time.Millisecond
	for {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		c, err := supervisor.Ensure(sctx, a.supDir, a.supCommand)
		cancel()
		if err == nil {
			a.cg.Spare(c.ServerPID())
			a.push(ctx, func() { a.reattach(ctx, lost, c) })
			return
		}
		if ctx.Err() != nil {
			return
		}
		a.log.Error("cannot start the task supervisor again; retrying", "in", delay, "err", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// reattach makes c the supervisor and reconciles the tasks with what it
// runs: running ones are re-attached (and killed again if a kill was
// asked), ones that ended get their terminal update, ones it has no record
// of failed. Processes no task claims are killed. Tasks whose start is in
// flight are left to their launch (startAgain).
func (a *Agent) reattach(ctx context.Context, lost, c *supervisor.Client) {
	lost.Close()
	if a.supStopping.Load() || ctx.Err() != nil {
		c.Close()
		return
	}
	a.setSupervisor(c)
	go a.watchSupervisor(ctx, c)
	procs, err := c.List(ctx)
	if err != nil {
		a.log.Error("cannot list the new supervisor's processes; tasks are reconciled when it is started again", "err", err)
		return
	}
	byKey := procsByKey(procs)
	reattached, ended, failed := 0, 0, 0
	for key, t := range a.tasks {
		p, known := byKey[key]
		delete(byKey, key)
		if t.state.Terminal() {
			if known && p.Exit != nil {
				go func() { _ = c.Forget(context.Background(), key) }()
			}
			continue
		}
		if !t.launched || t.cancelLaunch != nil {
			continue // not started yet, or its start is in flight
		}
		switch {
		case known && p.Exit == nil:
			t.pid = p.PID
			reattached++
			if t.killRequested {
				a.killTask(ctx, t, a.graceOf(t, nil), t.killReason, "")
			}
		case known:
			ended++
			a.exited(p)
		default:
			failed++
			a.sendStatus(t, protocol.TaskStatus{State: protocol.TaskFailed, Reason: protocol.ReasonExecutorTerminated,
				Message: "its supervisor died, and the new one has no record of its process"})
			a.destroyCgroup(t)
		}
	}
	go a.dropUnclaimed(context.Background(), c, byKey) // off the loop
	a.log.Info("task supervisor started again; tasks reconciled", "pid", c.ServerPID(),
		"reattached", reattached, "ended_meanwhile", ended, "lost", failed)
}

// startAgain finishes a start that lost's connection cut: once a new
// supervisor is up, the task is re-attached if the lost one had started it
// (ended tells that it has exited already), else started anew.
func (a *Agent) startAgain(ctx context.Context, lost *supervisor.Client, spec supervisor.StartSpec) (p supervisor.Proc, ended bool, err error) {
	c, err := a.nextSupervisor(ctx, lost)
	if err != nil {
		return p, false, err
	}
	procs, err := c.List(ctx)
	if err != nil {
		return p, false, err
	}
	for _, p := range procs {
		if p.Key == spec.Key {
			a.log.Info("the lost supervisor had started the task; re-attached", "key", spec.Key, "pid", p.PID)
			return p, p.Exit != nil, nil
		}
	}
	p, err = c.Start(ctx, spec)
	if errors.Is(err, supervisor.ErrClosed) {
		return a.startAgain(ctx, c, spec)
	}
	return p, false, err
}
