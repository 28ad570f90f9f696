package run

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/frameworks/run/runapi"
	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// bare is a Framework without a master, for the bookkeeping of updates.
func bare() *Framework {
	return &Framework{
		log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		runs: map[protocol.TaskID]*run{}, kick: make(chan struct{}, 1),
	}
}

func (f *Framework) add(id protocol.TaskID, state protocol.TaskState) *run {
	r := &run{res: resources.MustParse("cpus:0.1;mem:32"), view: runapi.Run{ID: id, State: state}}
	if state != runapi.StatePending {
		r.view.AgentID = "A1"
	} else {
		f.pending = append(f.pending, r)
	}
	f.runs[id] = r
	return r
}

func code(i int) *int { return &i }

func TestApplyStatus(t *testing.T) {
	f := bare()
	pending := f.add("p", runapi.StatePending)
	// A master DROPPED for an ACCEPT that failed as a whole, and a stale
	// update of a run that was queued again: ignored.
	f.applyStatus(protocol.TaskStatus{TaskID: "p", State: protocol.TaskDropped, Source: protocol.SourceMaster, Reason: protocol.ReasonInvalidOffers})
	f.applyStatus(protocol.TaskStatus{TaskID: "p", State: protocol.TaskRunning, Source: protocol.SourceAgent, UUID: "u"})
	if pending.view.State != runapi.StatePending || pending.ended {
		t.Errorf("pending run %+v", pending.view)
	}

	// A launched run goes RUNNING, then FINISHED with its exit code; a
	// late update changes nothing.
	r := f.add("r", protocol.TaskStaging)
	f.applyStatus(protocol.TaskStatus{TaskID: "r", State: protocol.TaskRunning, AgentID: "A1", UUID: "1"})
	if r.view.State != protocol.TaskRunning {
		t.Errorf("running %+v", r.view)
	}
	f.applyStatus(protocol.TaskStatus{TaskID: "r", State: protocol.TaskFinished, Message: "done", ExitCode: code(0), UUID: "2"})
	f.applyStatus(protocol.TaskStatus{TaskID: "r", State: protocol.TaskRunning, Reason: protocol.ReasonReconciliation})
	if r.view.State != protocol.TaskFinished || !r.ended || r.view.ExitCode == nil || *r.view.ExitCode != 0 || r.view.Message != "done" {
		t.Errorf("finished %+v", r.view)
	}

	// An unconfirmed launch the master never saw is queued again, first.
	u := f.add("u", protocol.TaskStaging)
	u.unconfirmed = true
	f.applyStatus(protocol.TaskStatus{TaskID: "u", State: protocol.TaskGone, Reason: protocol.ReasonReconciliation, Source: protocol.SourceMaster})
	if u.view.State != runapi.StatePending || u.unconfirmed || u.view.AgentID != "" || len(f.pending) != 2 || f.pending[0] != u {
		t.Errorf("requeued %+v, pending %d", u.view, len(f.pending))
	}
	if u.view.Message != "waiting for an offer with cpus:0.1;mem:32" {
		t.Errorf("message %q", u.view.Message)
	}
	select {
	case <-f.kick:
	default:
		t.Error("no wake-up to revive offers")
	}

	// ... unless it was killed meanwhile.
	k := f.add("k", protocol.TaskStaging)
	k.unconfirmed, k.killAsked = true, true
	f.applyStatus(protocol.TaskStatus{TaskID: "k", State: protocol.TaskUnknown, Reason: protocol.ReasonTaskUnknown, Source: protocol.SourceMaster})
	if k.view.State != protocol.TaskKilled || !k.ended {
		t.Errorf("killed unconfirmed %+v", k.view)
	}

	// An unconfirmed launch that did happen is simply confirmed.
	c := f.add("c", protocol.TaskStaging)
	c.unconfirmed = true
	f.applyStatus(protocol.TaskStatus{TaskID: "c", State: protocol.TaskRunning, Reason: protocol.ReasonReconciliation, AgentID: "A2"})
	if c.unconfirmed || c.view.State != protocol.TaskRunning || c.view.AgentID != "A2" {
		t.Errorf("confirmed %+v", c.view)
	}

	// Unknown tasks reported as unknown are not adopted.
	f.applyStatus(protocol.TaskStatus{TaskID: "ghost", State: protocol.TaskUnknown})
	if _, ok := f.runs["ghost"]; ok {
		t.Error("adopted an unknown task")
	}
}

func TestFinishedRunsAreBounded(t *testing.T) {
	f := bare()
	now := time.Now()
	var first *run
	for i := range MaxFinished + 5 {
		r := f.add(protocol.TaskID(fmt.Sprintf("t%d", i)), protocol.TaskRunning)
		if i == 0 {
			first = r
		}
		f.endLocked(r, protocol.TaskFinished, "", code(0), now)
	}
	if len(f.finished) != MaxFinished || len(f.runs) != MaxFinished {
		t.Errorf("%d finished, %d runs", len(f.finished), len(f.runs))
	}
	if _, ok := f.runs[first.view.ID]; ok {
		t.Error("the oldest ended run is still there")
	}
	if _, ok := f.runs["t5"]; !ok {
		t.Error("t5 was forgotten")
	}
}

func TestValidateDefaults(t *testing.T) {
	r, err := validate(runapi.Request{Cmd: "  /usr/bin/python3 -c 'print(1)'"})
	if err != nil {
		t.Fatal(err)
	}
	if r.view.Name != "python3" || r.view.Resources != "cpus:0.1;mem:32" || r.view.ID != "" {
		t.Errorf("run %+v", r.view)
	}
	for req, want := range map[string]runapi.Request{
		"run":   {Cmd: "&& true"},
		"weird": {Cmd: "$(weird)"},
		"a.b-c": {Args: []string{"./a.b-c"}},
	} {
		r, err := validate(want)
		if err != nil || r.view.Name != req {
			t.Errorf("%+v: name %q, %v; want %q", want, r.view.Name, err, req)
		}
	}
}

func TestTaskFor(t *testing.T) {
	r, err := validate(runapi.Request{Args: []string{"srv", "--port", "$PORT0"}, Ports: 2, Env: map[string]string{"B": "2", "A": "1"}, Labels: map[string]string{"l": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	r.view.ID = "t"
	offer := protocol.Offer{ID: "O1", AgentID: "A1"}
	// The first free ports, across ranges.
	ti, ports, ok := r.taskFor(offer, resources.MustParse("cpus:1;mem:128;ports:[31005-31005,31010-31020]"))
	if !ok || len(ports) != 2 || ports[0] != 31005 || ports[1] != 31010 {
		t.Fatalf("ports %v ok %v", ports, ok)
	}
	if !ti.Resources.Equal(resources.MustParse("cpus:0.1;mem:32;ports:[31005-31005,31010-31010]")) || ti.AgentID != "A1" || ti.Labels["l"] != "v" {
		t.Errorf("task %+v", ti)
	}
	if ti.Command.IsShell() || ti.Command.Value != "srv" || len(ti.Command.Arguments) != 3 ||
		ti.Command.Environment.Variables[0].Name != "A" || ti.Command.Environment.Variables[1].Name != "B" {
		t.Errorf("command %+v", ti.Command)
	}
	// Too few ports.
	if _, _, ok := r.taskFor(offer, resources.MustParse("cpus:1;mem:128;ports:[31005-31005]")); ok {
		t.Error("placed without enough ports")
	}
}
