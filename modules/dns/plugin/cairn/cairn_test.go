package cairn

import (
	"context"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"

	"github.com/cairn-dc/cairn/modules/dns/records"
)

// fakeWriter is a dns.ResponseWriter that keeps what is written.
type fakeWriter struct {
	msg *dns.Msg
	n   int
}

func (w *fakeWriter) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (w *fakeWriter) RemoteAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(10, 0, 0, 9), Port: 40000}
}
func (w *fakeWriter) WriteMsg(m *dns.Msg) error { w.msg = m; w.n++; return nil }
func (w *fakeWriter) Write(b []byte) (int, error) {
	w.n++
	return len(b), nil
}
func (w *fakeWriter) Close() error        { return nil }
func (w *fakeWriter) TsigStatus() error   { return nil }
func (w *fakeWriter) TsigTimersOnly(bool) {}
func (w *fakeWriter) Hijack()             {}

const agentID = "01J9Z3K4M5N6P7Q8R9S0T1V2W3"

func testStore(t testing.TB) *records.Store {
	t.Helper()
	s := records.NewStore()
	err := s.Replace(records.Cluster{
		Leader:     "10.0.0.1:5050",
		Masters:    []string{"10.0.0.1:5050", "10.0.0.2:5050"},
		Agents:     []records.Agent{{ID: agentID, Hostname: "agent-1", Address: "10.0.1.1"}},
		Frameworks: []records.Framework{{ID: "F", Name: "services"}},
		Tasks: []records.Task{
			{ID: "hello.1", Name: "hello", FrameworkID: "F", AgentID: agentID, State: records.StateRunning,
				Ports: []records.Port{{Number: 31000, Protocol: "tcp"}, {Number: 31001, Name: "admin", Protocol: "tcp"}}},
			{ID: "hello.2", Name: "hello", FrameworkID: "F", AgentID: agentID, State: records.StateRunning,
				IPs: []string{"172.16.0.2", "2001:db8::2"}},
			{ID: "down.1", Name: "down", FrameworkID: "F", AgentID: agentID, State: "TASK_FAILED"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testHandler(t testing.TB, next plugin.Handler) *Handler {
	t.Helper()
	h, err := New(testStore(t), Config{TTL: 7})
	if err != nil {
		t.Fatal(err)
	}
	h.Next = next
	return h
}

func query(t testing.TB, h plugin.Handler, name string, qtype uint16) (*dns.Msg, int) {
	t.Helper()
	r := new(dns.Msg)
	r.SetQuestion(name, qtype)
	w := &fakeWriter{}
	rcode, err := h.ServeDNS(context.Background(), w, r)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w.msg, rcode
}

func rrs(rr []dns.RR) []string {
	var out []string
	for _, r := range rr {
		out = append(out, r.String())
	}
	sort.Strings(out)
	return out
}

func TestAnswers(t *testing.T) {
	h := testHandler(t, nil)
	host := records.HostLabel("hello", "hello.1", agentID) + ".services.cairn."

	m, _ := query(t, h, "hello.services.cairn.", dns.TypeA)
	want := []string{
		"hello.services.cairn.\t7\tIN\tA\t10.0.1.1",
		"hello.services.cairn.\t7\tIN\tA\t172.16.0.2",
	}
	if got := rrs(m.Answer); !slices.Equal(got, want) || m.Rcode != dns.RcodeSuccess || !m.Authoritative {
		t.Errorf("A: rcode %d aa %v %v, want %v", m.Rcode, m.Authoritative, got, want)
	}

	// Case is kept in the answer, ignored in the lookup.
	m, _ = query(t, h, "HeLLo.Services.CAIRN.", dns.TypeAAAA)
	if got := rrs(m.Answer); !slices.Equal(got, []string{"HeLLo.Services.CAIRN.\t7\tIN\tAAAA\t2001:db8::2"}) {
		t.Errorf("AAAA: %v", got)
	}

	m, _ = query(t, h, "_hello._tcp.services.cairn.", dns.TypeSRV)
	if got := rrs(m.Answer); !slices.Equal(got, []string{
		"_hello._tcp.services.cairn.\t7\tIN\tSRV\t0 0 31000 " + host,
		"_hello._tcp.services.cairn.\t7\tIN\tSRV\t0 0 31001 " + host,
	}) {
		t.Errorf("SRV: %v", got)
	}
	if got := rrs(m.Extra); !slices.Equal(got, []string{host + "\t7\tIN\tA\t10.0.1.1"}) {
		t.Errorf("SRV additional: %v", got)
	}
	m, _ = query(t, h, "_admin._hello._tcp.services.cairn.", dns.TypeSRV)
	if len(m.Answer) != 1 || m.Answer[0].(*dns.SRV).Port != 31001 {
		t.Errorf("named port: %v", m.Answer)
	}

	for name, want := range map[string][]string{
		"leader.cairn.":         {"leader.cairn.\t7\tIN\tA\t10.0.0.1"},
		"master.cairn.":         {"master.cairn.\t7\tIN\tA\t10.0.0.1", "master.cairn.\t7\tIN\tA\t10.0.0.2"},
		"agent-1.agents.cairn.": {"agent-1.agents.cairn.\t7\tIN\tA\t10.0.1.1"},
	} {
		m, _ := query(t, h, name, dns.TypeA)
		if got := rrs(m.Answer); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

func TestNegative(t *testing.T) {
	h := testHandler(t, nil)
	for _, c := range []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{"nope.services.cairn.", dns.TypeA, dns.RcodeNameError},
		{"down.services.cairn.", dns.TypeA, dns.RcodeNameError},
		{"hello.services.cairn.", dns.TypeMX, dns.RcodeSuccess},  // NODATA
		{"hello.services.cairn.", dns.TypeSRV, dns.RcodeSuccess}, // NODATA
		{"services.cairn.", dns.TypeA, dns.RcodeSuccess},         // empty non-terminal: NODATA
		{"_tcp.services.cairn.", dns.TypeSRV, dns.RcodeSuccess},  // empty non-terminal: NODATA
		{"cairn.", dns.TypeA, dns.RcodeSuccess},                  // apex: NODATA
		{"a.b.c.hello.services.cairn.", dns.TypeA, dns.RcodeNameError},
	} {
		m, rcode := query(t, h, c.name, c.qtype)
		if rcode != dns.RcodeSuccess || m == nil {
			t.Fatalf("%s: handler rcode %d, msg %v", c.name, rcode, m)
		}
		if m.Rcode != c.rcode || len(m.Answer) != 0 || !m.Authoritative {
			t.Errorf("%s %s: rcode %s, %d answers, want %s", c.name, dns.TypeToString[c.qtype],
				dns.RcodeToString[m.Rcode], len(m.Answer), dns.RcodeToString[c.rcode])
		}
		if len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA || m.Ns[0].Header().Name != "cairn." {
			t.Errorf("%s: authority %v, want the SOA", c.name, m.Ns)
		}
	}
}

func TestApex(t *testing.T) {
	h := testHandler(t, nil)
	m, _ := query(t, h, "cairn.", dns.TypeSOA)
	if len(m.Answer) != 1 {
		t.Fatalf("SOA: %v", m)
	}
	soa := m.Answer[0].(*dns.SOA)
	if soa.Ns != "ns1.cairn." || soa.Mbox != "root.ns1.cairn." || soa.Minttl != 7 || soa.Serial == 0 {
		t.Errorf("SOA: %v", soa)
	}
	m, _ = query(t, h, "cairn.", dns.TypeNS)
	if got := rrs(m.Answer); !slices.Equal(got, []string{"cairn.\t7\tIN\tNS\tns1.cairn."}) {
		t.Errorf("NS: %v", got)
	}
}

func TestOutOfZone(t *testing.T) {
	h := testHandler(t, nil)
	r := new(dns.Msg)
	r.SetQuestion("example.com.", dns.TypeA)
	w := &fakeWriter{}
	if rcode, _ := h.ServeDNS(context.Background(), w, r); rcode != dns.RcodeRefused || w.n != 0 {
		t.Errorf("no next: rcode %d, %d writes; want REFUSED, unwritten", rcode, w.n)
	}
	// A zone that only ends like ours is not ours.
	r.SetQuestion("notcairn.", dns.TypeA)
	if rcode, _ := h.ServeDNS(context.Background(), w, r); rcode != dns.RcodeRefused {
		t.Errorf("notcairn.: rcode %d", rcode)
	}
	called := ""
	h.Next = plugin.HandlerFunc(func(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		called = r.Question[0].Name
		return dns.RcodeSuccess, nil
	})
	r.SetQuestion("example.com.", dns.TypeA)
	if rcode, _ := h.ServeDNS(context.Background(), w, r); rcode != dns.RcodeSuccess || called != "example.com." {
		t.Errorf("next: rcode %d, called %q", rcode, called)
	}
}

func TestOddQueries(t *testing.T) {
	h := testHandler(t, nil)
	w := &fakeWriter{}
	if rcode, _ := h.ServeDNS(context.Background(), w, new(dns.Msg)); rcode != dns.RcodeFormatError {
		t.Errorf("no question: %d", rcode)
	}
	r := new(dns.Msg)
	r.SetQuestion("cairn.", dns.TypeAXFR)
	if rcode, _ := h.ServeDNS(context.Background(), w, r); rcode != dns.RcodeRefused {
		t.Errorf("AXFR: %d", rcode)
	}
	r.SetQuestion("hello.services.cairn.", dns.TypeA)
	r.Opcode = dns.OpcodeUpdate
	if rcode, _ := h.ServeDNS(context.Background(), w, r); rcode != dns.RcodeNotImplemented {
		t.Errorf("UPDATE: %d", rcode)
	}
	r.Opcode = dns.OpcodeQuery
	r.Question[0].Qclass = dns.ClassCHAOS
	if rcode, _ := h.ServeDNS(context.Background(), w, r); rcode != dns.RcodeRefused {
		t.Errorf("CH: %d", rcode)
	}
	m, _ := query(t, h, "hello.services.cairn.", dns.TypeANY)
	if len(m.Answer) != 3 { // 2 A + 1 AAAA
		t.Errorf("ANY: %v", m.Answer)
	}
}

func TestUpdateVisible(t *testing.T) {
	h := testHandler(t, nil)
	if err := h.store.UpsertTask(records.Task{ID: "new.1", Name: "new", FrameworkID: "F", AgentID: agentID, State: records.StateRunning}); err != nil {
		t.Fatal(err)
	}
	if m, _ := query(t, h, "new.services.cairn.", dns.TypeA); len(m.Answer) != 1 {
		t.Errorf("new task: %v", m)
	}
	if err := h.store.RemoveTask("new.1"); err != nil {
		t.Fatal(err)
	}
	if m, _ := query(t, h, "new.services.cairn.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("removed task: %v", m)
	}
}

func TestNew(t *testing.T) {
	s := records.NewStore()
	for _, c := range []struct {
		cfg  Config
		want string // error substring, "" for none
	}{
		{Config{}, ""},
		{Config{Zone: "Cluster.Example"}, ""},
		{Config{Zone: "."}, "root zone"},
		{Config{Zone: "a..b"}, "not a domain name"},
		{Config{Zone: "a b"}, "not a domain name"},
		{Config{Zone: strings.Repeat("a.", 70)}, "longer than"},
		{Config{TTL: MaxTTL + 1}, "ttl"},
	} {
		_, err := New(s, c.cfg)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("New(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("New without store")
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Config
		err  string
	}{
		{"cairn", Config{Zone: "cairn.", TTL: DefaultTTL, Store: DefaultStore}, ""},
		{"cairn Mesos", Config{Zone: "mesos.", TTL: DefaultTTL, Store: DefaultStore}, ""},
		{"cairn cairn. {\n ttl 60\n store other\n}", Config{Zone: "cairn.", TTL: 60, Store: "other"}, ""},
		{"cairn {\n ttl 0\n}", Config{Zone: "cairn.", TTL: 0, Store: DefaultStore}, ""},
		{"cairn a b", Config{}, "at most one domain"},
		{"cairn {\n ttl -1\n}", Config{}, "whole seconds"},
		{"cairn {\n ttl 90000\n}", Config{}, "whole seconds"},
		{"cairn {\n ttl\n}", Config{}, "want one value"},
		{"cairn {\n color blue\n}", Config{}, `unknown property "color"`},
		{"cairn .", Config{}, "root zone"},
		{"cairn\ncairn", Config{}, "once per server block"},
	} {
		got, err := Parse(caddy.NewTestController("dns", c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

// TestSetupWithoutInput: a Corefile started without a *cairn.Input has no
// store to serve, and says so.
func TestSetupWithoutInput(t *testing.T) {
	err := setup(caddy.NewTestController("dns", "cairn"))
	if err == nil || !strings.Contains(err.Error(), "no record store") {
		t.Errorf("setup = %v", err)
	}
}
