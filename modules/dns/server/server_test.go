package server

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cairn-dc/cairn/modules/dns/records"
)

const (
	agent1 = "01J9Z3K4M5N6P7Q8R9S0T1V2W3"
	agent2 = "01J9Z3K4M5N6P7Q8R9S0T1V2W4"
)

func ptr[T any](v T) *T { return &v }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func testStore(t testing.TB) *records.Store {
	t.Helper()
	s := records.NewStore()
	err := s.Replace(records.Cluster{
		Leader:  "10.0.0.1:5050",
		Masters: []string{"10.0.0.1:5050", "10.0.0.2:5050"},
		Agents: []records.Agent{
			{ID: agent1, Hostname: "agent-1", Address: "10.0.1.1"},
			{ID: agent2, Hostname: "agent-2", Address: "10.0.1.2"},
		},
		Frameworks: []records.Framework{{ID: "F-svc", Name: "services"}, {ID: "F-cron", Name: "cron"}},
		Tasks: []records.Task{
			// The services framework names the tasks of app /hello "hello",
			// those of /prod/web "web.prod".
			{ID: "hello.1", Name: "hello", FrameworkID: "F-svc", AgentID: agent1, State: records.StateRunning,
				Ports: []records.Port{{Number: 31000, Name: "http", Protocol: "tcp"}}},
			{ID: "web.prod.1", Name: "web.prod", FrameworkID: "F-svc", AgentID: agent1, State: records.StateRunning, Healthy: ptr(true),
				Ports: []records.Port{{Number: 31001, Protocol: "tcp"}}},
			{ID: "web.prod.2", Name: "web.prod", FrameworkID: "F-svc", AgentID: agent2, State: records.StateRunning,
				Ports: []records.Port{{Number: 31002, Protocol: "tcp"}}},
			{ID: "sick.1", Name: "sick", FrameworkID: "F-svc", AgentID: agent1, State: records.StateRunning, Healthy: ptr(false)},
			{ID: "starting.1", Name: "starting", FrameworkID: "F-svc", AgentID: agent1, State: "TASK_STARTING"},
			{ID: "report.1", Name: "report", FrameworkID: "F-cron", AgentID: agent2, State: records.StateRunning},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func start(t testing.TB, cfg Config, store *records.Store) *Server {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	cfg.Logger = quiet()
	s, err := Start(t.Context(), cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func ask(t testing.TB, addr, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	m, _, err := c.Exchange(q, addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], network, err)
	}
	return m
}

func answers(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		switch r := rr.(type) {
		case *dns.A:
			out = append(out, r.A.String())
		case *dns.AAAA:
			out = append(out, r.AAAA.String())
		case *dns.SRV:
			out = append(out, r.Target+":"+strconv.Itoa(int(r.Port)))
		default:
			out = append(out, rr.String())
		}
	}
	sort.Strings(out)
	return out
}

func TestServe(t *testing.T) {
	s := start(t, Config{}, testStore(t))
	host, port, _ := net.SplitHostPort(s.Addr())
	if host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr = %s", s.Addr())
	}
	hello := records.HostLabel("hello", "hello.1", agent1) + ".services.cairn."
	web1 := records.HostLabel("web-prod", "web.prod.1", agent1) + ".services.cairn."
	web2 := records.HostLabel("web-prod", "web.prod.2", agent2) + ".services.cairn."
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			for _, c := range []struct {
				name  string
				qtype uint16
				want  []string
			}{
				{"hello.services.cairn.", dns.TypeA, []string{"10.0.1.1"}},                                        // app /hello
				{records.AppLabel("/prod/web") + ".services.cairn.", dns.TypeA, []string{"10.0.1.1", "10.0.1.2"}}, // app /prod/web
				{"report.cron.cairn.", dns.TypeA, []string{"10.0.1.2"}},                                           // <task>.<framework>
				{"Report.Cron.Cairn.", dns.TypeA, []string{"10.0.1.2"}},
				{"_hello._tcp.services.cairn.", dns.TypeSRV, []string{hello + ":31000"}},
				{"_http._hello._tcp.services.cairn.", dns.TypeSRV, []string{hello + ":31000"}},
				{"_web-prod._tcp.services.cairn.", dns.TypeSRV, []string{web1 + ":31001", web2 + ":31002"}},
				{web2, dns.TypeA, []string{"10.0.1.2"}},
				{"leader.cairn.", dns.TypeA, []string{"10.0.0.1"}},
				{"_leader._tcp.cairn.", dns.TypeSRV, []string{"leader.cairn.:5050"}},
				{"master.cairn.", dns.TypeA, []string{"10.0.0.1", "10.0.0.2"}},
				{"agent-2.agents.cairn.", dns.TypeA, []string{"10.0.1.2"}},
				{strings.ToLower(agent1) + ".agents.cairn.", dns.TypeA, []string{"10.0.1.1"}},
				{"agents.cairn.", dns.TypeA, []string{"10.0.1.1", "10.0.1.2"}},
			} {
				m := ask(t, s.Addr(), network, c.name, c.qtype)
				if got := answers(m.Answer); m.Rcode != dns.RcodeSuccess || !m.Authoritative || !slices.Equal(got, c.want) {
					t.Errorf("%s %s: %s aa=%v %v, want %v", c.name, dns.TypeToString[c.qtype], dns.RcodeToString[m.Rcode], m.Authoritative, got, c.want)
				}
			}
			// SRV answers carry the targets' addresses.
			m := ask(t, s.Addr(), network, "_web-prod._tcp.services.cairn.", dns.TypeSRV)
			extra := map[string]string{}
			for _, rr := range m.Extra {
				if a, ok := rr.(*dns.A); ok {
					extra[a.Hdr.Name] = a.A.String()
				}
			}
			if extra[web1] != "10.0.1.1" || extra[web2] != "10.0.1.2" {
				t.Errorf("SRV additional section: %v", m.Extra)
			}
			// Negative answers: NXDOMAIN for no such name (unhealthy and
			// not running tasks included), NODATA for another type, both
			// with the SOA.
			for _, c := range []struct {
				name  string
				qtype uint16
				rcode int
			}{
				{"nope.services.cairn.", dns.TypeA, dns.RcodeNameError},
				{"sick.services.cairn.", dns.TypeA, dns.RcodeNameError},
				{"starting.services.cairn.", dns.TypeA, dns.RcodeNameError},
				{"_sick._tcp.services.cairn.", dns.TypeSRV, dns.RcodeNameError},
				{"hello.services.cairn.", dns.TypeAAAA, dns.RcodeSuccess},
				{"hello.services.cairn.", dns.TypeTXT, dns.RcodeSuccess},
				{"services.cairn.", dns.TypeA, dns.RcodeSuccess},
			} {
				m := ask(t, s.Addr(), network, c.name, c.qtype)
				if m.Rcode != c.rcode || len(m.Answer) != 0 {
					t.Errorf("%s %s: %s with %d answers, want %s", c.name, dns.TypeToString[c.qtype],
						dns.RcodeToString[m.Rcode], len(m.Answer), dns.RcodeToString[c.rcode])
				}
				if len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA {
					t.Errorf("%s: authority %v, want the SOA", c.name, m.Ns)
				}
			}
			m = ask(t, s.Addr(), network, "cairn.", dns.TypeSOA)
			if len(m.Answer) != 1 || m.Answer[0].(*dns.SOA).Ns != "ns1.cairn." {
				t.Errorf("SOA: %v", m.Answer)
			}
		})
	}
}

func TestUpdatesVisible(t *testing.T) {
	store := testStore(t)
	s := start(t, Config{}, store)
	// Scale /hello to two instances.
	err := store.UpsertTask(records.Task{ID: "hello.2", Name: "hello", FrameworkID: "F-svc", AgentID: agent2,
		State: records.StateRunning, Ports: []records.Port{{Number: 31005, Protocol: "tcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := answers(ask(t, s.Addr(), "udp", "hello.services.cairn.", dns.TypeA).Answer); !slices.Equal(got, []string{"10.0.1.1", "10.0.1.2"}) {
		t.Errorf("after scale up: %v", got)
	}
	if got := ask(t, s.Addr(), "udp", "_hello._tcp.services.cairn.", dns.TypeSRV).Answer; len(got) != 2 {
		t.Errorf("SRV after scale up: %v", got)
	}
	// Scale down: the first instance goes.
	if err := store.RemoveTask("hello.1"); err != nil {
		t.Fatal(err)
	}
	if got := answers(ask(t, s.Addr(), "udp", "hello.services.cairn.", dns.TypeA).Answer); !slices.Equal(got, []string{"10.0.1.2"}) {
		t.Errorf("after scale down: %v", got)
	}
	// A new app appears, then its only task fails.
	if err := store.UpsertTask(records.Task{ID: "new.1", Name: "new", FrameworkID: "F-svc", AgentID: agent1, State: records.StateRunning}); err != nil {
		t.Fatal(err)
	}
	if m := ask(t, s.Addr(), "tcp", "new.services.cairn.", dns.TypeA); len(m.Answer) != 1 {
		t.Errorf("new app: %v", m)
	}
	if err := store.UpsertTask(records.Task{ID: "new.1", Name: "new", FrameworkID: "F-svc", AgentID: agent1, State: "TASK_FAILED"}); err != nil {
		t.Fatal(err)
	}
	if m := ask(t, s.Addr(), "tcp", "new.services.cairn.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("failed app: %v", m)
	}
	// The SOA serial follows the store.
	if serial := ask(t, s.Addr(), "udp", "cairn.", dns.TypeSOA).Answer[0].(*dns.SOA).Serial; uint64(serial) != store.Snapshot().Version() {
		t.Errorf("serial %d, store version %d", serial, store.Snapshot().Version())
	}
}

// upstream starts a DNS server on 127.0.0.1 (UDP and TCP, one port)
// answering every A query with 192.0.2.53.
func upstream(t *testing.T) string {
	t.Helper()
	res, err := reserve("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = true
		if q := r.Question[0]; q.Qtype == dns.TypeA {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30},
				A: net.IPv4(192, 0, 2, 53)}}
		}
		w.WriteMsg(m)
	})
	for _, srv := range []*dns.Server{
		{Listener: res.tcp, Handler: handler},
		{PacketConn: res.udp, Handler: handler},
	} {
		started := make(chan struct{})
		done := make(chan error, 1)
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { done <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-done:
			t.Fatal(err)
		}
		t.Cleanup(func() {
			srv.Shutdown()
			<-done
		})
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(res.port))
}

func TestForward(t *testing.T) {
	up := upstream(t)
	s := start(t, Config{Upstreams: []string{up}}, testStore(t))
	for _, network := range []string{"udp", "tcp"} {
		m := ask(t, s.Addr(), network, "example.com.", dns.TypeA)
		if got := answers(m.Answer); m.Rcode != dns.RcodeSuccess || !slices.Equal(got, []string{"192.0.2.53"}) {
			t.Errorf("forwarded over %s: %v", network, m)
		}
		// The cluster's names are still answered here, not upstream.
		if got := answers(ask(t, s.Addr(), network, "hello.services.cairn.", dns.TypeA).Answer); !slices.Equal(got, []string{"10.0.1.1"}) {
			t.Errorf("local over %s: %v", network, got)
		}
		if m := ask(t, s.Addr(), network, "nope.cairn.", dns.TypeA); m.Rcode != dns.RcodeNameError {
			t.Errorf("NXDOMAIN in the zone must not be forwarded: %v", m)
		}
	}
}

func TestNoUpstreamRefuses(t *testing.T) {
	s := start(t, Config{}, testStore(t))
	for _, network := range []string{"udp", "tcp"} {
		if m := ask(t, s.Addr(), network, "example.com.", dns.TypeA); m.Rcode != dns.RcodeRefused || len(m.Answer) != 0 {
			t.Errorf("over %s: %v, want REFUSED", network, m)
		}
	}
}

func TestExtraCorefile(t *testing.T) {
	s := start(t, Config{Domain: "Cluster.Example", TTL: 30 * time.Second, ExtraCorefile: "cache 30\nloadbalance\nerrors"}, testStore(t))
	m := ask(t, s.Addr(), "udp", "master.cluster.example.", dns.TypeA)
	if len(m.Answer) != 2 || m.Answer[0].Header().Ttl != 30 {
		t.Errorf("answer: %v", m)
	}
	if !strings.Contains(s.Corefile(), "loadbalance") {
		t.Errorf("Corefile:\n%s", s.Corefile())
	}
}

// TestMalformed sends garbage over UDP and TCP; the server must keep
// answering.
func TestMalformed(t *testing.T) {
	s := start(t, Config{}, testStore(t))
	alive := func(when string) {
		t.Helper()
		for _, network := range []string{"udp", "tcp"} {
			if m := ask(t, s.Addr(), network, "hello.services.cairn.", dns.TypeA); len(m.Answer) != 1 {
				t.Fatalf("%s, over %s: %v", when, network, m)
			}
		}
	}
	u, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	q := new(dns.Msg)
	q.SetQuestion("hello.services.cairn.", dns.TypeA)
	valid, _ := q.Pack()
	for _, p := range [][]byte{
		{},
		{0xff},
		[]byte("this is not dns at all"),
		valid[:12],           // a header announcing a question that is not there
		valid[:len(valid)-3], // cut in the question
		append(slices.Clone(valid), make([]byte, 4000)...),                                 // trailing junk
		func() []byte { b := slices.Clone(valid); b[2] |= 0x80; return b }(),               // a response, not a query
		func() []byte { b := slices.Clone(valid); b[12] = 0xc0; b[13] = 0x0c; return b }(), // a compression loop
		make([]byte, 65000),
	} {
		if _, err := u.Write(p); err != nil && !strings.Contains(err.Error(), "message too long") {
			t.Fatal(err)
		}
	}
	alive("after UDP garbage")

	send := func(payload []byte, closeWrite bool) {
		t.Helper()
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(payload)
		if closeWrite {
			c.(*net.TCPConn).CloseWrite()
		}
		io.Copy(io.Discard, c) // until the server closes or the deadline
	}
	huge := make([]byte, 2+65535)
	binary.BigEndian.PutUint16(huge, 65535)
	for i := 2; i < len(huge); i++ {
		huge[i] = byte(i)
	}
	send(huge, true) // the largest message TCP can frame, all garbage
	short := make([]byte, 2+100)
	binary.BigEndian.PutUint16(short, 60000)
	send(short, true) // announces more than it sends
	over := append(binary.BigEndian.AppendUint16(nil, uint16(len(valid))), valid...)
	over = append(over, 0xff, 0xff, 1, 2, 3) // a valid query, then a length with no body
	send(over, true)
	alive("after TCP garbage")
}

// freePort returns a port free on UDP and TCP at the time of the call.
func freePort(t *testing.T) int {
	t.Helper()
	r, err := reserve("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	r.release()
	return r.port
}

// usable checks that nothing listens on addr any more.
func usable(t *testing.T, addr string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("tcp %s still taken: %v", addr, err)
	} else {
		l.Close()
	}
	p, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Errorf("udp %s still taken: %v", addr, err)
	} else {
		p.Close()
	}
}

func TestBadConfig(t *testing.T) {
	store := testStore(t)
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Domain: "."}, "domain"},
		{Config{Domain: "a..b"}, "domain"},
		{Config{TTL: 1500 * time.Millisecond}, "ttl"},
		{Config{TTL: -time.Second}, "ttl"},
		{Config{Upstreams: []string{"10.0.0.1 10.0.0.2"}}, "upstreams[0]"},
		{Config{Upstreams: []string{""}}, "upstreams[0]"},
		{Config{Upstreams: []string{"not-an-address"}}, "forward"},
		{Config{ExtraCorefile: "nosuchplugin"}, "nosuchplugin"},
		{Config{ExtraCorefile: "}\nother.:53 {"}, "closes the server block"},
		{Config{ExtraCorefile: "cache {"}, "unclosed"},
		{Config{ExtraCorefile: "cache 30 {\n  frobnicate\n}"}, "frobnicate"},
		{Config{Listen: "localhost:53"}, "must be an IP address"},
		{Config{Listen: "127.0.0.1"}, "want host:port"},
		{Config{Listen: "127.0.0.1:70000"}, "bad port"},
	} {
		listen := c.cfg.Listen
		if listen == "" {
			listen = net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
			c.cfg.Listen = listen
		}
		c.cfg.Logger = quiet()
		s, err := Start(t.Context(), c.cfg, store)
		if err == nil {
			s.Stop()
			t.Errorf("%+v: no error", c.cfg)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
		if _, _, err := net.SplitHostPort(listen); err == nil && !strings.HasPrefix(listen, "localhost") && !strings.HasSuffix(listen, ":70000") {
			usable(t, listen)
		}
	}
	if _, err := Start(t.Context(), Config{}, nil); err == nil {
		t.Error("no store: no error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Start(ctx, Config{Listen: "127.0.0.1:0"}, store); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestPortInUse(t *testing.T) {
	// Someone else holds the UDP side of the port only.
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	p, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = Start(t.Context(), Config{Listen: addr, Logger: quiet()}, testStore(t))
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Start on a taken port: %v", err)
	}
	l, err := net.Listen("tcp", addr) // the TCP side was not left open
	if err != nil {
		t.Fatalf("tcp side leaked: %v", err)
	}
	l.Close()
}

func TestStopReleasesPort(t *testing.T) {
	s, err := Start(t.Context(), Config{Listen: "127.0.0.1:0", Logger: quiet()}, testStore(t))
	if err != nil {
		t.Fatal(err)
	}
	ask(t, s.Addr(), "udp", "leader.cairn.", dns.TypeA)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal("second Stop:", err)
	}
	usable(t, s.Addr())
	// The same port again.
	s2 := start(t, Config{Listen: s.Addr()}, testStore(t))
	if s2.Addr() != s.Addr() {
		t.Errorf("restart on %s: got %s", s.Addr(), s2.Addr())
	}
	ask(t, s2.Addr(), "tcp", "leader.cairn.", dns.TypeA)
}

// TestTwoServers runs two servers with different stores and domains in
// one process: each answers from its own store.
func TestTwoServers(t *testing.T) {
	other := records.NewStore()
	if err := other.SetLeader("10.9.9.9"); err != nil {
		t.Fatal(err)
	}
	a := start(t, Config{}, testStore(t))
	b := start(t, Config{Domain: "other."}, other)
	if got := answers(ask(t, a.Addr(), "udp", "leader.cairn.", dns.TypeA).Answer); !slices.Equal(got, []string{"10.0.0.1"}) {
		t.Errorf("a: %v", got)
	}
	if got := answers(ask(t, b.Addr(), "udp", "leader.other.", dns.TypeA).Answer); !slices.Equal(got, []string{"10.9.9.9"}) {
		t.Errorf("b: %v", got)
	}
	if m := ask(t, b.Addr(), "udp", "leader.cairn.", dns.TypeA); m.Rcode != dns.RcodeRefused {
		t.Errorf("b answers for cairn.: %v", m)
	}
}
