package apiclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMasterHealth(t *testing.T) {
	for _, tc := range []struct {
		code       int
		body       string
		wantStatus string
		wantErr    bool
	}{
		{200, `{"status":"ok","leader":true,"master":{"id":"m1","version":"v1.2.3"}}`, "ok", false},
		{503, `{"status":"not ready","leader":false,"master":{"id":"m1","version":"v1.2.3"}}`, "not ready", true},
		{200, `{}`, "", true}, // not a Cairn master
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/health" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(tc.code)
			_, _ = w.Write([]byte(tc.body))
		}))
		c, err := New(srv.URL, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		hs, err := c.MasterHealth(context.Background())
		srv.Close()
		if hs.Status != tc.wantStatus || (err != nil) != tc.wantErr {
			t.Errorf("%d %s: %+v, %v", tc.code, tc.body, hs, err)
		}
		if tc.wantStatus != "" && hs.Master.Version != "v1.2.3" {
			t.Errorf("%d: master %+v", tc.code, hs.Master)
		}
		var ae *APIError
		if tc.code == 503 && !errors.As(err, &ae) {
			t.Errorf("503: %T %v, want an *APIError", err, err)
		}
	}
}
