package tui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/tui"
	"github.com/cairn-dc/cairn/tui/internal/fixture"
	"github.com/cairn-dc/cairn/tui/internal/ui"
)

// fakeMaster serves the fixture's state as the event stream, and a task's
// stdout (three lines, then more while following, with terminal escapes
// the view must drop) and stderr.
func fakeMaster(t *testing.T) *httptest.Server {
	t.Helper()
	logPath := fmt.Sprintf("/agent/%s/v1/tasks/%s/%s/logs/", fixture.Agent1, fixture.Services, fixture.WebTask)
	more := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		data, _ := json.Marshal(fixture.Subscribed())
		fmt.Fprintf(w, "event: SUBSCRIBED\ndata: %s\n\n", data)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc(logPath+"stdout", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("follow") != "true" || r.URL.Query().Get("offset") == "" {
			http.Error(w, "want follow=true and an offset", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, "listening on :8080\n\x1b[31mGET /health 200\x1b[0m\npartial ")
		w.(http.Flusher).Flush()
		select {
		case <-more:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "line\nGET /ready 200\n")
	})
	mux.HandleFunc(logPath+"stderr", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "warning: low disk\n")
	})
	mux.HandleFunc("/v1/agents/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/more") {
			close(more)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestLogView opens a task's log from the tasks page (l), follows it,
// switches to stderr (s) and closes it (esc).
func TestLogView(t *testing.T) {
	srv := fakeMaster(t)
	client, err := apiclient.New(srv.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := tui.New(ctx, tui.Options{Client: client, NoColor: true, Now: fixture.Now})
	t.Cleanup(m.Close)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii), tea.WithFilter(probeFilter)))
	waitScreen(t, tm, 5*time.Second, "the overview", has("node-1", "● live"))

	tm.Send(ui.KeyPress("4"))
	for range 4 { // prod_web.7f3a9c21 is the fifth task
		tm.Send(ui.KeyPress("down"))
	}
	tm.Send(ui.KeyPress("l"))
	s := waitScreen(t, tm, 5*time.Second, "the stdout log", has("Log "+string(fixture.WebTask), "stdout", "listening on :8080", "GET /health 200", "partial"))
	reply := make(chan string, 1)
	tm.Send(probe{reply: reply, raw: true})
	if raw := <-reply; strings.Contains(raw, "\x1b[31m") || strings.Contains(s, "[31m") || !strings.Contains(s, "GET /health 200") {
		t.Errorf("the log keeps the task's terminal escapes:\n%q", raw)
	}
	if _, err := http.Post(srv.URL+"/v1/agents/x/more", "", nil); err != nil {
		t.Fatal(err)
	}
	waitScreen(t, tm, 5*time.Second, "followed lines", has("partial line", "GET /ready 200", "ended"))

	tm.Send(ui.KeyPress("s"))
	waitScreen(t, tm, 5*time.Second, "the stderr log", has("stderr", "warning: low disk"))

	tm.Send(ui.KeyPress("esc"))
	waitScreen(t, tm, 5*time.Second, "the tasks page again", has("Tasks  9 of 9"))
	tm.Send(ui.KeyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}
