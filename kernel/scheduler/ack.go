package scheduler

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/nats-io/nats.go"
)

// ackRingSize is how many acknowledgements in flight the acker remembers,
// to name the task in the log when the master refuses one.
const ackRingSize = 4096

// acker sends acknowledgements without waiting for their replies: each is
// published with a reply subject <inbox>.<seq> under one wildcard
// subscription, and a ring of recent sequence numbers says which update a
// reply is about. A refused acknowledgement is only logged: the master
// re-sends the update, and the next acknowledgement may succeed.
type acker struct {
	f     *Framework
	inbox string
	sub   *nats.Subscription

	mu   sync.Mutex
	seq  uint64
	ring [ackRingSize]ackSlot
}

type ackSlot struct {
	seq  uint64
	task protocol.TaskID // the first one of the call
	uuid string
	n    int // acknowledgements in the call
	gen  uint64
}

func newAcker(f *Framework) (*acker, error) {
	a := &acker{f: f, inbox: f.nc.NewInbox()}
	sub, err := f.nc.Subscribe(a.inbox+".*", a.onReply)
	if err != nil {
		return nil, fmt.Errorf("scheduler: listen for acknowledgement replies: %w (is the NATS connection open?)", err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	a.sub = sub
	return a, nil
}

func (a *acker) close() {
	if err := a.sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) && !errors.Is(err, nats.ErrBadSubscription) {
		a.f.log.Warn("stop listening for acknowledgement replies", "err", err)
	}
}

// send publishes the acknowledgements of statuses and returns without
// waiting: one ACKNOWLEDGE for one, else ACKNOWLEDGE_MANY calls of at most
// protocol.MaxAcknowledgements each.
func (a *acker) send(statuses ...protocol.TaskStatus) error {
	for len(statuses) > 0 {
		n := min(len(statuses), protocol.MaxAcknowledgements)
		if err := a.sendCall(statuses[:n]); err != nil {
			return err
		}
		statuses = statuses[n:]
	}
	return nil
}

func (a *acker) sendCall(statuses []protocol.TaskStatus) error {
	call := protocol.Call{FrameworkID: a.f.id, Type: protocol.CallAcknowledge}
	if len(statuses) == 1 {
		st := statuses[0]
		call.Acknowledge = &protocol.Acknowledge{AgentID: st.AgentID, TaskID: st.TaskID, UUID: st.UUID}
	} else {
		call.Type = protocol.CallAcknowledgeMany
		call.Acknowledgements = make([]protocol.Acknowledge, len(statuses))
		for i, st := range statuses {
			call.Acknowledgements[i] = protocol.Acknowledge{AgentID: st.AgentID, TaskID: st.TaskID, UUID: st.UUID}
		}
	}
	data, err := json.Marshal(call)
	if err != nil {
		return fmt.Errorf("scheduler: encode %s: %w", call.Type, err)
	}
	a.mu.Lock()
	a.seq++
	seq := a.seq
	a.ring[seq%ackRingSize] = ackSlot{seq: seq, task: statuses[0].TaskID, uuid: statuses[0].UUID, n: len(statuses), gen: a.f.gen.Load()}
	a.mu.Unlock()
	if err := a.f.nc.PublishRequest(a.f.callSubject, a.inbox+"."+strconv.FormatUint(seq, 36), data); err != nil {
		return fmt.Errorf("scheduler: send %s of task %s (%d updates): %w (the master re-sends the updates; acknowledge them again then)",
			call.Type, statuses[0].TaskID, len(statuses), err)
	}
	return nil
}

func (a *acker) onReply(m *nats.Msg) {
	seq, _ := strconv.ParseUint(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:], 36, 64)
	a.mu.Lock()
	slot := a.ring[seq%ackRingSize]
	a.mu.Unlock()
	if slot.seq != seq { // overwritten: too many in flight to remember this one
		slot = ackSlot{seq: seq, gen: a.f.gen.Load()}
	}
	if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		a.f.log.Debug("no master to take an acknowledgement; the master will re-send the update", "task_id", slot.task, "uuid", slot.uuid, "updates", slot.n)
		return
	}
	resp, err := protocol.DecodeResponse(m.Data)
	if err != nil {
		a.f.log.Warn("bad reply to an acknowledgement", "task_id", slot.task, "uuid", slot.uuid, "updates", slot.n, "err", err)
		return
	}
	for _, r := range resp.Rejected { // of an ACKNOWLEDGE_MANY
		a.f.log.Warn("the master refused an acknowledgement", "task_id", r.TaskID, "err", r.Message)
	}
	if resp.Error == nil {
		return
	}
	if resp.Error.Code == protocol.ErrNotSubscribed {
		a.f.requestResubscribe(slot.gen)
	}
	a.f.log.Warn("the master refused an acknowledgement", "task_id", slot.task, "uuid", slot.uuid, "updates", slot.n, "err", resp.Error)
}
