package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkPackageInstallHello: from `cairn package install hello` to its
// task RUNNING on a one-machine cluster (one agent). cold: the version
// installed has a binary no agent has fetched (each iteration pushes a
// new one, untimed); warm: the agent's fetch cache has it.
func BenchmarkPackageInstallHello(b *testing.B) {
	work := b.TempDir()
	builtins := filepath.Join(work, "packages")
	pkg := buildHello(b, builtins, "", nil)
	c := startTestCluster(b, filepath.Join(work, "data"), builtins, "127.0.0.1:0")
	defer c.stop()
	repo := "oci://" + c.Registry + "/cairn"

	install := func(b *testing.B, version string) {
		c.mustCairn(b, "package", "install", "hello", "--version", version, "--yes")
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(2 * time.Millisecond) {
			if app, ok := c.app(b, "/hello"); ok && app.TasksRunning >= 1 {
				return
			}
			if time.Now().After(deadline) {
				b.Fatalf("hello %s not running within 60s", version)
			}
		}
	}
	uninstall := func(b *testing.B) {
		c.mustCairn(b, "package", "uninstall", "hello", "--yes", "--wait")
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, ok := c.app(b, "/hello"); !ok {
				return
			}
			if time.Now().After(deadline) {
				b.Fatal("hello not removed within 60s")
			}
		}
	}

	b.Run("cold", func(b *testing.B) {
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			version := fmt.Sprintf("2.0.%d", i)
			dir := helloVariant(b, pkg, filepath.Join(work, "cold", version), version)
			c.mustCairn(b, "package", "push", dir, "--repo", repo)
			b.StartTimer()
			install(b, version)
			b.StopTimer()
			uninstall(b)
			b.StartTimer()
		}
	})
	b.Run("warm", func(b *testing.B) {
		install(b, "1.0.0") // the agent caches the binary
		uninstall(b)
		for b.Loop() {
			install(b, "1.0.0")
			b.StopTimer()
			uninstall(b)
			b.StartTimer()
		}
	})
}

// helloVariant copies the hello package at src to dst as version, its
// binary changed (bytes appended) so that its digest is new.
func helloVariant(b *testing.B, src, dst, version string) string {
	b.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		b.Fatal(err)
	}
	manifest := filepath.Join(dst, "package.json")
	data, err := os.ReadFile(manifest)
	if err != nil {
		b.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), `"version": "1.0.0"`, `"version": "`+version+`"`, 1))
	if err := os.WriteFile(manifest, data, 0o644); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dst, "bin", runtime.GOOS+"-"+runtime.GOARCH, "hello")
	f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("variant " + version); err != nil {
		b.Fatal(err)
	}
	return dst
}
