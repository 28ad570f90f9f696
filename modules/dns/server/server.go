// Package server runs the DNS server of a Cairn cluster: CoreDNS embedded
// as a library, with the cairn plugin answering the cluster's zone from a
// records.Store and forward sending everything else upstream. See
// README.md.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/miekg/dns"

	// The plugins a Corefile of this server may use (the cairn plugin
	// itself, bind for the listen host, forward for the upstreams, and a
	// few for ExtraCorefile). Each registers itself with CoreDNS; nothing
	// else is compiled in.
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"

	"github.com/cairn-dc/cairn/modules/dns/plugin/cairn"
	"github.com/cairn-dc/cairn/modules/dns/records"
)

// DefaultListen is where the server listens when Config.Listen is empty.
const DefaultListen = "127.0.0.1:8053"

// Config configures a server.
type Config struct {
	// Listen is host:port for UDP and TCP (default DefaultListen). Port 0
	// picks a free port, the same for both; Addr reports it. An empty host
	// listens on every interface.
	Listen string
	// Domain is the cluster's zone (default "cairn.").
	Domain string
	// TTL of the answers, in whole seconds (default 5 s; at most a day).
	TTL time.Duration
	// Upstreams get every query outside Domain (CoreDNS forward: "ip",
	// "ip:port", "tls://ip", a resolv.conf path ...). None: such queries
	// are REFUSED.
	Upstreams []string
	// ExtraCorefile is inserted in the server block, after the generated
	// directives: other plugins or options ("log", "errors", "cache 30",
	// "loadbalance"). Only the plugins this package imports are available.
	ExtraCorefile string
	// Logger gets the server's own messages (default slog.Default()).
	Logger *slog.Logger
}

// Server is a running DNS server.
type Server struct {
	inst     *caddy.Instance
	addr     string
	corefile string
	log      *slog.Logger

	stopOnce sync.Once
	stopErr  error
}

// caddyMu serialises Start and Stop: CoreDNS keeps its instances,
// directives and output flags in process-wide variables that are not
// synchronised (caddy.Instances, dnsserver.Quiet ...). It guards only
// CoreDNS' state; this package has no other package-level state.
var caddyMu sync.Mutex

// Start starts a server answering from store. ctx bounds the start only;
// the server runs until Stop. A bad configuration returns an error that
// says which setting is wrong, with nothing left listening.
func Start(ctx context.Context, cfg Config, store *records.Store) (*Server, error) {
	if store == nil {
		return nil, errors.New("dns server: no record store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	host, port, ttl, zone, err := check(cfg, store)
	if err != nil {
		return nil, fmt.Errorf("dns server: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	caddyMu.Lock()
	defer caddyMu.Unlock()
	res, err := reserve(host, port)
	if err != nil {
		return nil, fmt.Errorf("dns server: listen %s: %w", cfg.Listen, err)
	}
	defer res.release()
	corefile, extraLine := buildCorefile(host, res.port, zone, ttl, cfg.Upstreams, cfg.ExtraCorefile)
	input := &cairn.Input{Corefile: []byte(corefile), Stores: map[string]*records.Store{cairn.DefaultStore: store}}
	caddy.Quiet, dnsserver.Quiet = true, true // no banner on stdout (a go-plugin's handshake channel)
	if !holdDuringStart {
		res.release()
	}
	inst, err := caddy.Start(input)
	res.release()
	if err != nil {
		abort(inst, err)
		if extraLine > 0 {
			return nil, fmt.Errorf("dns server: %w (in the generated Corefile, where ExtraCorefile starts at line %d:\n%s)", err, extraLine, corefile)
		}
		return nil, fmt.Errorf("dns server: %w (generated Corefile:\n%s)", err, corefile)
	}
	s := &Server{inst: inst, corefile: corefile, log: cfg.Logger}
	if err := s.findAddr(res.port); err != nil {
		s.stop()
		return nil, fmt.Errorf("dns server: %w", err)
	}
	if err := s.ready(ctx, zone); err != nil {
		s.stop()
		return nil, fmt.Errorf("dns server: %w", err)
	}
	s.log.Info("dns server listening", "addr", s.addr, "domain", zone, "ttl", ttl, "upstreams", cfg.Upstreams)
	return s, nil
}

// Addr is the host:port the server answers on, over UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Corefile is the Corefile the server runs (for logs and debugging).
func (s *Server) Corefile() string { return s.corefile }

// Stop stops the server and releases its port; later calls return the
// first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		caddyMu.Lock()
		defer caddyMu.Unlock()
		s.stopErr = s.stop()
		s.log.Info("dns server stopped", "addr", s.addr)
	})
	return s.stopErr
}

// stop runs the plugins' shutdown callbacks, closes the listeners and
// waits for the serving goroutines; caddyMu is held.
func (s *Server) stop() error {
	errs := s.inst.ShutdownCallbacks()
	errs = append(errs, s.inst.Stop())
	done := make(chan struct{})
	go func() {
		s.inst.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		errs = append(errs, fmt.Errorf("serving goroutines still running after %v", stopTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dns server: stop: %w", err)
	}
	return nil
}

// stopTimeout bounds Stop: CoreDNS gives connections a few seconds.
const stopTimeout = 15 * time.Second

// readyTimeout bounds the wait for the listeners to serve.
const readyTimeout = 10 * time.Second

// ready waits until the server answers over UDP and over TCP. caddy.Start
// returns once the listeners are open, before CoreDNS' serving goroutines
// have registered their servers: a Stop in between would miss them and
// leave them serving forever. Answers prove they are registered.
func (s *Server) ready(ctx context.Context, zone string) error {
	addr := s.addr
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			lo := "127.0.0.1"
			if ip.To4() == nil {
				lo = "::1"
			}
			addr = net.JoinHostPort(lo, port)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	q := new(dns.Msg)
	q.SetQuestion(zone, dns.TypeSOA)
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 250 * time.Millisecond}
		for {
			_, _, err := c.ExchangeContext(ctx, q, addr)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("no answer over %s from %s: %w", network, addr, err)
			}
		}
	}
	return nil
}

// abort cleans up after a failed caddy.Start. The startup callbacks ran
// only when the failure came from opening the listeners ("Listen: ...",
// "ListenPacket: ..."): then, and only then, the plugins' shutdown
// callbacks must run too.
func abort(inst *caddy.Instance, err error) {
	if inst == nil {
		return
	}
	if strings.HasPrefix(err.Error(), "Listen") {
		inst.ShutdownCallbacks()
	}
	inst.Stop()
	inst.Wait()
}

func (s *Server) findAddr(port int) error {
	for _, sl := range s.inst.Servers() {
		u, t := sl.LocalAddr(), sl.Addr()
		if u == nil || t == nil {
			continue
		}
		ua, ta := u.(*net.UDPAddr), t.(*net.TCPAddr)
		if ua.Port != port || ta.Port != port {
			continue
		}
		s.addr = u.String()
		return nil
	}
	return fmt.Errorf("no UDP and TCP listener on port %d after start", port)
}

// check validates cfg; it returns the listen host and port (-1: pick
// one), the TTL in seconds and the normalised zone.
func check(cfg Config, store *records.Store) (host string, port int, ttl uint32, zone string, err error) {
	listen := cfg.Listen
	if listen == "" {
		listen = DefaultListen
	}
	host, ps, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, 0, "", fmt.Errorf("listen %q: want host:port: %w", listen, err)
	}
	p, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return "", 0, 0, "", fmt.Errorf("listen %q: bad port %q", listen, ps)
	}
	if host != "" && net.ParseIP(host) == nil {
		return "", 0, 0, "", fmt.Errorf("listen %q: the host must be an IP address (or empty for all)", listen)
	}
	switch {
	case cfg.TTL == 0:
		ttl = cairn.DefaultTTL
	case cfg.TTL < 0 || cfg.TTL%time.Second != 0 || cfg.TTL > cairn.MaxTTL*time.Second:
		return "", 0, 0, "", fmt.Errorf("ttl %v: want whole seconds from 1s to %v", cfg.TTL, cairn.MaxTTL*time.Second)
	default:
		ttl = uint32(cfg.TTL / time.Second)
	}
	h, err := cairn.New(store, cairn.Config{Zone: cfg.Domain, TTL: ttl})
	if err != nil {
		return "", 0, 0, "", fmt.Errorf("domain: %w", err)
	}
	for i, u := range cfg.Upstreams {
		if u == "" || strings.ContainsAny(u, " \t\r\n{}\"'#;") {
			return "", 0, 0, "", fmt.Errorf("upstreams[%d] %q: want an address such as 192.0.2.1, 192.0.2.1:53 or tls://192.0.2.1", i, u)
		}
	}
	if err := balanced(cfg.ExtraCorefile); err != nil {
		return "", 0, 0, "", fmt.Errorf("extra Corefile: %w", err)
	}
	return host, int(p), ttl, h.Zone(), nil
}

// balanced checks that a Corefile snippet stays inside the server block:
// its braces, outside quotes and comments, never close more than they
// open and end balanced.
func balanced(s string) error {
	depth, line := 0, 1
	inQuote, comment := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			line++
			comment = false
		case comment:
		case inQuote:
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
		case c == '#':
			comment = true
		case c == '"':
			inQuote = true
		case c == '{':
			depth++
		case c == '}':
			if depth--; depth < 0 {
				return fmt.Errorf("line %d: '}' closes the server block", line)
			}
		}
	}
	if inQuote {
		return errors.New("unterminated quote")
	}
	if depth != 0 {
		return fmt.Errorf("%d unclosed '{'", depth)
	}
	return nil
}

// buildCorefile writes the server's Corefile; extraLine is the line
// ExtraCorefile starts at (0: none).
func buildCorefile(host string, port int, zone string, ttl uint32, upstreams []string, extra string) (string, int) {
	var b strings.Builder
	fmt.Fprintf(&b, ".:%d {\n", port)
	if host != "" {
		fmt.Fprintf(&b, "    bind %s\n", host)
	}
	fmt.Fprintf(&b, "    cairn %s {\n        ttl %d\n        store %s\n    }\n", zone, ttl, cairn.DefaultStore)
	if len(upstreams) > 0 {
		fmt.Fprintf(&b, "    forward . %s\n", strings.Join(upstreams, " "))
	}
	extraLine := 0
	if strings.TrimSpace(extra) != "" {
		extraLine = strings.Count(b.String(), "\n") + 1
		b.WriteString(extra)
		if !strings.HasSuffix(extra, "\n") {
			b.WriteByte('\n')
		}
	}
	b.WriteString("}\n")
	return b.String(), extraLine
}

// reservation holds a port open on UDP and TCP until release.
type reservation struct {
	port int
	tcp  net.Listener
	udp  net.PacketConn
	once sync.Once
}

func (r *reservation) release() {
	r.once.Do(func() {
		r.tcp.Close()
		r.udp.Close()
	})
}

// reserve binds host:port on TCP and UDP (port 0: a port free on both),
// proving the address usable before CoreDNS starts: CoreDNS would leak
// its TCP listener if only UDP failed.
func reserve(host string, port int) (*reservation, error) {
	lc := net.ListenConfig{Control: reusePort}
	ctx := context.Background()
	var last error
	for range 20 {
		tl, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, err
		}
		p := tl.Addr().(*net.TCPAddr).Port
		ul, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return &reservation{port: p, tcp: tl, udp: ul}, nil
		}
		tl.Close()
		if port != 0 {
			return nil, err
		}
		last = err // the UDP side of that port is taken: try another
	}
	return nil, fmt.Errorf("no port free on both UDP and TCP: %w", last)
}
