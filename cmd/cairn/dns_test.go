package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// buildModules builds the DNS module and the example module into dir
// with their SHA256SUMS, as make modules does; it returns the sums.
func buildModules(t testing.TB, dir string) map[string]string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("building the modules needs the go tool: %v", err)
	}
	sums := map[string]string{}
	var list strings.Builder
	for name, pkg := range map[string]string{dnsModule: "./modules/dns/cmd/cairn-dns", "echo": "./modules/examples/echo"} {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, out)
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		sums[name] = hex.EncodeToString(sum[:])
		list.WriteString(sums[name] + "  " + name + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return sums
}

func dnsQuery(addr, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, addr)
	return r, err
}

func srvCount(addr, name string) int {
	r, err := dnsQuery(addr, name, dns.TypeSRV)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		return -1
	}
	return len(r.Answer)
}

// TestDNSModule: cairn up runs the DNS module through the module host; an
// app's tasks get A and SRV records, scaling changes them, and a killed
// module process is started again and answers.
func TestDNSModule(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs a cluster and the DNS module")
	}
	work := t.TempDir()
	mods := filepath.Join(work, "modules")
	if err := os.MkdirAll(mods, 0o755); err != nil {
		t.Fatal(err)
	}
	sums := buildModules(t, mods)
	// One more module from a --modules-config list: the example.
	extra := filepath.Join(work, "modules.json")
	spec := fmt.Sprintf(`[{"name": "greeter", "kind": "hook", "path": %q, "sha256": %q, "config": {"greeting": "hi"}}]`,
		filepath.Join(mods, "echo"), sums["echo"])
	if err := os.WriteFile(extra, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	c := startTestCluster(t, filepath.Join(work, "data"), filepath.Join(work, "no-packages"), "127.0.0.1:0",
		"--dns", addr, "--modules-dir", mods, "--modules-config", extra)
	defer func() { c.stop() }()

	code, out, errOut := c.cairn(t, `{"id": "/web", "cmd": "sleep 600", "cpus": 0.1, "mem": 32, "instances": 1,
	  "portDefinitions": [{"port": 0, "name": "http"}]}`, "app", "add", "-", "--wait")
	if code != 0 {
		t.Fatalf("cairn app add: exit %d:\n%s%s", code, out, errOut)
	}
	waitFor(t, 30*time.Second, "web.services.cairn answering", func() bool {
		r, err := dnsQuery(addr, "web.services.cairn.", dns.TypeA)
		return err == nil && len(r.Answer) == 1 && r.Answer[0].(*dns.A).A.String() == "127.0.0.1"
	})
	if n := srvCount(addr, "_web._tcp.services.cairn."); n != 1 {
		t.Errorf("SRV records: %d", n)
	}
	c.mustCairn(t, "app", "scale", "web", "3", "--wait")
	waitFor(t, 10*time.Second, "three SRV records", func() bool { return srvCount(addr, "_web._tcp.services.cairn.") == 3 })
	if r, err := dnsQuery(addr, "nope.services.cairn.", dns.TypeA); err != nil || r.Rcode != dns.RcodeNameError {
		t.Errorf("an unknown name: %v %v", r, err)
	}

	// The module's process killed: started again, answering again.
	var mods0 []struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		PID      int    `json:"pid"`
		Restarts int    `json:"restarts"`
	}
	waitFor(t, 30*time.Second, "both modules running", func() bool {
		mods0 = nil
		err := json.Unmarshal([]byte(c.mustCairn(t, "module", "list", "--json")), &mods0)
		return err == nil && len(mods0) == 2 && mods0[0].State == "running" && mods0[1].State == "running"
	})
	// The hook module greets every task launched from now on.
	// (c.cairn appends --url: after "--" it is sh's $0 and $1, unused.)
	code, out, errOut = c.cairn(t, "", "--url", c.API, "task", "run", "--wait", "--name", "greeted", "--", "sh", "-c", "echo $ECHO_GREETING")
	if code != 0 || !strings.Contains(out, "hi, greeted") {
		t.Errorf("a task launched with the hook module: exit %d:\n%s%s", code, out, errOut)
	}
	dnsPID := 0
	for _, m := range mods0 {
		if m.Name == "dns" {
			dnsPID = m.PID
		}
	}
	if err := syscall.Kill(dnsPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the DNS module restarted", func() bool {
		var now []struct {
			Name     string `json:"name"`
			State    string `json:"state"`
			Restarts int    `json:"restarts"`
		}
		if json.Unmarshal([]byte(c.mustCairn(t, "module", "list", "--json")), &now) != nil {
			return false
		}
		for _, m := range now {
			if m.Name == "dns" {
				return m.Restarts == 1 && m.State == "running"
			}
		}
		return false
	})
	waitFor(t, 10*time.Second, "answers after the restart", func() bool { return srvCount(addr, "_web._tcp.services.cairn.") == 3 })
}
