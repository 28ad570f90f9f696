package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/nats-io/nats.go"
)

// Call sends any call and returns the master's reply; the methods below
// are shorthands for it. FrameworkID is filled in. A refused call returns
// the reply and an error wrapping its *protocol.Error.
func (f *Framework) Call(ctx context.Context, c protocol.Call) (protocol.Response, error) {
	return f.call(ctx, c)
}

func (f *Framework) call(ctx context.Context, c protocol.Call) (protocol.Response, error) {
	if err := f.Err(); err != nil {
		return protocol.Response{}, fmt.Errorf("scheduler: %s: %w", c.Type, err)
	}
	c.FrameworkID = f.id
	data, err := json.Marshal(c)
	if err != nil {
		return protocol.Response{}, fmt.Errorf("scheduler: encode %s call: %w", c.Type, err)
	}
	gen := f.gen.Load()
	rctx, cancel := context.WithTimeout(ctx, f.callTimeout)
	defer cancel()
	msg, err := f.nc.RequestWithContext(rctx, f.callSubject, data)
	if err != nil {
		switch {
		case errors.Is(err, nats.ErrNoResponders):
			return protocol.Response{}, fmt.Errorf("scheduler: %s: no master answers on %s: %w (is a master running? retry later)", c.Type, f.callSubject, err)
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			return protocol.Response{}, fmt.Errorf("scheduler: %s: the master did not answer within %v: %w (it may be busy or failing over; retry)", c.Type, f.callTimeout, err)
		}
		return protocol.Response{}, fmt.Errorf("scheduler: %s: %w", c.Type, err)
	}
	resp, err := protocol.DecodeResponse(msg.Data)
	if err != nil {
		return protocol.Response{}, fmt.Errorf("scheduler: %s: bad reply from the master: %w (master and library versions may differ)", c.Type, err)
	}
	if resp.Error != nil {
		if resp.Error.Code == protocol.ErrNotSubscribed {
			f.requestResubscribe(gen)
		}
		return resp, fmt.Errorf("scheduler: %s refused: %w%s", c.Type, resp.Error, hint(resp.Error.Code))
	}
	return resp, nil
}

func hint(code protocol.ErrorCode) string {
	switch code {
	case protocol.ErrBadRequest:
		return " (fix the call: the message names the field)"
	case protocol.ErrForbidden:
		return " (check the framework's ID, principal and roles)"
	case protocol.ErrNotFound:
		return " (the offer, task or agent is gone: use a fresh offer, or reconcile)"
	case protocol.ErrNotSubscribed:
		return " (the library is re-subscribing; retry after the next SUBSCRIBED event)"
	case protocol.ErrUnavailable:
		return " (the master is not ready or not leading; retry shortly)"
	}
	return ""
}

// Accept uses offers (all on one agent): ops consume their resources and
// the rest is declined with filters (nil: the default 5 s). It returns the
// tasks the master did not launch, with why; they also get TASK_ERROR or
// TASK_DROPPED updates.
func (f *Framework) Accept(ctx context.Context, offerIDs []protocol.OfferID, ops []protocol.Operation, filters *protocol.Filters) ([]protocol.Rejection, error) {
	resp, err := f.call(ctx, protocol.Call{Type: protocol.CallAccept, Accept: &protocol.Accept{
		OfferIDs: offerIDs, Operations: ops, Filters: filters,
	}})
	return resp.Rejected, err
}

// Launch launches tasks on one offer, filling in each task's AgentID; the
// rest of the offer is declined. No tasks declines the whole offer.
func (f *Framework) Launch(ctx context.Context, offer protocol.Offer, tasks ...protocol.TaskInfo) ([]protocol.Rejection, error) {
	return f.launch(ctx, OfferLaunch{Offer: offer, Tasks: tasks})
}

func (f *Framework) launch(ctx context.Context, l OfferLaunch) ([]protocol.Rejection, error) {
	var ops []protocol.Operation
	if len(l.Tasks) > 0 {
		ops = []protocol.Operation{LaunchOp(l.Offer.AgentID, l.Tasks...)}
	}
	return f.Accept(ctx, []protocol.OfferID{l.Offer.ID}, ops, l.Filters)
}

// OfferLaunch is the tasks to launch on one offer (see LaunchMany and OfferPool).
type OfferLaunch struct {
	Offer protocol.Offer
	Tasks []protocol.TaskInfo
	// Filters for the unused rest of the offer (nil: the default 5 s).
	Filters *protocol.Filters
}

// maxConcurrentAccepts bounds LaunchMany's calls in flight.
const maxConcurrentAccepts = 64

// LaunchMany launches on several offers at once: one ACCEPT per offer, sent
// concurrently. It returns every rejection, and the errors of refused
// ACCEPTs joined (each wraps its *protocol.Error and names its offer).
func (f *Framework) LaunchMany(ctx context.Context, launches ...OfferLaunch) ([]protocol.Rejection, error) {
	var (
		mu       sync.Mutex
		rejected []protocol.Rejection
		errs     []error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, maxConcurrentAccepts)
	)
	for _, l := range launches {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			rej, err := f.launch(ctx, l)
			mu.Lock()
			defer mu.Unlock()
			rejected = append(rejected, rej...)
			if err != nil {
				errs = append(errs, fmt.Errorf("offer %s on agent %s: %w", l.Offer.ID, l.Offer.AgentID, err))
			}
		})
	}
	wg.Wait()
	return rejected, errors.Join(errs...)
}

// Decline gives offers back; with filters (see Refuse) they are not offered
// to this framework again for that long (nil: the default 5 s).
func (f *Framework) Decline(ctx context.Context, offerIDs []protocol.OfferID, filters *protocol.Filters) error {
	_, err := f.call(ctx, protocol.Call{Type: protocol.CallDecline, Decline: &protocol.Decline{OfferIDs: offerIDs, Filters: filters}})
	return err
}

// Revive asks for offers again for roles (none: all the framework's roles)
// and clears decline filters. It undoes Suppress.
func (f *Framework) Revive(ctx context.Context, roles ...string) error {
	c := protocol.Call{Type: protocol.CallRevive}
	if len(roles) > 0 {
		c.Revive = &protocol.Revive{Roles: roles}
	}
	if _, err := f.call(ctx, c); err != nil {
		return err
	}
	f.mu.Lock()
	if len(roles) == 0 {
		f.suppressed = nil
	} else {
		f.suppressed = slices.DeleteFunc(f.suppressed, func(r string) bool { return slices.Contains(roles, r) })
	}
	f.mu.Unlock()
	return nil
}

// Suppress stops offers for roles (none: all the framework's roles) until
// Revive. The suppression survives re-subscriptions.
func (f *Framework) Suppress(ctx context.Context, roles ...string) error {
	c := protocol.Call{Type: protocol.CallSuppress}
	if len(roles) > 0 {
		c.Suppress = &protocol.Suppress{Roles: roles}
	}
	if _, err := f.call(ctx, c); err != nil {
		return err
	}
	f.mu.Lock()
	if len(roles) == 0 {
		roles = f.info.RolesOrDefault()
	}
	for _, r := range roles {
		if !slices.Contains(f.suppressed, r) {
			f.suppressed = append(f.suppressed, r)
		}
	}
	f.mu.Unlock()
	return nil
}

// Kill kills a task; agentID may be empty when unknown. The result arrives
// as an UPDATE (TASK_KILLED, or the state the task reached first).
func (f *Framework) Kill(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID) error {
	_, err := f.call(ctx, protocol.Call{Type: protocol.CallKill, Kill: &protocol.Kill{TaskID: taskID, AgentID: agentID}})
	return err
}

// Shutdown kills all of the framework's tasks on an agent.
func (f *Framework) Shutdown(ctx context.Context, agentID protocol.AgentID) error {
	_, err := f.call(ctx, protocol.Call{Type: protocol.CallShutdown, Shutdown: &protocol.Shutdown{AgentID: agentID}})
	return err
}

// Acknowledge acknowledges a status update and waits for the master's
// answer. Updates without a UUID need no acknowledgement: it returns nil.
// Prefer AcknowledgeAsync on hot paths.
func (f *Framework) Acknowledge(ctx context.Context, status protocol.TaskStatus) error {
	if status.UUID == "" {
		return nil
	}
	_, err := f.call(ctx, protocol.Call{Type: protocol.CallAcknowledge, Acknowledge: &protocol.Acknowledge{
		AgentID: status.AgentID, TaskID: status.TaskID, UUID: status.UUID,
	}})
	return err
}

// AcknowledgeAsync sends the acknowledgements of status updates without
// waiting for the master: several in one ACKNOWLEDGE_MANY call (up to
// protocol.MaxAcknowledgements a call). It returns only errors of sending,
// and the master's refusals are logged. Updates without a UUID need no
// acknowledgement and are left out.
func (f *Framework) AcknowledgeAsync(statuses ...protocol.TaskStatus) error {
	var owed []protocol.TaskStatus
	for _, st := range statuses {
		if st.UUID != "" {
			owed = append(owed, st)
		}
	}
	if len(owed) == 0 {
		return nil
	}
	if err := f.Err(); err != nil {
		return fmt.Errorf("scheduler: ACKNOWLEDGE: %w", err)
	}
	return f.acks.send(owed...)
}

// Reconcile asks for the latest state of tasks, or of all the framework's
// tasks when none are given (implicit reconciliation). The answers arrive
// as UPDATE events with reason REASON_RECONCILIATION and no UUID.
func (f *Framework) Reconcile(ctx context.Context, tasks ...protocol.ReconcileTask) error {
	_, err := f.call(ctx, protocol.Call{Type: protocol.CallReconcile, Reconcile: &protocol.Reconcile{Tasks: tasks}})
	return err
}

// Message sends opaque data to the framework's tasks on an agent.
func (f *Framework) Message(ctx context.Context, agentID protocol.AgentID, data []byte) error {
	_, err := f.call(ctx, protocol.Call{Type: protocol.CallMessage, Message: &protocol.Message{AgentID: agentID, Data: data}})
	return err
}

// Teardown removes the framework: the master kills all its tasks and
// forgets it. Once the master confirms, the framework is closed (see
// Close): Events is closed (the master's ERROR event confirming the removal
// may or may not be delivered first) and Err returns ErrClosed.
func (f *Framework) Teardown(ctx context.Context) error {
	f.tearDown.Store(true)
	if _, err := f.call(ctx, protocol.Call{Type: protocol.CallTeardown}); err != nil {
		f.tearDown.Store(false)
		return err
	}
	f.log.Info("framework torn down")
	return f.Close()
}
