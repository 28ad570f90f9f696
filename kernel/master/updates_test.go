package master_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/scheduler"
)

// TestUpdatesArePurgedOnceAcknowledged: the update stream keeps updates
// (limits retention) only until the master has acknowledged them.
func TestUpdatesArePurgedOnceAcknowledged(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("web", nil)
	of := offers(t, f)
	if _, err := f.Launch(ctxT(t), of[0], sleepTask("p1", "cpus:0.5;mem:64"), sleepTask("p2", "cpus:0.5;mem:64")); err != nil {
		t.Fatal(err)
	}
	update(t, f, "p1", protocol.TaskRunning)
	update(t, f, "p2", protocol.TaskRunning)
	if err := a.Finish("p1", protocol.TaskFinished, "done"); err != nil {
		t.Fatal(err)
	}
	update(t, f, "p1", protocol.TaskFinished)

	js, err := jetstream.New(c.conn("inspect"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctxT(t), protocol.UpdatesStream)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := st.CachedInfo().Config; cfg.Retention != jetstream.LimitsPolicy {
		t.Fatalf("update stream retention %v, want limits", cfg.Retention)
	}
	waitFor(t, 10*time.Second, "acknowledged updates purged", func() bool {
		info, err := st.Info(ctxT(t))
		return err == nil && info.State.LastSeq >= 3 && info.State.Msgs == 0
	})
}

// TestEarlierWorkQueueStreamIsMoved: a master that finds the work-queue
// update stream of an earlier version (with an update no master has read
// yet) moves that update into the new stream, applies it, and deletes the
// old stream — also when an earlier attempt stopped half-way, after it
// parked the old stream.
func TestEarlierWorkQueueStreamIsMoved(t *testing.T) {
	for _, parked := range []bool{false, true} {
		name := "fresh"
		if parked {
			name = "parked"
		}
		t.Run(name, func(t *testing.T) {
			c := newCluster(t, nil)
			a := c.agent(nil)
			f := c.framework("web", func(cfg *scheduler.Config) { cfg.Framework.FailoverTimeout = 60 })
			of := offers(t, f)
			if _, err := f.Launch(ctxT(t), of[0], sleepTask("w1", "cpus:0.5;mem:64"), sleepTask("w2", "cpus:0.5;mem:64")); err != nil {
				t.Fatal(err)
			}
			update(t, f, "w1", protocol.TaskRunning)
			update(t, f, "w2", protocol.TaskRunning)
			c.stopMaster()

			// The stream as an earlier master made it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			js, err := jetstream.New(c.conn("old-master"))
			if err != nil {
				t.Fatal(err)
			}
			if err := js.DeleteStream(ctx, protocol.UpdatesStream); err != nil {
				t.Fatal(err)
			}
			legacy, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: protocol.LegacyUpdatesStream,
				Subjects: []string{protocol.UpdatesWildcard}, Storage: jetstream.FileStorage,
				Retention: jetstream.WorkQueuePolicy, Duplicates: 2 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := legacy.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: protocol.UpdatesConsumer,
				AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
				t.Fatal(err)
			}
			// While no master runs, w2 finishes: its update waits in the old stream.
			if err := a.Finish("w2", protocol.TaskFinished, "done while the master was away"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "update in the old stream", func() bool {
				info, err := legacy.Info(ctx)
				return err == nil && info.State.Msgs == 1
			})
			if parked {
				cfg := legacy.CachedInfo().Config
				cfg.Subjects = []string{"_cairn.legacy-updates.parked"}
				if _, err := js.UpdateStream(ctx, cfg); err != nil {
					t.Fatal(err)
				}
			}

			c.startMaster()
			update(t, f, "w2", protocol.TaskFinished)
			if _, err := js.Stream(ctx, protocol.LegacyUpdatesStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Fatalf("the old stream is still there (err %v)", err)
			}
			st, err := js.Stream(ctx, protocol.UpdatesStream)
			if err != nil {
				t.Fatal(err)
			}
			if r := st.CachedInfo().Config.Retention; r != jetstream.LimitsPolicy {
				t.Fatalf("retention %v", r)
			}
			// And updates flow through the new stream.
			if err := f.Kill(ctxT(t), "w1", a.ID()); err != nil {
				t.Fatal(err)
			}
			update(t, f, "w1", protocol.TaskKilled)
		})
	}
}

// TestAcknowledgeMany: one ACKNOWLEDGE_MANY call acknowledges several
// updates (the agent then forgets the ended tasks), and lists the ones it
// refuses.
func TestAcknowledgeMany(t *testing.T) {
	c := newCluster(t, nil)
	a := c.agent(nil)
	f := c.framework("web", func(cfg *scheduler.Config) { cfg.ManualAcknowledge = true })
	of := offers(t, f)
	ids := []protocol.TaskID{"k1", "k2", "k3"}
	var tasks []protocol.TaskInfo
	for _, id := range ids {
		tasks = append(tasks, sleepTask(string(id), "cpus:0.5;mem:64"))
	}
	if _, err := f.Launch(ctxT(t), of[0], tasks...); err != nil {
		t.Fatal(err)
	}
	var acks []protocol.Acknowledge
	for _, id := range ids {
		update(t, f, id, protocol.TaskRunning)
		if err := a.Finish(id, protocol.TaskFinished, "done"); err != nil {
			t.Fatal(err)
		}
		st := update(t, f, id, protocol.TaskFinished)
		acks = append(acks, protocol.Acknowledge{AgentID: st.AgentID, TaskID: id, UUID: st.UUID})
	}
	acks = append(acks, protocol.Acknowledge{AgentID: a.ID(), TaskID: "nope", UUID: "u"})
	data, err := json.Marshal(protocol.Call{FrameworkID: f.ID(), Type: protocol.CallAcknowledgeMany, Acknowledgements: acks})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := c.conn("raw").Request(protocol.FrameworkCall(f.ID()), data, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := protocol.DecodeResponse(reply.Data)
	if err != nil || resp.Error != nil {
		t.Fatalf("ACKNOWLEDGE_MANY: %v %+v", err, resp.Error)
	}
	if len(resp.Rejected) != 1 || resp.Rejected[0].TaskID != "nope" {
		t.Fatalf("refused: %+v, want only nope", resp.Rejected)
	}
	for _, id := range ids {
		waitFor(t, 5*time.Second, "agent forgets acknowledged "+string(id), func() bool { _, ok := a.Task(id); return !ok })
	}
}
