package protocol

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/resources"
)

func ptr[T any](v T) *T { return &v }

func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back T
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if !reflect.DeepEqual(normalize(t, v), normalize(t, back)) {
		t.Fatalf("round trip changed the value:\n in  %+v\n out %+v\n json %s", v, back, data)
	}
	return back
}

// normalize compares through JSON again (resources compare by value).
func normalize(t *testing.T, v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func sampleTask() TaskInfo {
	return TaskInfo{
		Name: "web", TaskID: "prod_web.1", AgentID: "A1",
		Resources: resources.MustParse("cpus:0.5;mem:128;ports:[31000-31001]"),
		Command: &CommandInfo{Value: "python -m http.server $PORT0", Environment: &Environment{Variables: []Variable{{Name: "A", Value: "b"}}},
			URIs: []CommandURI{{Value: "https://example.com/app.tgz", Extract: ptr(true)}}},
		HealthCheck: &HealthCheck{Type: HealthHTTP, HTTP: &HTTPCheck{Port: 31000, Path: "/"}, IntervalSeconds: 10, ConsecutiveFailures: 3},
		KillPolicy:  &KillPolicy{GracePeriod: &DurationInfo{Nanoseconds: 5e9}},
		Labels:      map[string]string{"app": "web"},
	}
}

func TestCallRoundTrips(t *testing.T) {
	calls := []Call{
		{FrameworkID: "F1", Type: CallSubscribe, Subscribe: &Subscribe{FrameworkInfo: FrameworkInfo{Name: "svc", Roles: []string{"prod"}, FailoverTimeout: 3600}}},
		{FrameworkID: "F1", Type: CallAccept, Accept: &Accept{OfferIDs: []OfferID{"O1"}, Operations: []Operation{{Type: OpLaunch, Launch: &Launch{TaskInfos: []TaskInfo{sampleTask()}}}}, Filters: &Filters{RefuseSeconds: ptr(0.0)}}},
		{FrameworkID: "F1", Type: CallDecline, Decline: &Decline{OfferIDs: []OfferID{"O1", "O2"}, Filters: &Filters{RefuseSeconds: ptr(30.0)}}},
		{FrameworkID: "F1", Type: CallRevive, Revive: &Revive{Roles: []string{"prod"}}},
		{FrameworkID: "F1", Type: CallSuppress},
		{FrameworkID: "F1", Type: CallKill, Kill: &Kill{TaskID: "t1", AgentID: "A1"}},
		{FrameworkID: "F1", Type: CallShutdown, Shutdown: &Shutdown{AgentID: "A1"}},
		{FrameworkID: "F1", Type: CallAcknowledge, Acknowledge: &Acknowledge{AgentID: "A1", TaskID: "t1", UUID: "U1"}},
		{FrameworkID: "F1", Type: CallAcknowledgeMany, Acknowledgements: []Acknowledge{{AgentID: "A1", TaskID: "t1", UUID: "U1"}, {AgentID: "A2", TaskID: "t2", UUID: "U2"}}},
		{FrameworkID: "F1", Type: CallReconcile, Reconcile: &Reconcile{Tasks: []ReconcileTask{{TaskID: "t1"}}}},
		{FrameworkID: "F1", Type: CallMessage, Message: &Message{AgentID: "A1", Data: []byte("hi")}},
		{FrameworkID: "F1", Type: CallTeardown},
		{FrameworkID: "F1", Type: CallHeartbeat},
	}
	for _, c := range calls {
		t.Run(string(c.Type), func(t *testing.T) {
			back := roundTrip(t, c)
			if err := back.Validate(); err != nil {
				t.Fatalf("valid call refused: %v", err)
			}
			data, _ := json.Marshal(c)
			if _, err := DecodeCall(data); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMesosFieldNames(t *testing.T) {
	data, _ := json.Marshal(Call{FrameworkID: "F1", Type: CallDecline, Decline: &Decline{OfferIDs: []OfferID{"O1"}, Filters: &Filters{RefuseSeconds: ptr(5.0)}}})
	for _, want := range []string{`"framework_id":"F1"`, `"type":"DECLINE"`, `"offer_ids":["O1"]`, `"refuse_seconds":5`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s", data, want)
		}
	}
}

func TestEventRoundTrips(t *testing.T) {
	events := []Event{
		{Type: EventSubscribed, Subscribed: &Subscribed{FrameworkID: "F1", HeartbeatIntervalSeconds: 5, MasterInfo: MasterInfo{ID: "M"}}},
		{Type: EventOffers, Offers: &Offers{Offers: []Offer{{ID: "O1", FrameworkID: "F1", AgentID: "A1", Hostname: "h",
			Resources: resources.MustParse("cpus:4;mem:1024"), Attributes: resources.Attributes{{Name: "rack", Type: resources.Text, Text: "r1"}},
			AllocationInfo: AllocationInfo{Role: "*"}}}}},
		{Type: EventRescind, Rescind: &Rescind{OfferID: "O1"}},
		{Type: EventUpdate, Update: &Update{Status: TaskStatus{TaskID: "t1", State: TaskRunning, Healthy: ptr(true), UUID: "U", Timestamp: 1.5}}},
		{Type: EventMessage, Message: &TaskMessage{AgentID: "A1", Data: []byte{0, 1}}},
		{Type: EventFailure, Failure: &Failure{AgentID: "A1"}},
		{Type: EventError, Error: &FatalError{Message: "bye"}},
		{Type: EventHeartbeat},
	}
	for _, e := range events {
		t.Run(string(e.Type), func(t *testing.T) {
			back := roundTrip(t, e)
			if err := back.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAgentMessagesRoundTrip(t *testing.T) {
	reg := RegisterAgent{Agent: AgentInfo{ID: "A1", Hostname: "h", Resources: resources.MustParse("cpus:2;mem:512")},
		Tasks: []AgentTask{{FrameworkID: "F1", TaskID: "t1", Resources: resources.MustParse("cpus:1"), State: TaskRunning}}}
	roundTrip(t, reg)
	data, _ := json.Marshal(reg)
	if _, err := DecodeRegisterAgent(data); err != nil {
		t.Fatal(err)
	}
	cmd := AgentCommand{Type: AgentLaunch, Launch: &LaunchTasks{Framework: FrameworkInfo{ID: "F1", Name: "x"}, Tasks: []TaskInfo{sampleTask()}}}
	roundTrip(t, cmd)
	data, _ = json.Marshal(cmd)
	if _, err := DecodeAgentCommand(data); err != nil {
		t.Fatal(err)
	}
	up := StatusUpdate{FrameworkID: "F1", AgentID: "A1", Status: TaskStatus{TaskID: "t1", State: TaskFailed, ExitCode: ptr(3), UUID: "U"}}
	roundTrip(t, up)
	data, _ = json.Marshal(up)
	if _, err := DecodeStatusUpdate(data); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{``, "empty message"},
		{`[]`, "call"},
		{`{"framework_id":"F","type":"ACCEPT"}`, "accept: missing"},
		{`{"framework_id":"F","type":"ACCEPT","accept":{"offer_ids":[]}}`, "accept.offer_ids"},
		{`{"framework_id":"F","type":"ACCEPT","accept":{"offer_ids":["O"],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"task_id":"..","resources":[]}]}}]}}`, "accept.operations[0].launch.task_infos[0].task_id"},
		{`{"framework_id":"F","type":"ACCEPT","accept":{"offer_ids":["O"],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"task_id":"t","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}]}}]}}`, "command"},
		{`{"framework_id":"F","type":"ACCEPT","accept":{"offer_ids":["O"],"operations":[{"type":"SPLIT"}]}}`, "accept.operations[0].type"},
		{`{"framework_id":"F","type":"DECLINE","decline":{"offer_ids":["O"],"filters":{"refuse_seconds":-1}}}`, "decline.filters.refuse_seconds"},
		{`{"framework_id":"a.b","type":"TEARDOWN"}`, "framework_id"},
		{`{"framework_id":"F","type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"x","roles":["a","a"]}}}`, "roles[1]"},
		{`{"framework_id":"F","type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"x","roles":["-bad"]}}}`, "roles[0]"},
		{`{"framework_id":"F","type":"SUBSCRIBE","subscribe":{"framework_info":{}}}`, "framework_info.name"},
		{`{"framework_id":"F","type":"KILL","kill":{"task_id":7}}`, "task_id"},
		{`{"framework_id":"F","type":"WHAT"}`, `"WHAT"`},
		{`{"framework_id":"F"}`, "type: missing"},
		{`{"framework_id":"F","type":"ACKNOWLEDGE_MANY"}`, "acknowledgements: missing"},
		{`{"framework_id":"F","type":"ACKNOWLEDGE_MANY","acknowledgements":[{"task_id":"t","uuid":"u"},{"task_id":"t2"}]}`, "acknowledgements[1].uuid"},
		{`{"framework_id":"F","type":"ACKNOWLEDGE_MANY","acknowledgements":[{"task_id":"..","uuid":"u"}]}`, "acknowledgements[0].task_id"},
		{`{"framework_id":"F","type":"ACKNOWLEDGE_MANY","acknowledgements":[` + strings.Repeat(`{"task_id":"t","uuid":"u"},`, MaxAcknowledgements) + `{"task_id":"t","uuid":"u"}]}`, "at most 1024"},
	} {
		_, err := DecodeCall([]byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want error mentioning %q, got %v", tc.body, tc.want, err)
		}
	}
}

func TestTaskStates(t *testing.T) {
	terminal := []TaskState{TaskFinished, TaskFailed, TaskKilled, TaskError, TaskLost, TaskDropped, TaskGone, TaskGoneByOperator}
	for _, s := range terminal {
		if !s.Valid() || !s.Terminal() {
			t.Errorf("%s should be a valid terminal state", s)
		}
	}
	for _, s := range []TaskState{TaskStaging, TaskStarting, TaskRunning, TaskKilling, TaskUnreachable, TaskUnknown} {
		if !s.Valid() || s.Terminal() {
			t.Errorf("%s should be a valid non-terminal state", s)
		}
	}
	if TaskState("TASK_NAPPING").Valid() {
		t.Error("unknown state valid")
	}
}

func TestSubjects(t *testing.T) {
	if got := FrameworkCall("F1"); got != "cairn.v1.fw.F1.call" {
		t.Error(got)
	}
	if got := Updates("F1", "A1"); got != "cairn.v1.updates.F1.A1" {
		t.Error(got)
	}
	if got := ClusterEvents(EvTaskUpdated); got != "cairn.v1.events.task_updated" {
		t.Error(got)
	}
	if TokenOf("cairn.v1.fw.F1.call", 3) != "F1" || TokenOf("a.b", 5) != "" {
		t.Error("TokenOf")
	}
	for _, bad := range []string{"", "a.b", "a b", "*", ">", strings.Repeat("x", 65)} {
		if ValidateToken("id", bad) == nil {
			t.Errorf("token %q accepted", bad)
		}
	}
	for _, bad := range []TaskID{"", ".a", "a.", "a..b", "a b", TaskID(strings.Repeat("x", 201))} {
		if ValidateTaskID("task_id", bad) == nil {
			t.Errorf("task id %q accepted", bad)
		}
	}
	if ValidateTaskID("task_id", "prod_web.3f2a-1") != nil || ValidateToken("id", NewID()) != nil {
		t.Error("valid ids refused")
	}
}
