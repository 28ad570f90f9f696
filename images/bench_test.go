package images

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

const benchSize = 20 << 20

// BenchmarkFetchCold fetches a 20 MiB file of an artifact from the
// embedded registry with an empty fetcher cache and a new source (the
// manifest is fetched too): download, digest check, into the sandbox.
func BenchmarkFetchCold(b *testing.B) {
	e := newEnv(b, nil)
	uri, _ := e.push("cairn/big", []file{{"big", "linux/amd64", randomBytes(benchSize)}}, nil)
	work := b.TempDir()
	b.SetBytes(benchSize)
	for i := range b.N {
		b.StopTimer()
		dir := filepath.Join(work, strconv.Itoa(i))
		sb := filepath.Join(dir, "sandbox")
		if err := os.MkdirAll(sb, 0o755); err != nil {
			b.Fatal(err)
		}
		f := newFetcher(b, newSource(b, ArtifactConfig{}), filepath.Join(dir, "cache"))
		b.StartTimer()
		res, err := f.Fetch(b.Context(), []protocol.CommandURI{{Value: uri + "?file=big", Executable: true}}, sb)
		if err != nil {
			b.Fatal(err)
		}
		if res[0].Cached || res[0].Bytes != benchSize {
			b.Fatalf("result %+v", res[0])
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

// BenchmarkFetchWarm fetches the same file again into new sandboxes: the
// fetcher verifies its cache entry and links or copies it; no request.
func BenchmarkFetchWarm(b *testing.B) {
	for _, exec := range []bool{false, true} {
		name := "link"
		if exec {
			name = "copy-executable"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, nil)
			uri, _ := e.push("cairn/big", []file{{"big", "linux/amd64", randomBytes(benchSize)}}, nil)
			f := newFetcher(b, newSource(b, ArtifactConfig{}), "")
			u := []protocol.CommandURI{{Value: uri + "?file=big", Executable: exec}}
			if _, err := f.Fetch(b.Context(), u, b.TempDir()); err != nil {
				b.Fatal(err)
			}
			work := b.TempDir()
			b.SetBytes(benchSize)
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				sb := filepath.Join(work, strconv.Itoa(i))
				if err := os.Mkdir(sb, 0o755); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := f.Fetch(b.Context(), u, sb)
				if err != nil {
					b.Fatal(err)
				}
				if !res[0].Cached {
					b.Fatal("not served from the cache")
				}
				b.StopTimer()
				os.RemoveAll(sb)
				b.StartTimer()
			}
		})
	}
}
