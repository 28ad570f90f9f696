// Package cairn is the CoreDNS plugin that answers the names of a Cairn
// cluster (mesos-dns style: <task>.<framework>.cairn. and friends) from a
// records.Store. See README.md.
package cairn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"

	"github.com/cairn-dc/cairn/modules/dns/records"
)

// Name is the plugin's (and its directive's) name.
const Name = "cairn"

// Defaults.
const (
	DefaultDomain = "cairn."
	// DefaultTTL is 5 s, not mesos-dns' 60 s: mesos-dns re-read the whole
	// master state every 60 s anyway, while Cairn's store follows the
	// cluster's events, so the TTL is the only staleness left.
	DefaultTTL   = 5
	DefaultStore = "default"
	// MaxTTL bounds the ttl option (one day).
	MaxTTL = 86400
	// maxZone keeps every generated name (<label>.<label>.zone) within 255
	// bytes.
	maxZone = 120
)

// Config configures a Handler.
type Config struct {
	// Zone is the domain the handler is authoritative for (default
	// "cairn."); any case, with or without the trailing dot.
	Zone string
	// TTL of every answer, in seconds (0 is allowed: no caching).
	TTL uint32
	// Store names the store, in Input.Stores, when the handler is set up
	// from a Corefile (default "default").
	Store string
}

// Handler answers queries for its zone from a records.Store and passes
// every other query to Next (REFUSED when there is none).
type Handler struct {
	Next   plugin.Handler
	zone   string // "cairn."
	suffix string // ".cairn."
	ttl    uint32
	store  *records.Store
	mname  string // SOA MNAME and the NS target: "ns1.cairn."
	rname  string // SOA RNAME: "root.ns1.cairn."
}

// New returns a handler serving store under cfg.Zone.
func New(store *records.Store, cfg Config) (*Handler, error) {
	if store == nil {
		return nil, errors.New("no record store")
	}
	zone, err := normalizeZone(cfg.Zone)
	if err != nil {
		return nil, err
	}
	if cfg.TTL > MaxTTL {
		return nil, fmt.Errorf("ttl %d: more than %d seconds", cfg.TTL, MaxTTL)
	}
	return &Handler{zone: zone, suffix: "." + zone, ttl: cfg.TTL, store: store,
		mname: "ns1." + zone, rname: "root.ns1." + zone}, nil
}

// normalizeZone returns z as a lower-case FQDN, checked.
func normalizeZone(z string) (string, error) {
	if z == "" {
		z = DefaultDomain
	}
	z = dns.Fqdn(strings.ToLower(z))
	if z == "." {
		return "", errors.New("zone: the root zone cannot be the cluster's domain")
	}
	if _, ok := dns.IsDomainName(z); !ok || strings.Contains(z, "..") || strings.ContainsAny(z, "\\ ") {
		return "", fmt.Errorf("zone %q: not a domain name", z)
	}
	if len(z) > maxZone {
		return "", fmt.Errorf("zone %q: longer than %d bytes", z, maxZone)
	}
	return z, nil
}

// Zone is the domain the handler serves ("cairn.").
func (h *Handler) Zone() string { return h.zone }

// Name implements plugin.Handler.
func (h *Handler) Name() string { return Name }

// ServeDNS implements plugin.Handler.
func (h *Handler) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if r == nil || len(r.Question) != 1 {
		return dns.RcodeFormatError, nil
	}
	q := r.Question[0]
	qname := lower(q.Name)
	var rel string
	switch {
	case qname == h.zone:
	case strings.HasSuffix(qname, h.suffix):
		rel = qname[:len(qname)-len(h.suffix)]
	default:
		if h.Next == nil {
			return dns.RcodeRefused, nil
		}
		return plugin.NextOrFailure(h.Name(), h.Next, ctx, w, r)
	}
	if r.Opcode != dns.OpcodeQuery {
		return dns.RcodeNotImplemented, nil
	}
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		return dns.RcodeRefused, nil
	}
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		return dns.RcodeRefused, nil
	}

	snap := h.store.Snapshot()
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: h.ttl}

	if rel == "" { // the apex
		if q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeANY {
			m.Answer = append(m.Answer, h.soa(q.Name, snap))
		}
		if q.Qtype == dns.TypeNS || q.Qtype == dns.TypeANY {
			hdr.Rrtype = dns.TypeNS
			m.Answer = append(m.Answer, &dns.NS{Hdr: hdr, Ns: h.mname})
		}
		return h.write(w, m, snap)
	}

	e, ok := snap.Lookup(rel)
	if !ok {
		m.Rcode = dns.RcodeNameError
		return h.write(w, m, snap)
	}
	if q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY {
		hdr.Rrtype = dns.TypeA
		for _, ip := range e.A {
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: ip})
		}
	}
	if q.Qtype == dns.TypeAAAA || q.Qtype == dns.TypeANY {
		hdr.Rrtype = dns.TypeAAAA
		for _, ip := range e.AAAA {
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip})
		}
	}
	if (q.Qtype == dns.TypeSRV || q.Qtype == dns.TypeANY) && len(e.SRV) > 0 {
		hdr.Rrtype = dns.TypeSRV
		for i, s := range e.SRV {
			target := s.Target + h.suffix
			m.Answer = append(m.Answer, &dns.SRV{Hdr: hdr, Port: s.Port, Target: target})
			if i > 0 && e.SRV[i-1].Target == s.Target {
				continue // a task's ports are adjacent: its addresses are in already
			}
			if te, ok := snap.Lookup(s.Target); ok {
				m.Extra = h.addresses(m.Extra, target, te)
			}
		}
	}
	return h.write(w, m, snap)
}

// write adds the SOA to the authority section of a negative answer
// (NXDOMAIN or NODATA, RFC 2308) and writes m.
func (h *Handler) write(w dns.ResponseWriter, m *dns.Msg, snap *records.Snapshot) (int, error) {
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, h.soa(h.zone, snap))
	}
	if err := w.WriteMsg(m); err != nil {
		return dns.RcodeServerFailure, plugin.Error(Name, err)
	}
	return dns.RcodeSuccess, nil
}

// soa is the zone's SOA record; its serial is the store's version and its
// minimum (the negative-caching TTL) the handler's TTL.
func (h *Handler) soa(owner string, snap *records.Snapshot) dns.RR {
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: h.ttl},
		Ns:  h.mname, Mbox: h.rname,
		Serial:  uint32(snap.Version()),
		Refresh: 60, Retry: 600, Expire: 86400, Minttl: h.ttl,
	}
}

// addresses appends the A and AAAA records of name (entry e) to rrs.
func (h *Handler) addresses(rrs []dns.RR, name string, e *records.Entry) []dns.RR {
	hdr := dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: h.ttl}
	for _, ip := range e.A {
		rrs = append(rrs, &dns.A{Hdr: hdr, A: ip})
	}
	hdr.Rrtype = dns.TypeAAAA
	for _, ip := range e.AAAA {
		rrs = append(rrs, &dns.AAAA{Hdr: hdr, AAAA: ip})
	}
	return rrs
}

// lower lower-cases the ASCII letters of s, without allocating when there
// is none.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
