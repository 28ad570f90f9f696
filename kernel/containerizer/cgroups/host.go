package cgroups

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"strings"
)

// mount is one cgroup filesystem from /proc/self/mountinfo.
type mount struct {
	root  string   // the hierarchy path mounted there ("/" normally)
	point string   // mount point
	v2    bool     // cgroup2
	opts  []string // super options (v1: controller names, "name=systemd", ...)
}

// host is what the kernel tells this process about its cgroups.
type host struct {
	mounts []mount
	// own maps a v1 controller (or "name=x") to this process's path in its
	// hierarchy; own2 is the path in the unified hierarchy ("" if none).
	own     map[string]string
	own2    string
	hasOwn2 bool
}

func readHost() (*host, error) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	h := &host{own: map[string]string{}}
	h.mounts = parseMountinfo(mi)
	h.parseCgroup(cg)
	return h, nil
}

// parseMountinfo returns the cgroup and cgroup2 mounts, in order.
func parseMountinfo(b []byte) []mount {
	var out []mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// id parent maj:min root point opts [optional...] - fstype source superopts
		f := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 > len(f) {
			continue
		}
		fstype := f[sep+1]
		if fstype != "cgroup" && fstype != "cgroup2" {
			continue
		}
		m := mount{root: unescape(f[3]), point: unescape(f[4]), v2: fstype == "cgroup2"}
		if sep+3 < len(f) {
			m.opts = strings.Split(f[sep+3], ",")
		}
		out = append(out, m)
	}
	return out
}

// unescape undoes mountinfo's octal escapes (\040 for a space ...).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// parseCgroup reads /proc/self/cgroup: "id:controllers:path" lines.
func (h *host) parseCgroup(b []byte) {
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			h.own2, h.hasOwn2 = parts[2], true
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c != "" {
				h.own[c] = parts[2]
			}
		}
	}
}

// dirFor returns the directory of this process's own cgroup on m, given
// its path p in the hierarchy ("" if the mount does not show that path).
func dirFor(m mount, p string) string {
	root := path.Clean("/" + m.root)
	p = path.Clean("/" + p)
	switch {
	case root == "/":
	case p == root:
		p = "/"
	case strings.HasPrefix(p, root+"/"):
		p = p[len(root):]
	default:
		// A cgroup namespace shows paths relative to its root, which is
		// what is mounted: use the path as is.
	}
	return path.Join(m.point, p)
}

// v1Mount finds the mount of the v1 hierarchy with controller c and this
// process's own directory on it.
func (h *host) v1Mount(c string) (m mount, own string, ok bool) {
	p, have := h.own[c]
	if !have {
		return mount{}, "", false
	}
	var found []mount
	for _, mm := range h.mounts {
		if mm.v2 {
			continue
		}
		for _, o := range mm.opts {
			if o == c {
				found = append(found, mm)
				break
			}
		}
	}
	if len(found) == 0 {
		return mount{}, "", false
	}
	// Prefer a mount of the whole hierarchy.
	best := found[0]
	for _, mm := range found {
		if path.Clean("/"+mm.root) == "/" {
			best = mm
			break
		}
	}
	return best, dirFor(best, p), true
}

// v2Mount finds the unified hierarchy and this process's own directory there.
func (h *host) v2Mount() (m mount, own string, ok bool) {
	if !h.hasOwn2 {
		return mount{}, "", false
	}
	for _, mm := range h.mounts {
		if mm.v2 {
			return mm, dirFor(mm, h.own2), true
		}
	}
	return mount{}, "", false
}
