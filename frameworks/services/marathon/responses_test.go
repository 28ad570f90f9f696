package marathon

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestTimestamp(t *testing.T) {
	at := time.Date(2015, 4, 2, 11, 37, 0, 596_400_000, time.FixedZone("CEST", 2*3600))
	if got := Timestamp(at); got != "2015-04-02T09:37:00.596Z" {
		t.Errorf("got %s", got)
	}
	if got := Timestamp(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)); got != "2020-01-01T00:00:00.000Z" {
		t.Errorf("got %s", got)
	}
}

func TestResponsesWriteEmptyArrays(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{Task{ID: "t"}, `"ipAddresses":[],"ports":[],"servicePorts":[]`},
		{Deployment{ID: "d", Steps: []Step{{}}}, `"affectedApps":[],"steps":[{"actions":[]}],"currentActions":[]`},
		{CurrentAction{Action: "ScaleApplication"}, `"readinessCheckResults":[]`},
		{Summary{}, `"rejectSummaryLastOffers":[]`},
	} {
		b, err := json.Marshal(c.v)
		if err != nil || !strings.Contains(string(b), c.want) {
			t.Errorf("%T: %s (%v), want %s", c.v, b, err, c.want)
		}
	}
}

func TestAppStatusJSON(t *testing.T) {
	a, _ := mustApp(t, readTestdata(t, "ubuntu.json"))
	s := AppStatus{App: a, TasksRunning: 1}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, want := range []string{`"id":"/ubuntu"`, `"cpus":0.5`, `"tasksRunning":1`, `"tasksHealthy":0`, `"deployments":[]`, `"labels":{}`,
		`"unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":0}`, `"killSelection":"YOUNGEST_FIRST"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in %s", want, out)
		}
	}
	if strings.Contains(out, `"tasks"`) {
		t.Errorf("tasks not embedded: %s", out)
	}
	s.Tasks = []Task{}
	b, _ = json.Marshal(s)
	if !strings.Contains(string(b), `"tasks":[]`) {
		t.Errorf("embedded empty tasks: %s", b)
	}
	// The API's wrapper and a client decoding it.
	b, _ = json.Marshal(map[string]any{"app": s})
	var back struct{ App AppStatus }
	if err := json.Unmarshal(b, &back); err != nil || back.App.TasksRunning != 1 || back.App.ID != "/ubuntu" || *back.App.Mem != 512 {
		t.Errorf("decoding: %v %+v", err, back.App)
	}
}

func TestNewEvent(t *testing.T) {
	body := map[string]any{"appId": "/a"}
	e := NewEvent("status_update_event", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), body)
	if e.Type != "status_update_event" || e.Body["eventType"] != "status_update_event" || e.Body["timestamp"] != "2020-01-01T00:00:00.000Z" || e.Body["appId"] != "/a" {
		t.Errorf("%+v", e)
	}
	if len(body) != 1 {
		t.Error("body modified")
	}
}
