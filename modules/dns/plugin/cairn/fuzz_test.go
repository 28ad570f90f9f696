package cairn

import (
	"context"
	"strings"
	"testing"

	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"
)

// FuzzServeDNS feeds arbitrary messages to the handler: it must not panic,
// and it either writes a reply that packs, whose records are all in the
// zone, or returns an rcode for CoreDNS to write. The seed corpus is in
// testdata/fuzz/FuzzServeDNS.
func FuzzServeDNS(f *testing.F) {
	h := testHandler(f, nil)
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"hello.services.cairn.", dns.TypeA},
		{"_hello._tcp.services.cairn.", dns.TypeSRV},
		{"cairn.", dns.TypeSOA},
		{"nope.cairn.", dns.TypeAAAA},
		{"example.com.", dns.TypeA},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.SetEdns0(1232, true)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := new(dns.Msg)
		if r.Unpack(b) != nil {
			return
		}
		w := &fakeWriter{}
		rcode, err := h.ServeDNS(context.Background(), w, r)
		if w.msg == nil {
			if plugin.ClientWrite(rcode) { // the rcode claims a reply was written
				t.Fatalf("rcode %d (%v) and nothing written", rcode, err)
			}
			return
		}
		if rcode != dns.RcodeSuccess || err != nil {
			t.Fatalf("wrote a reply and returned %d, %v", rcode, err)
		}
		if _, err := w.msg.Pack(); err != nil {
			t.Fatalf("reply does not pack: %v\n%v", err, w.msg)
		}
		for _, sec := range [][]dns.RR{w.msg.Answer, w.msg.Ns, w.msg.Extra} {
			for _, rr := range sec {
				if n := strings.ToLower(rr.Header().Name); n != "cairn." && !strings.HasSuffix(n, ".cairn.") {
					t.Fatalf("record outside the zone: %v", rr)
				}
			}
		}
	})
}
