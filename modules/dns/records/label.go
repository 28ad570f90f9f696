package records

import (
	"crypto/sha1"
	"net/netip"
	"strings"
)

// MaxLabel is the longest DNS label (RFC 1035).
const MaxLabel = 63

// Label turns any string into a DNS label (RFC 1123 host name label): ASCII
// letters are lower-cased, every other character outside [a-z0-9-] (dots,
// underscores, spaces, any non-ASCII rune, invalid UTF-8 byte) becomes '-',
// leading and trailing dashes are trimmed and the result is cut to 63 bytes
// (then trimmed again). The result is "" when nothing usable is left.
// Label is idempotent: Label(Label(s)) == Label(s).
//
// Examples: "web.prod" → "web-prod", "My_App" → "my-app", "ŵeb" → "eb".
func Label(s string) string {
	if isLabel(s) {
		return s
	}
	b := make([]byte, 0, min(len(s), 2*MaxLabel))
	for _, r := range s {
		var c byte
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '-':
			c = byte(r)
		case 'A' <= r && r <= 'Z':
			c = byte(r) + 'a' - 'A'
		default:
			c = '-'
		}
		if c == '-' && len(b) == 0 {
			continue // leading dashes
		}
		b = append(b, c)
		if len(b) > MaxLabel {
			break // enough to cut at 63 and know what follows
		}
	}
	if len(b) > MaxLabel {
		b = b[:MaxLabel]
	}
	for len(b) > 0 && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	return string(b)
}

// isLabel reports whether s is already what Label would return.
func isLabel(s string) bool {
	if s == "" || len(s) > MaxLabel || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// AppLabel flattens a services (Marathon) app id into the label of its
// tasks, as mesos-dns names Marathon's group apps: the path is reversed and
// joined with dashes ("/prod/web" → "web-prod", "/hello" → "hello"). It
// equals Label of the task name the services framework gives the app's
// tasks ("web.prod").
func AppLabel(appID string) string {
	parts := strings.FieldsFunc(appID, func(r rune) bool { return r == '/' })
	for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
		parts[l], parts[r] = parts[r], parts[l]
	}
	return Label(strings.Join(parts, "."))
}

// zbase32 is the human-oriented base-32 alphabet mesos-dns uses for its
// task hashes.
const zbase32 = "ybndrfg8ejkmcpqxot1uwisza345h769"

// taskHash is 5 z-base-32 characters of SHA-1(task id), as in mesos-dns.
func taskHash(id string) string {
	sum := sha1.Sum([]byte(id))
	v := uint32(sum[0])<<24 | uint32(sum[1])<<16 | uint32(sum[2])<<8 | uint32(sum[3])
	var out [5]byte
	for i := range out {
		out[i] = zbase32[(v>>(27-5*i))&31]
	}
	return string(out[:])
}

// agentTail is the short form of an agent id used in per-task host names:
// the last '-'-separated field of the id (mesos-dns' "slave id tail", "s4"
// for "20150911-…-S4"), as a label, cut to its last 8 characters (Cairn's
// agent ids are 26-character ULIDs).
func agentTail(id string) string {
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		id = id[i+1:]
	}
	l := Label(id)
	if len(l) > 8 {
		l = strings.TrimLeft(l[len(l)-8:], "-")
	}
	return l
}

// HostLabel is the per-task host name label, "<task>-<hash>-<agent>":
// task is the task's label, hash five z-base-32 characters of SHA-1 of the
// task id, agent the agent id's tail (see README). The task part is cut so
// that the label fits in 63 bytes. Stable: it depends only on the three
// inputs.
func HostLabel(task, taskID, agentID string) string {
	suffix := "-" + taskHash(taskID)
	if a := agentTail(agentID); a != "" {
		suffix += "-" + a
	}
	if max := MaxLabel - len(suffix); len(task) > max {
		task = strings.TrimRight(task[:max], "-")
	}
	return task + suffix
}

// serviceLabel is "_" + label, cut to fit in 63 bytes.
func serviceLabel(l string) string {
	if len(l) > MaxLabel-1 {
		l = strings.TrimRight(l[:MaxLabel-1], "-")
	}
	return "_" + l
}

// parseHostPort extracts the host and port of "host", "host:port",
// "[v6]:port" or Mesos' "name@host:port". port is "" when absent.
func parseHostPort(s string) (host, port string) {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String(), itoa(ap.Port())
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.Count(s, ":") == 1 {
		return s[:i], s[i+1:]
	}
	return strings.Trim(s, "[]"), ""
}

// parseIP returns the IP address in s ("ip", "ip:port", "[v6]:port",
// "name@ip:port"), unmapping IPv4-in-IPv6; ok is false for anything else.
func parseIP(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	host, _ := parseHostPort(s)
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func itoa(p uint16) string {
	if p == 0 {
		return "0"
	}
	var b [5]byte
	i := len(b)
	for p > 0 {
		i--
		b[i] = byte('0' + p%10)
		p /= 10
	}
	return string(b[i:])
}
