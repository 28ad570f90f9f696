package repository

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cairn-dc/cairn/repository/packageapi"
)

var fuzzPaths = []string{
	packageapi.PathSearch, packageapi.PathDescribe, packageapi.PathListVersions, packageapi.PathRender,
	packageapi.PathInstall, packageapi.PathUninstall, packageapi.PathList, packageapi.PathRepositoryList,
	packageapi.PathRepositoryAdd, packageapi.PathRepositoryDelete, packageapi.PathServiceDescribe,
	packageapi.PathServiceUpdate,
}

// FuzzHandler sends arbitrary bodies to every endpoint of a server with
// no repositories and no network (nothing leaves the process): it must
// never panic, and must answer 200 or a complete packageapi.Error, in
// JSON, never an internal error.
func FuzzHandler(f *testing.F) {
	// More seeds are in testdata/fuzz/FuzzHandler.
	f.Add(uint8(0), []byte(`{"query": "hello"}`))
	f.Add(uint8(4), []byte(`{"packageName": "hello", "appId": "/web/hello", "options": {"port": 8080}}`))
	f.Add(uint8(8), []byte(`{"name": "x", "uri": "oci://127.0.0.1:1/ns", "index": 0}`))

	store := NewMemoryStore()
	if _, err := store.Save(testContext(f), nil, 0); err != nil {
		f.Fatal(err)
	}
	svc := newFakeServices()
	// No network: a repository add pings through this client.
	noNetwork := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("fuzzing: no network")
		},
	}}
	srv, err := NewServer(testContext(f), Config{Services: svc, Store: store, HTTPClient: noNetwork, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, pathIndex uint8, body []byte) {
		path := fuzzPaths[int(pathIndex)%len(fuzzPaths)]
		if pathIndex == 255 {
			path = "/package/unknown"
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %q: %d, not JSON: %q", path, body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusOK {
			return
		}
		var ae packageapi.Error
		dec := json.NewDecoder(rec.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ae); err != nil || ae.Type == "" || ae.Message == "" {
			t.Fatalf("%s %q: %d with a bad Error (%v): %+v", path, body, rec.Code, err, ae)
		}
		if rec.Code >= 500 && ae.Type == packageapi.ErrInternal {
			t.Fatalf("%s %q: %d %+v", path, body, rec.Code, ae)
		}
		if svc.count() != 0 {
			t.Fatalf("%s %q: an app was created without repositories", path, body)
		}
	})
}
