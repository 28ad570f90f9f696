package bus

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestEmbeddedJetStreamSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Start(ctx, Config{Port: -1, StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Embedded() || !strings.HasPrefix(b.URL(), "nats://127.0.0.1:") {
		t.Fatalf("embedded %v url %q", b.Embedded(), b.URL())
	}
	nc, err := b.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "t", Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	b.Shutdown()

	// Same store dir: the value is still there.
	b2, err := Start(ctx, Config{Port: -1, StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Shutdown()
	// An external-URL bus talks to it over TCP.
	ext, err := Start(ctx, Config{URL: b2.URL()})
	if err != nil || ext.Embedded() {
		t.Fatalf("external bus: %v", err)
	}
	nc2, err := ext.Connect("test2")
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	kv2, err := js2.KeyValue(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv2.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v" {
		t.Fatalf("after restart: %v %v", e, err)
	}
}

func TestClientReconnectsAfterServerRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b, err := Start(ctx, Config{Port: -1, StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	url := b.URL()
	nc, err := Connect(url, "client", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	b.Shutdown()
	// Restart on the same port; the client reconnects by itself.
	var b2 *Bus
	deadline := time.Now().Add(10 * time.Second)
	for {
		b2, err = Start(ctx, Config{Port: tcpPort(t, url), StoreDir: dir})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the port may still be closing
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Shutdown()
	deadline = time.Now().Add(10 * time.Second)
	for !nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("client did not reconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tcpPort(t *testing.T, url string) int {
	t.Helper()
	i := strings.LastIndexByte(url, ':')
	var p int
	for _, c := range url[i+1:] {
		p = p*10 + int(c-'0')
	}
	return p
}

func TestEmbeddedNeedsStoreDir(t *testing.T) {
	_, err := Start(context.Background(), Config{Port: -1})
	if err == nil || !strings.Contains(err.Error(), "store dir") {
		t.Fatalf("want a clear error, got %v", err)
	}
}

func TestConnectErrorNamesURL(t *testing.T) {
	_, err := Connect("nats://127.0.0.1:1", "x", nil)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("want error naming the URL, got %v", err)
	}
}
