package main

import (
	"net/http"
	"sync/atomic"
)

// lateHandler serves an API that starts after the operator API: until Set,
// it answers 503 asking the client to retry.
type lateHandler struct {
	h atomic.Pointer[http.Handler]
}

func (l *lateHandler) Set(h http.Handler) { l.h.Store(&h) }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"type":"ServiceUnavailable","message":"this API is starting (or is not enabled on this master): retry shortly"}` + "\n"))
}
