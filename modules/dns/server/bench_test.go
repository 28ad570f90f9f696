package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coredns/caddy"
	_ "github.com/coredns/coredns/plugin/file" // the baseline: CoreDNS serving a zone file
	"github.com/miekg/dns"

	"github.com/cairn-dc/cairn/modules/dns/records"
)

// benchCluster has n running tasks with distinct names ("app-<i>" of the
// services framework), one tcp port each, on 100 agents.
func benchCluster(n int) records.Cluster {
	c := records.Cluster{Leader: "10.0.0.1:5050", Masters: []string{"10.0.0.1:5050"},
		Frameworks: []records.Framework{{ID: "F-svc", Name: "services"}}}
	for i := range 100 {
		c.Agents = append(c.Agents, records.Agent{ID: fmt.Sprintf("agent-%03d", i), Hostname: fmt.Sprintf("node-%d", i),
			Address: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)})
	}
	for i := range n {
		c.Tasks = append(c.Tasks, records.Task{ID: fmt.Sprintf("app-%d.%08x", i, i), Name: fmt.Sprintf("app-%d", i),
			FrameworkID: "F-svc", AgentID: c.Agents[i%100].ID, State: records.StateRunning,
			Ports: []records.Port{{Number: uint16(20000 + i%10000), Protocol: "tcp"}}})
	}
	return c
}

// zoneFile writes every record of the snapshot as a zone file of zone,
// so that CoreDNS' file plugin serves exactly the same data.
func zoneFile(t testing.TB, snap *records.Snapshot, zone string, ttl uint32) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n@ %d IN SOA ns1.%s root.ns1.%s 1 60 600 86400 %d\n@ %d IN NS ns1.%s\n",
		zone, ttl, zone, zone, ttl, ttl, zone)
	for _, name := range snap.Names() {
		e, _ := snap.Lookup(name)
		owner := name + "." + zone
		for _, ip := range e.A {
			fmt.Fprintf(&b, "%s %d IN A %s\n", owner, ttl, ip)
		}
		for _, ip := range e.AAAA {
			fmt.Fprintf(&b, "%s %d IN AAAA %s\n", owner, ttl, ip)
		}
		for _, s := range e.SRV {
			fmt.Fprintf(&b, "%s %d IN SRV 0 0 %d %s.%s\n", owner, ttl, s.Port, s.Target, zone)
		}
	}
	path := filepath.Join(t.TempDir(), "db.cairn")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startCoreDNS starts a plain CoreDNS from a Corefile (the baseline) and
// returns its UDP address.
func startCoreDNS(t testing.TB, corefile string) string {
	t.Helper()
	caddyMu.Lock()
	defer caddyMu.Unlock()
	caddy.Quiet = true
	inst, err := caddy.Start(caddy.CaddyfileInput{Contents: []byte(corefile), ServerTypeName: "dns", Filepath: "Corefile"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{inst: inst, addr: inst.Servers()[0].LocalAddr().String()}
	// Wait until it answers over UDP (the only transport measured).
	q := new(dns.Msg)
	q.SetQuestion("cairn.", dns.TypeSOA)
	c := &dns.Client{Timeout: 250 * time.Millisecond}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, _, err := c.Exchange(q, s.addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the baseline CoreDNS does not answer")
		}
	}
	t.Cleanup(func() {
		caddyMu.Lock()
		defer caddyMu.Unlock()
		s.stop()
	})
	return s.addr
}

// packQueries packs one query per name (ID 0, EDNS0 with a 1232-byte
// buffer, as resolvers send).
func packQueries(t testing.TB, names []string, qtype uint16) [][]byte {
	t.Helper()
	out := make([][]byte, len(names))
	for i, n := range names {
		m := new(dns.Msg)
		m.SetQuestion(n, qtype)
		m.SetEdns0(1232, false)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// loadWorkers is the number of concurrent clients, each with its own
// UDP socket and one query in flight.
const loadWorkers = 8

// load sends total queries, picked at random, to addr from loadWorkers
// goroutines and returns the answered queries per second. Every answer
// must match its query's ID and be NOERROR with at least one answer.
func load(b *testing.B, addr string, queries [][]byte, total int) float64 {
	b.Helper()
	var answered, bad atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, loadWorkers)
	begin := time.Now()
	for w := range loadWorkers {
		share := total / loadWorkers
		if w < total%loadWorkers {
			share++
		}
		wg.Go(func() {
			conn, err := net.Dial("udp", addr)
			if err != nil {
				errc <- err
				return
			}
			defer conn.Close()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(total)))
			out := make([]byte, 512)
			in := make([]byte, 4096)
			for i := range share {
				q := queries[rng.IntN(len(queries))]
				out = append(out[:0], q...)
				id := uint16(i)
				binary.BigEndian.PutUint16(out, id)
				if _, err := conn.Write(out); err != nil {
					errc <- err
					return
				}
				conn.SetReadDeadline(time.Now().Add(2 * time.Second))
				for {
					n, err := conn.Read(in)
					if err != nil {
						var ne net.Error
						if errors.As(err, &ne) && ne.Timeout() {
							bad.Add(1) // lost: go on
							break
						}
						errc <- err
						return
					}
					if n < 12 || binary.BigEndian.Uint16(in) != id {
						continue // a late answer to an earlier, timed-out query
					}
					if in[3]&0x0f != dns.RcodeSuccess || binary.BigEndian.Uint16(in[6:]) == 0 {
						bad.Add(1)
					} else {
						answered.Add(1)
					}
					break
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	close(errc)
	for err := range errc {
		b.Fatal(err)
	}
	if n := bad.Load(); n > int64(total)/100 {
		b.Fatalf("%s: %d of %d queries lost or unanswered", addr, n, total)
	}
	return float64(answered.Load()) / elapsed.Seconds()
}

// BenchmarkQPS measures the queries per second the DNS server answers
// for a store of 10,000 running tasks, A and SRV, against a plain CoreDNS
// serving the same records from a zone file (the file plugin), with the
// same load generator in the same run. It reports qps-cairn,
// qps-coredns-file and their ratio.
func BenchmarkQPS(b *testing.B) {
	const n = 10000
	store := records.NewStore()
	if err := store.Replace(benchCluster(n)); err != nil {
		b.Fatal(err)
	}
	cairnAddr := start(b, Config{Listen: "127.0.0.1:0", TTL: 60 * time.Second}, store).Addr()
	zone := zoneFile(b, store.Snapshot(), "cairn.", 60)
	fileAddr := startCoreDNS(b, fmt.Sprintf(".:0 {\n    bind 127.0.0.1\n    file %s cairn.\n}\n", zone))

	aNames := make([]string, n)
	srvNames := make([]string, n)
	for i := range n {
		aNames[i] = fmt.Sprintf("app-%d.services.cairn.", i)
		srvNames[i] = fmt.Sprintf("_app-%d._tcp.services.cairn.", i)
	}
	for _, c := range []struct {
		name    string
		queries [][]byte
	}{
		{"A", packQueries(b, aNames, dns.TypeA)},
		{"SRV", packQueries(b, srvNames, dns.TypeSRV)},
	} {
		b.Run(c.name, func(b *testing.B) {
			// Half of the queries to each server, twice, alternating, so
			// that neither gets the warmer half of the run.
			half := max(b.N/2, 1)
			var cq, fq float64
			for range 2 {
				cq += load(b, cairnAddr, c.queries, half) / 2
				fq += load(b, fileAddr, c.queries, half) / 2
			}
			b.ReportMetric(cq, "qps-cairn")
			b.ReportMetric(fq, "qps-coredns-file")
			b.ReportMetric(cq/fq, "ratio")
		})
	}
}
