package bus

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/bus/bustest"
)

// TestTLS: with a certificate the embedded server takes only TLS clients
// that trust it (and give their identity); in-process connections need no
// TLS.
func TestTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cert, key := bustest.SelfSigned(t, t.TempDir())
	roles := Roles()
	b, err := Start(ctx, Config{Port: -1, StoreDir: t.TempDir(), TLSCert: cert, TLSKey: key,
		Users: []User{{"agent", "a-secret", roles[RoleAgent]}, {"master", "m-secret", roles[RoleMaster]}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Shutdown)
	if !strings.HasPrefix(b.URL(), "tls://127.0.0.1:") {
		t.Fatalf("URL %q, want tls://", b.URL())
	}
	nc, err := Connect(b.URL(), "agent", nil, nats.RootCAs(cert), nats.UserInfo("agent", "a-secret"))
	if err != nil {
		t.Fatalf("a TLS client trusting the certificate: %v", err)
	}
	if !nc.TLSRequired() {
		t.Error("the connection is not TLS")
	}
	nc.Close()
	if _, err := Connect(b.URL(), "untrusting", nil, nats.UserInfo("agent", "a-secret")); err == nil {
		t.Error("a client that does not trust the certificate connected")
	}
	if _, err := Connect(strings.Replace(b.URL(), "tls://", "nats://", 1), "plain", nil, nats.UserInfo("agent", "a-secret"), nats.Timeout(2*time.Second)); err == nil {
		t.Error("a plain client connected to a TLS server")
	}
	in, err := b.Connect("in-process", nats.UserInfo("master", "m-secret"))
	if err != nil {
		t.Fatalf("in-process connection: %v", err)
	}
	in.Close()
}

func TestTLSNeedsCertAndKey(t *testing.T) {
	if _, err := Start(context.Background(), Config{Port: -1, StoreDir: t.TempDir(), TLSCert: "x.crt"}); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
	cert, _ := bustest.SelfSigned(t, t.TempDir())
	if _, err := Start(context.Background(), Config{Port: -1, StoreDir: t.TempDir(), TLSCert: cert, TLSKey: cert}); err == nil ||
		!strings.Contains(err.Error(), "NATS TLS certificate") {
		t.Fatalf("a bad key: %v", err)
	}
}
