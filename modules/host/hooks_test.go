package host

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/cairn-dc/cairn/modules/host/moduleapi"
	"github.com/cairn-dc/cairn/modules/sdk"
)

// testHook answers BeforeLaunch with fixed changes, an error, or never.
type testHook struct {
	changes sdk.LaunchChanges
	err     error
	hang    bool
	seen    chan sdk.TaskLaunchInfo
}

func (h *testHook) Configure(context.Context, []byte) error { return nil }

func (h *testHook) BeforeLaunch(ctx context.Context, _ sdk.Host, task sdk.TaskLaunchInfo) (sdk.LaunchChanges, error) {
	if h.seen != nil {
		h.seen <- task
	}
	if h.hang {
		<-ctx.Done()
		return sdk.LaunchChanges{}, ctx.Err()
	}
	return h.changes, h.err
}

// addHook serves impl in-process and registers it with h as a running hook.
func addHook(t *testing.T, h *Host, name string, impl sdk.Hook) {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, sdk.PluginSet(impl))
	t.Cleanup(func() {
		// Stop first: Close asks the server to stop too, and go-plugin's
		// GRPCServer.Stop is not safe to call twice at once.
		server.Stop()
		_ = client.Close()
	})
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	mc := raw.(*sdk.Client)
	if err := mc.Configure(context.Background(), name, moduleHost{cluster: h.cluster, log: h.log}, nil); err != nil {
		t.Fatal(err)
	}
	m := &module{spec: moduleapi.Spec{Name: name, Kind: moduleapi.KindHook}, done: make(chan struct{})}
	m.setRunning(1, time.Now(), sdk.Version, mc)
	h.mu.Lock()
	h.modules[name] = m
	h.mu.Unlock()
}

func TestBeforeLaunch(t *testing.T) {
	h, err := New(Config{Logger: slog.New(newLogRecorder()), HookTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan sdk.TaskLaunchInfo, 1)
	addHook(t, h, "a-env", &testHook{changes: sdk.LaunchChanges{Env: map[string]string{"ZONE": "a", "X": "1"}, Labels: map[string]string{"l": "a"}}})
	addHook(t, h, "b-env", &testHook{changes: sdk.LaunchChanges{Env: map[string]string{"X": "2"}}, seen: seen})
	addHook(t, h, "c-bad", &testHook{changes: sdk.LaunchChanges{Env: map[string]string{"A=B": "x", "OK": "y"}}})
	addHook(t, h, "d-err", &testHook{err: errors.New("policy says no: the image is not signed")})
	addHook(t, h, "e-slow", &testHook{hang: true})
	addHook(t, h, "f-env", &testHook{changes: sdk.LaunchChanges{Labels: map[string]string{"l": "f"}}})

	env, labels, err := h.BeforeLaunch(context.Background(), sdk.TaskLaunchInfo{TaskID: "web.1", Env: map[string]string{"PATH": "/bin"}})
	if len(env) != 2 || env["ZONE"] != "a" || env["X"] != "2" || len(labels) != 1 || labels["l"] != "f" {
		t.Errorf("changes: %v %v", env, labels)
	}
	// The second hook saw the first one's changes.
	if got := <-seen; got.Env["ZONE"] != "a" || got.Env["PATH"] != "/bin" || got.Labels["l"] != "a" {
		t.Errorf("b-env saw %+v", got)
	}
	for _, want := range []string{
		"before launching task web.1: ",
		`hook module c-bad: environment variable "A=B" is not valid`,
		"hook module d-err: BeforeLaunch: policy says no: the image is not signed",
		"hook module e-slow: no answer within 200ms",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant %q", err, want)
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error does not wrap the deadline: %v", err)
	}
}
