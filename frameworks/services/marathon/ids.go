package marathon

import (
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// MaxIDLength bounds canonical app ids so that their task ids
// ("<id without the leading / and with / as _>.<26-char ULID>") fit
// protocol.ValidateTaskID's 200 characters. Marathon itself has no bound.
const MaxIDLength = 200 - 26

// reservedLast are the words an id must not end with: they are routes
// under /v2/apps/{id}/ (Marathon's PathId rule).
var reservedLast = map[string]bool{"restart": true, "tasks": true, "versions": true}

// CanonicalID returns the absolute, clean path id ("/prod/web") or an error
// saying what is wrong (Marathon's id rules: lowercase letters, digits,
// '-', '.', segments not starting or ending with '-' ...). Relative ids are
// taken against the root group: "web" → "/web", "a/./b/../c" → "/a/c".
func CanonicalID(id string) (string, error) { return ResolveID("/", id) }

// ResolveID makes id canonical against the group base, as Marathon does
// for dependencies and ids inside groups: ResolveID("/prod", "db") is
// "/prod/db", ResolveID("/prod", "../db") is "/db", absolute ids stay as
// they are. base must be absolute.
func ResolveID(base, id string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", fmt.Errorf("empty: give an id such as \"/prod/web\"")
	}
	canonical := resolve(base, id)
	if canonical == "/" {
		return "", fmt.Errorf("%q names the root group: an app id needs at least one segment, such as \"/web\"", id)
	}
	segs := strings.Split(canonical[1:], "/")
	for _, s := range segs {
		if why := segmentProblem(s); why != "" {
			return "", fmt.Errorf("%q: segment %q %s", id, s, why)
		}
	}
	if last := segs[len(segs)-1]; reservedLast[last] {
		return "", fmt.Errorf("%q must not end with %q: restart, tasks and versions are reserved words", id, last)
	}
	if len(canonical) > MaxIDLength {
		return "", fmt.Errorf("%q is %d characters long: Cairn limits app ids to %d so that task ids fit in 200", id, len(canonical), MaxIDLength)
	}
	return canonical, nil
}

// resolve is Marathon's PathId canonicalPath: empty segments dropped, "."
// and ".." resolved (".." above the root stays at the root), relative ids
// appended to base. It always returns an absolute path ("/" at least).
func resolve(base, id string) string {
	var out []string
	if !strings.HasPrefix(id, "/") {
		for _, s := range strings.Split(base, "/") {
			if s != "" {
				out = append(out, s)
			}
		}
	}
	for _, s := range strings.Split(id, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// parentOf is the group an app id belongs to ("/prod/web" → "/prod").
func parentOf(id string) string {
	i := strings.LastIndexByte(id, '/')
	if i <= 0 {
		return "/"
	}
	return id[:i]
}

// segmentProblem checks one path segment against Marathon's pattern: dot-
// separated labels of [a-z0-9-], each starting and ending with a letter or
// digit. It returns why the segment is invalid, or "".
func segmentProblem(s string) string {
	if s != strings.ToLower(s) {
		return "has uppercase letters: ids use lowercase letters, digits, '-' and '.'"
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" {
			return "has an empty part between dots: '.' may only separate letters or digits"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Sprintf("has the character %q: ids use lowercase letters, digits, '-' and '.'", rune(c))
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "starts or ends with '-' (before or after a '.'): use a letter or digit there"
		}
	}
	return ""
}

// NewTaskID makes a task id for an app ("/prod/web" → "prod_web.<ulid>"),
// valid for protocol.ValidateTaskID. The encoding is Marathon's: the id's
// segments joined by '_' (which ids cannot contain), a '.', and a ULID in
// place of Marathon's UUID (sortable by launch time). appID must be
// canonical (CanonicalID); AppIDOf reverses it.
func NewTaskID(appID string) protocol.TaskID {
	safe := strings.ReplaceAll(strings.TrimPrefix(resolve("/", appID), "/"), "/", "_")
	if safe == "" {
		safe = "app"
	}
	// Defensive: keep the task id valid even for an id that bypassed
	// validation (it then does not round-trip).
	b := []byte(safe)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') ||
			c == '.' && (i == 0 || i == len(b)-1 || b[i-1] == '.') {
			b[i] = '-'
		}
	}
	if len(b) > MaxIDLength-1 {
		b = b[:MaxIDLength-1]
	}
	out := strings.TrimRight(string(b), ".")
	if out == "" {
		out = "app"
	}
	return protocol.TaskID(out + "." + protocol.NewID())
}

// AppIDOf recovers the app id from a task id made by NewTaskID
// ("prod_web.01J..." → "/prod/web"); false when id is not one.
func AppIDOf(id protocol.TaskID) (string, bool) {
	s := string(id)
	i := strings.LastIndexByte(s, '.')
	if i <= 0 {
		return "", false
	}
	if _, err := ulid.ParseStrict(strings.ToUpper(s[i+1:])); err != nil {
		return "", false
	}
	appID := "/" + strings.ReplaceAll(s[:i], "_", "/")
	if c, err := CanonicalID(appID); err != nil || c != appID {
		return "", false
	}
	return appID, true
}
