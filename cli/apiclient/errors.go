package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"unicode"
)

// UnreachableError says the master could not be reached at all (refused,
// unknown host, timed out, TLS failure ...).
type UnreachableError struct {
	URL string // the operator API base URL that was tried
	// Source is where URL came from (`cluster "prod"`, "the default" ...);
	// "" or "--url" when it goes without saying.
	Source string
	Err    error // the transport error
}

func (e *UnreachableError) Error() string {
	from := ""
	if e.Source != "" && e.Source != "--url" {
		from = " (" + e.Source + ")"
	}
	return fmt.Sprintf("cannot reach the Cairn master at %s%s: %s — is `cairn up` running? set --url, CAIRN_URL or `cairn config use CLUSTER`",
		e.URL, from, describeTransportError(e.Err))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// describeTransportError says in a few words why a request got no answer.
func describeTransportError(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("unknown host %q", dnsErr.Name)
		}
		return fmt.Sprintf("cannot resolve %q: %s", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed before an answer (is that a Cairn master, and is it http vs https?)"
	}
	// *url.Error repeats method and URL; keep only the cause.
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

// APIError is a non-2xx answer of the operator API.
type APIError struct {
	Method     string
	URL        string // the request URL, without credentials
	StatusCode int
	Status     string // e.g. "401 Unauthorized"
	// Message is the API's {"message": "..."}, or the start of a non-JSON body.
	Message string
	// TokenSent says whether the request carried a bearer token.
	TokenSent bool
	// Body is the start of the answer's body (at most 64 KiB), for APIs
	// whose errors carry more than a message (Marathon's 409 and 422).
	Body []byte
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", e.Method, e.URL, e.Status)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		if e.TokenSent {
			b.WriteString(" — the master rejected the token: check --token or CAIRN_TOKEN")
		} else {
			b.WriteString(" — the master needs a token: pass --token or set CAIRN_TOKEN")
		}
	case http.StatusForbidden:
		b.WriteString(" — the token is not allowed to do this: use an operator's token (--token or CAIRN_TOKEN)")
	}
	return b.String()
}

func newAPIError(req *http.Request, resp *http.Response, tokenSent bool) *APIError {
	status := resp.Status
	if status == "" || !strings.HasPrefix(status, fmt.Sprint(resp.StatusCode)) {
		status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	u := *req.URL
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return &APIError{
		Method:     req.Method,
		URL:        u.Redacted(),
		StatusCode: resp.StatusCode,
		Status:     status,
		Message:    errorMessage(data),
		TokenSent:  tokenSent,
		Body:       data,
	}
}

// errorMessage extracts {"message": "..."} from an error body, or else its
// first line of text (bounded, control characters removed).
func errorMessage(data []byte) string {
	var shape struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &shape) == nil && shape.Message != "" {
		return oneLine(shape.Message, 1000)
	}
	text := strings.TrimSpace(string(data))
	if i := strings.IndexAny(text, "\r\n"); i >= 0 {
		text = text[:i]
	}
	return oneLine(text, 200)
}

func oneLine(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
