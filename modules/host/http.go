package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cairn-dc/cairn/modules/host/moduleapi"
)

// maxSpecBytes bounds a POST /v1/modules body.
const maxSpecBytes = 1 << 20

// Handler serves the host's API under /v1/modules (see moduleapi):
//
//	GET    /v1/modules         every module's status
//	GET    /v1/modules/{name}  one module's status
//	POST   /v1/modules         add or replace a module (a moduleapi.Spec)
//	DELETE /v1/modules/{name}  remove a module added through the API
//
// Paths are absolute: mount it on the master's endpoint for both
// "/v1/modules" and "/v1/modules/" (master.HTTPConfig.Mounts), behind the
// master's token.
func (h *Host) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+moduleapi.PathModules, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, h.List())
	})
	mux.HandleFunc("GET "+moduleapi.PathModules+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		st, err := h.Get(r.PathValue("name"))
		if err != nil {
			writeHostError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST "+moduleapi.PathModules, func(w http.ResponseWriter, r *http.Request) {
		spec, err := decodeSpec(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		st, replaced, err := h.Add(r.Context(), spec)
		if err != nil {
			writeHostError(w, err)
			return
		}
		code := http.StatusCreated
		if replaced {
			code = http.StatusOK
		}
		writeJSON(w, code, st)
	})
	mux.HandleFunc("DELETE "+moduleapi.PathModules+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		st, err := h.Remove(r.Context(), r.PathValue("name"))
		if err != nil {
			writeHostError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc(moduleapi.PathModules+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s %s: see GET/POST /v1/modules, GET/DELETE /v1/modules/<name>", r.Method, r.URL.Path))
	})
	return mux
}

func decodeSpec(r *http.Request) (moduleapi.Spec, error) {
	var spec moduleapi.Spec
	dec := json.NewDecoder(io.LimitReader(r.Body, maxSpecBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return spec, fmt.Errorf("the body is not a module spec: %v; send {\"name\", \"kind\", \"path\", \"sha256\", \"config\"}", err)
	}
	if dec.More() {
		return spec, errors.New("the body has more than one JSON value: send one module spec")
	}
	return spec, nil
}

func writeHostError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrConflict):
		code = http.StatusConflict
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrNoStore):
		code = http.StatusNotImplemented
	case errors.Is(err, ErrNotRunning):
		code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	writeError(w, code, stripSentinel(err))
}

// stripSentinel drops the "no such module: " prefix the sentinel adds,
// which the message says better.
func stripSentinel(err error) string {
	msg := err.Error()
	for _, s := range []error{ErrNotFound, ErrConflict, ErrInvalid, ErrNoStore, ErrNotRunning} {
		if rest, ok := strings.CutPrefix(msg, s.Error()+": "); ok {
			return rest
		}
	}
	return msg
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, moduleapi.Error{Message: msg})
}
