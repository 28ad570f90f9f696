package cron

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// FuzzJobJSON: any body POST /v1/jobs may get is refused with a field
// path, or accepted as a job whose stored form validates again to the same
// job (what a restart loads is what was accepted). Never a panic.
func FuzzJobJSON(f *testing.F) {
	for _, s := range []string{
		`{"id":"prod.reports.daily","run":{"cmd":"date","cpus":0.5,"mem":64},"schedules":[{"id":"nightly","cron":"0 3 * * *","timezone":"Europe/Paris","concurrencyPolicy":"FORBID"}]}`,
		`{"id":"a","run":{"args":["/bin/echo","hi"]},"schedules":[{"id":"iso","interval":"R5/2026-01-01T00:00:00Z/PT6H","epsilon":"PT1M"}]}`,
		`{"id":"b.c","run":{"cmd":"x","restart":{"policy":"ON_FAILURE","activeDeadlineSeconds":60,"maxRetries":2}},"parents":["a"]}`,
		`{"id":"x","run":{"cmd":"x","placement":{"constraints":[{"attribute":"rack","operator":"EQ","value":"r1"}]}}}`,
		`{"id":"x","run":{"cmd":"x","artifacts":[{"uri":"https://example.com/a.tgz","extract":false}]}}`,
		`{"id":"Bad","run":{}}`,
		`{"id":"x","run":{"cmd":"x"},"schedules":[{"id":"s","cron":"61 * * * *","timezone":"Mars/Base"}]}`,
		`[]`, `null`, `{"id":1}`, `{"id":"x","run":{"cmd":"x","cpus":1e400}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		slow := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("one input took 10 s: %q", body)) })
		defer slow.Stop()
		r, _ := http.NewRequest("POST", "/v1/jobs", strings.NewReader(body))
		var spec cronapi.Job
		if err := decode(r, &spec); err != nil {
			if ae, ok := err.(*apiError); !ok || len(ae.body.Details) == 0 || ae.body.Details[0].Path == "" {
				t.Fatalf("decode error without a field: %v", err)
			}
			return
		}
		if _, err := normalizeJob(&spec); err != nil {
			ve, ok := err.(*ValidationError)
			if !ok || len(ve.Details) == 0 {
				t.Fatalf("validation error without details: %v", err)
			}
			for _, d := range ve.Details {
				if !strings.HasPrefix(d.Path, "/") || len(d.Errors) == 0 {
					t.Fatalf("detail without a path or an error: %+v", d)
				}
			}
			return
		}
		stored, err := json.Marshal(spec)
		if err != nil {
			t.Fatalf("an accepted job does not encode: %v", err)
		}
		var again cronapi.Job
		if err := json.Unmarshal(stored, &again); err != nil {
			t.Fatalf("a stored job does not decode: %v: %s", err, stored)
		}
		if _, err := normalizeJob(&again); err != nil {
			t.Fatalf("a stored job no longer validates: %v: %s", err, stored)
		}
		if !reflect.DeepEqual(normalizedJSON(t, spec), normalizedJSON(t, again)) {
			t.Fatalf("normalising twice changed the job:\n%s\n%s", normalizedJSON(t, spec), normalizedJSON(t, again))
		}
	})
}

func normalizedJSON(t *testing.T, j cronapi.Job) string {
	data, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
