package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Error is what the repository's operations fail with: Kind is one of
// ErrPackageNotFound, ErrVersionNotFound, ErrUnreachable,
// ErrUnauthorized or ErrInvalid (nil for other failures), matched with
// errors.Is; the message says what failed and what to do. The cause is
// kept for errors.Is/As too.
type Error struct {
	kind error
	msg  string
	err  error
}

func (e *Error) Error() string { return e.msg }

// Kind is the error's sentinel (nil for an unclassified failure).
func (e *Error) Kind() error { return e.kind }

func (e *Error) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.err != nil {
		errs = append(errs, e.err)
	}
	return errs
}

func newError(kind error, cause error, format string, args ...any) *Error {
	return &Error{kind: kind, err: cause, msg: fmt.Sprintf(format, args...)}
}

// isNotFound says whether a registry answered that a repository, tag or
// manifest does not exist.
func isNotFound(err error) bool {
	if errors.Is(err, errdef.ErrNotFound) {
		return true
	}
	var er *errcode.ErrorResponse
	if errors.As(err, &er) {
		if er.StatusCode == http.StatusNotFound {
			return true
		}
		for _, e := range er.Errors {
			switch e.Code {
			case errcode.ErrorCodeNameUnknown, errcode.ErrorCodeManifestUnknown:
				return true
			}
		}
	}
	return false
}

// fail turns a registry client error into an *Error saying what failed
// (doing: "reading the index of oci://...") and what to do.
func (r *Repo) fail(err error, doing string) error {
	if err == nil {
		return nil
	}
	var re *Error
	if errors.As(err, &re) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", doing, err)
	}
	var dce *dockerConfigError
	if errors.As(err, &dce) {
		return newError(ErrUnauthorized, err, "registry %s: %s: %v: fix the file, or give the repository a username and password", r.host, doing, dce)
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return newError(ErrUnauthorized, err, "registry %s requires credentials (none configured for it in the Docker config) %s: give the repository a username and password (or log in with docker login)", r.host, doing)
	}
	var er *errcode.ErrorResponse
	if errors.As(err, &er) {
		switch {
		case er.StatusCode == http.StatusUnauthorized || er.StatusCode == http.StatusForbidden:
			what := "refused the credentials"
			if r.static == nil {
				what = "requires credentials (none configured for it in the Docker config)"
			}
			return newError(ErrUnauthorized, err, "registry %s %s (%d %s) %s: check the repository's username and password (or log in with docker login)",
				r.host, what, er.StatusCode, http.StatusText(er.StatusCode), doing)
		case er.StatusCode >= 500 || er.StatusCode == http.StatusTooManyRequests:
			return newError(ErrUnreachable, err, "registry %s failed %s: %s: retry later, or check the registry's logs", r.host, doing, describeRegistryError(er))
		}
		return newError(nil, err, "registry %s %s: %s", r.host, doing, describeRegistryError(er))
	}
	if why, ok := transportProblem(err); ok {
		hint := "check the repository URI and that the registry runs"
		if strings.Contains(why, "plain HTTP") {
			hint = "the registry speaks plain HTTP: add the repository with plainHTTP"
		}
		return newError(ErrUnreachable, err, "registry %s unreachable: %s (%s): %s", r.host, why, doing, hint)
	}
	return newError(nil, err, "%s: %v", doing, err)
}

func describeRegistryError(er *errcode.ErrorResponse) string {
	s := fmt.Sprintf("%d %s", er.StatusCode, http.StatusText(er.StatusCode))
	if len(er.Errors) > 0 {
		s += ": " + er.Errors.Error()
	}
	return s
}

// transportProblem says in a few words why a request got no answer, if
// err is a transport failure.
func transportProblem(err error) (string, bool) {
	var dnsErr *net.DNSError
	var netErr net.Error
	var rhe tls.RecordHeaderError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset", true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host", true
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("unknown host %q", dnsErr.Name), true
		}
		return fmt.Sprintf("cannot resolve %q: %s", dnsErr.Name, dnsErr.Err), true
	case errors.As(err, &rhe):
		return "the registry speaks plain HTTP, not HTTPS", true
	case errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &cie):
		return "its TLS certificate is not trusted: " + err.Error(), true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timed out", true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed before an answer (is it an OCI registry? http vs https?)", true
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return "the registry speaks plain HTTP, not HTTPS", true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error(), true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err.Error(), true
	}
	return "", false
}
