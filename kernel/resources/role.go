package resources

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultRole is the role of unreserved resources.
const DefaultRole = "*"

// ValidateRole checks a role name as Mesos does: "*" or non-empty path
// segments separated by '/', none of them "." or "..", none starting with
// '-', no whitespace, and no control characters. Like Mesos, it also rejects
// "*" as a segment of a longer role ("eng/*"), and invalid UTF-8.
func ValidateRole(role string) error {
	if role == DefaultRole {
		return nil
	}
	if role == "" {
		return fmt.Errorf(`invalid role "": a role must not be empty; use %q for unreserved resources or a name such as "prod"`, DefaultRole)
	}
	if !utf8.ValidString(role) {
		return fmt.Errorf("invalid role %q: it is not valid UTF-8", role)
	}
	for _, c := range role {
		if unicode.IsSpace(c) {
			return fmt.Errorf("invalid role %q: it contains whitespace %q; use '_' or '-' instead", role, c)
		}
		if unicode.IsControl(c) {
			return fmt.Errorf("invalid role %q: it contains the control character %q", role, c)
		}
	}
	rest := role
	for {
		seg, tail, more := strings.Cut(rest, "/")
		switch {
		case seg == "":
			return fmt.Errorf("invalid role %q: it has an empty path segment (a leading, trailing or doubled '/'); write hierarchical roles like \"eng/web\"", role)
		case seg == "." || seg == "..":
			return fmt.Errorf("invalid role %q: %q is not allowed as a path segment", role, seg)
		case seg == DefaultRole:
			return fmt.Errorf("invalid role %q: %q is only valid as a whole role (unreserved)", role, DefaultRole)
		case seg[0] == '-':
			return fmt.Errorf("invalid role %q: path segment %q starts with '-'", role, seg)
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

// IsSubRole reports whether role is a strict descendant of ancestor in the
// '/' hierarchy: "eng/web" and "eng/web/api" are sub-roles of "eng"; "eng" and
// "engineering" are not. Nothing is a sub-role of "*".
func IsSubRole(role, ancestor string) bool {
	return ancestor != DefaultRole && len(role) > len(ancestor)+1 &&
		role[len(ancestor)] == '/' && strings.HasPrefix(role, ancestor)
}
