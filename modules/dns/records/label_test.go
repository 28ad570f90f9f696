package records

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLabel(t *testing.T) {
	for in, want := range map[string]string{
		"web":                          "web",
		"web.prod":                     "web-prod",
		"My_App":                       "my-app",
		"--a--":                        "a",
		"a b":                          "a-b",
		"a..b":                         "a--b",
		"ŵeb":                          "eb",
		"café":                         "caf",
		"":                             "",
		"...":                          "",
		"\xff\xfeX":                    "x",
		"UPPER":                        "upper",
		strings.Repeat("a", 70):        strings.Repeat("a", 63),
		strings.Repeat("a", 62) + ".b": strings.Repeat("a", 62),
		"marathon-0.7.5":               "marathon-0-7-5",
	} {
		if got := Label(in); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAppLabel(t *testing.T) {
	for in, want := range map[string]string{
		"/hello":        "hello",
		"hello":         "hello",
		"/prod/web":     "web-prod",
		"/a/b/c":        "c-b-a",
		"//x//y/":       "y-x",
		"/Prod/Web_App": "web-app-prod",
	} {
		if got := AppLabel(in); got != want {
			t.Errorf("AppLabel(%q) = %q, want %q", in, got, want)
		}
	}
	// The services framework names the tasks of /prod/web "web.prod".
	if AppLabel("/prod/web") != Label("web.prod") {
		t.Error("AppLabel and the label of the services task name differ")
	}
}

func TestHostLabel(t *testing.T) {
	a := HostLabel("web", "web.4f6c1b2e-0001", "01J9Z3K4M5N6P7Q8R9S0T1V2W3")
	if a != HostLabel("web", "web.4f6c1b2e-0001", "01J9Z3K4M5N6P7Q8R9S0T1V2W3") {
		t.Fatal("HostLabel is not stable")
	}
	if !regexp.MustCompile(`^web-[ybndrfg8ejkmcpqxot1uwisza345h769]{5}-s0t1v2w3$`).MatchString(a) {
		t.Errorf("HostLabel = %q", a)
	}
	if b := HostLabel("web", "web.other", "01J9Z3K4M5N6P7Q8R9S0T1V2W3"); b == a {
		t.Errorf("two tasks share %q", a)
	}
	// mesos-dns style agent id: the tail after the last dash.
	if m := HostLabel("search", "t1", "20150911-123-S4"); !strings.HasSuffix(m, "-s4") {
		t.Errorf("HostLabel with a Mesos agent id = %q", m)
	}
	long := HostLabel(strings.Repeat("x", 63), "t", "agent")
	if len(long) > MaxLabel || Label(long) != long {
		t.Errorf("long HostLabel %q (%d bytes)", long, len(long))
	}
	if n := HostLabel("web", "t", ""); !regexp.MustCompile(`^web-[a-z0-9]{5}$`).MatchString(n) {
		t.Errorf("HostLabel without agent = %q", n)
	}
}

func TestParseIP(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1":                "10.0.0.1",
		"10.0.0.1:5050":           "10.0.0.1",
		"master@10.0.0.2:5050":    "10.0.0.2",
		"[2001:db8::1]:53":        "2001:db8::1",
		"2001:db8::2":             "2001:db8::2",
		"::ffff:10.1.1.1":         "10.1.1.1",
		"fe80::1%eth0":            "fe80::1",
		"master.example.com:5050": "",
		"":                        "",
		"10.0.0.1:notaport":       "10.0.0.1",
		"localhost":               "",
	} {
		ip, ok := parseIP(in)
		got := ""
		if ok {
			got = ip.String()
		}
		if got != want {
			t.Errorf("parseIP(%q) = %q, want %q", in, got, want)
		}
	}
}

var labelRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$`)

// FuzzSanitize checks that Label always yields a valid DNS label (or
// nothing), is idempotent, and that AppLabel and HostLabel follow.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"web", "web.prod", "/prod/web", "My_App", "ŵeb", "\xff", strings.Repeat("ab.", 40), "-", "a-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := Label(s)
		if !labelRE.MatchString(l) {
			t.Fatalf("Label(%q) = %q: not a label", s, l)
		}
		if Label(l) != l {
			t.Fatalf("Label not idempotent on %q: %q → %q", s, l, Label(l))
		}
		if isASCIILabelInput(s) && l != s {
			t.Fatalf("Label changed the valid label %q to %q", s, l)
		}
		if a := AppLabel(s); !labelRE.MatchString(a) {
			t.Fatalf("AppLabel(%q) = %q", s, a)
		}
		if l != "" {
			h := HostLabel(l, s, s)
			if len(h) > MaxLabel || !labelRE.MatchString(h) {
				t.Fatalf("HostLabel(%q) = %q", l, h)
			}
		}
		if ip, ok := parseIP(s); ok && (!ip.IsValid() || ip.Zone() != "" || ip.Is4In6()) {
			t.Fatalf("parseIP(%q) = %v", s, ip)
		}
		parseHostPort(s)
		if len(s) < 200 && utf8.ValidString(s) {
			if sl := serviceLabel(l); len(sl) > MaxLabel {
				t.Fatalf("serviceLabel(%q) too long", l)
			}
		}
	})
}

func isASCIILabelInput(s string) bool {
	return s != "" && len(s) <= MaxLabel && labelRE.MatchString(s)
}
