package bus

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// violations collects a connection's asynchronous permission errors.
type violations struct {
	mu   sync.Mutex
	errs []string
}

func (v *violations) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, err.Error())
}

func (v *violations) saw(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v.mu.Lock()
		for _, e := range v.errs {
			if strings.Contains(e, what) {
				v.mu.Unlock()
				return
			}
		}
		errs := append([]string(nil), v.errs...)
		v.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no permissions violation for %s (saw %q)", what, errs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// quiet says that nothing arrives on sub for a moment.
func quiet(t *testing.T, sub *nats.Subscription, what string) {
	t.Helper()
	if m, err := sub.NextMsg(300 * time.Millisecond); err == nil {
		t.Errorf("%s: %s was delivered (%q)", what, m.Subject, m.Data)
	}
}

// TestRoles: with Users, the embedded server takes only known identities,
// and each role reaches only its subjects: a framework cannot publish
// cluster events or status updates, touch the kernel's or a protected
// bucket, or listen to agents; an agent cannot act as a framework; both do
// their own work.
func TestRoles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	roles := Roles("cairn-packages")
	users := []User{{"master", "m-secret", roles[RoleMaster]}, {"agent", "a-secret", roles[RoleAgent]}, {"framework", "f-secret", roles[RoleFramework]}}
	b, err := Start(ctx, Config{Port: -1, StoreDir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Shutdown)

	if _, err := Connect(b.URL(), "nobody", nil); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Fatalf("connecting without credentials: %v", err)
	}
	if _, err := Connect(b.URL(), "liar", nil, nats.UserInfo("framework", "wrong")); err == nil {
		t.Fatal("connecting with a wrong password worked")
	}
	conn := func(user, pass string) (*nats.Conn, *violations) {
		v := &violations{}
		nc, err := b.Connect(user, nats.UserInfo(user, pass), nats.ErrorHandler(v.handler))
		if err != nil {
			t.Fatalf("connect as %s: %v", user, err)
		}
		t.Cleanup(nc.Close)
		return nc, v
	}
	master, _ := conn("master", "m-secret")
	agent, av := conn("agent", "a-secret")
	fw, fv := conn("framework", "f-secret")

	// The master's state, lease, update stream and a protected bucket.
	mjs, _ := jetstream.New(master)
	for _, bucket := range []string{protocol.StateBucket, "cairn-packages"} {
		kv, err := mjs.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "k", []byte("secret")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mjs.CreateStream(ctx, jetstream.StreamConfig{Name: protocol.UpdatesStream, Subjects: []string{protocol.UpdatesWildcard},
		Retention: jetstream.LimitsPolicy}); err != nil {
		t.Fatal(err)
	}
	events, _ := master.SubscribeSync(protocol.ClusterEventsWildcard)
	agentCmds, _ := master.SubscribeSync(protocol.AgentCommands("a1"))
	_ = master.Flush()

	// A framework calls the master and keeps its own state...
	callSub, _ := master.Subscribe(protocol.FrameworkCallWildcard, func(m *nats.Msg) { _ = m.Respond([]byte("ok")) })
	defer callSub.Unsubscribe()
	_ = master.Flush() // the server has the subscription before the call
	if m, err := fw.Request(protocol.FrameworkCall("f1"), []byte("{}"), 5*time.Second); err != nil || string(m.Data) != "ok" {
		t.Fatalf("framework call: %v", err)
	}
	fjs, _ := jetstream.New(fw)
	own, err := fjs.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cairn-fw-test"})
	if err != nil {
		t.Fatalf("framework creating its own bucket: %v", err)
	}
	if _, err := own.Put(ctx, "app", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if e, err := own.Get(ctx, "app"); err != nil || string(e.Value()) != "v" {
		t.Fatalf("framework reading its own bucket: %v", err)
	}
	// ... but reads nothing of the kernel's or a protected bucket.
	// (A denied request has no answer: each try gets a second.)
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, time.Second)
		t.Cleanup(cancel)
		return c
	}
	for _, bucket := range []string{protocol.StateBucket, "cairn-packages"} {
		if kv, err := fjs.KeyValue(short(), bucket); err == nil {
			if e, err := kv.Get(short(), "k"); err == nil {
				t.Errorf("a framework read %s: %q", bucket, e.Value())
			}
		}
		if err := fjs.DeleteKeyValue(short(), bucket); err == nil {
			t.Errorf("a framework deleted bucket %s", bucket)
		}
	}
	if _, err := mjs.KeyValue(ctx, protocol.StateBucket); err != nil {
		t.Fatalf("the state bucket is gone: %v", err)
	}
	// It cannot forge cluster events, status updates or agent commands.
	_ = fw.Publish(protocol.ClusterEvents(protocol.EvTaskAdded), []byte("forged"))
	fv.saw(t, protocol.ClusterEvents(protocol.EvTaskAdded))
	quiet(t, events, "a framework's cluster event")
	if _, err := fjs.Publish(short(), protocol.Updates("f1", "a1"), []byte("forged")); err == nil {
		t.Error("a framework published a status update")
	}
	_ = fw.Publish(protocol.AgentCommands("a1"), []byte("forged"))
	quiet(t, agentCmds, "a framework's agent command")
	if _, err := fw.SubscribeSync(protocol.AgentCommands("a1")); err == nil {
		_ = fw.Flush()
		fv.saw(t, "Permissions Violation for Subscription to \""+protocol.AgentCommands("a1"))
	}

	// An agent sends status updates (acknowledged by the stream) and
	// gets its commands...
	ajs, _ := jetstream.New(agent)
	if _, err := ajs.Publish(ctx, protocol.Updates("f1", "a1"), []byte("{}")); err != nil {
		t.Fatalf("agent status update: %v", err)
	}
	cmds, err := agent.SubscribeSync(protocol.AgentCommands("a1"))
	if err != nil {
		t.Fatal(err)
	}
	_ = agent.Flush()
	_ = master.Publish(protocol.AgentCommands("a1"), []byte("launch"))
	if m, err := cmds.NextMsg(5 * time.Second); err != nil || string(m.Data) != "launch" {
		t.Fatalf("agent command: %v", err)
	}
	// ... and cannot publish cluster events or read the state.
	_ = agent.Publish(protocol.ClusterEvents(protocol.EvAgentAdded), []byte("forged"))
	av.saw(t, protocol.ClusterEvents(protocol.EvAgentAdded))
	quiet(t, events, "an agent's cluster event")
	if kv, err := ajs.KeyValue(short(), protocol.StateBucket); err == nil {
		if _, err := kv.Get(short(), "k"); err == nil {
			t.Error("an agent read the master's state")
		}
	}
}

// TestNoUsersNoAuth: without Users the embedded server takes anyone (tests
// and in-process-only setups).
func TestNoUsersNoAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Start(ctx, Config{Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown()
	nc, err := Connect(b.URL(), "anyone", nil)
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}

func TestStartRefusesIncompleteUsers(t *testing.T) {
	if _, err := Start(context.Background(), Config{Port: -1, StoreDir: t.TempDir(), Users: []User{{Name: "agent"}}}); err == nil {
		t.Fatal("a user without a password was accepted")
	}
}
