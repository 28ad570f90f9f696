package packaging

import (
	"slices"
	"strings"
)

// maxVersionLen bounds a version string: versions become OCI tags, which
// are at most 128 characters.
const maxVersionLen = 128

// semver is a parsed semantic version (https://semver.org, 2.0.0).
type semver struct {
	major, minor, patch string   // decimal, no leading zeros
	pre                 []string // pre-release identifiers; nil for a release
}

// parseSemver parses MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] (no "v" prefix).
func parseSemver(s string) (semver, bool) {
	var v semver
	if s == "" || len(s) > maxVersionLen {
		return v, false
	}
	if i := strings.IndexByte(s, '+'); i >= 0 {
		build := s[i+1:]
		s = s[:i]
		for _, id := range strings.Split(build, ".") {
			if !isIdent(id) {
				return v, false
			}
		}
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		pre := s[i+1:]
		s = s[:i]
		for _, id := range strings.Split(pre, ".") {
			if !isIdent(id) || (isNumeric(id) && len(id) > 1 && id[0] == '0') {
				return v, false
			}
			v.pre = append(v.pre, id)
		}
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, false
	}
	for _, p := range parts {
		if !isNumeric(p) || (len(p) > 1 && p[0] == '0') {
			return v, false
		}
	}
	v.major, v.minor, v.patch = parts[0], parts[1], parts[2]
	return v, true
}

// isIdent reports whether s is a non-empty run of [0-9A-Za-z-].
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// isNumeric reports whether s is a non-empty run of decimal digits.
func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cmpNum compares decimal strings without leading zeros, of any length.
func cmpNum(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func (a semver) compare(b semver) int {
	if c := cmpNum(a.major, b.major); c != 0 {
		return c
	}
	if c := cmpNum(a.minor, b.minor); c != 0 {
		return c
	}
	if c := cmpNum(a.patch, b.patch); c != 0 {
		return c
	}
	// A release ranks above its pre-releases.
	switch {
	case a.pre == nil && b.pre == nil:
		return 0
	case a.pre == nil:
		return 1
	case b.pre == nil:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		x, y := a.pre[i], b.pre[i]
		xn, yn := isNumeric(x), isNumeric(y)
		var c int
		switch {
		case xn && yn:
			c = cmpNum(x, y)
		case xn: // numeric identifiers rank below alphanumeric ones
			c = -1
		case yn:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) < len(b.pre):
		return -1
	case len(a.pre) > len(b.pre):
		return 1
	}
	return 0
}

// ValidVersion reports whether v is a semantic version
// MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] (no "v" prefix) of at most 128
// characters.
func ValidVersion(v string) bool {
	_, ok := parseSemver(v)
	return ok
}

// CompareVersions compares two versions by semantic-version precedence and
// returns -1, 0 or +1. Build metadata is ignored (1.0.0+a == 1.0.0+b).
// Strings that are not semantic versions (tags such as "latest") rank below
// every version and compare among themselves as strings, so a list of
// registry tags sorts sensibly.
func CompareVersions(a, b string) int {
	va, oka := parseSemver(a)
	vb, okb := parseSemver(b)
	switch {
	case oka && okb:
		return va.compare(vb)
	case oka:
		return 1
	case okb:
		return -1
	}
	return strings.Compare(a, b)
}

// SortVersionsDesc sorts versions newest first (see CompareVersions); the
// sort is stable, so versions equal but for build metadata keep their order.
func SortVersionsDesc(versions []string) {
	slices.SortStableFunc(versions, func(a, b string) int { return CompareVersions(b, a) })
}

// VersionTag is the OCI tag a version is stored under: the version with
// "+" (not allowed in tags) replaced by "_", as Helm does.
func VersionTag(version string) string {
	return strings.ReplaceAll(version, "+", "_")
}

// VersionFromTag undoes VersionTag.
func VersionFromTag(tag string) string {
	return strings.ReplaceAll(tag, "_", "+")
}
