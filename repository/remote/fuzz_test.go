package remote_test

import (
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/repository/remote"
)

// FuzzParseURI: any string either fails with an error naming the uri
// field, or parses to a host and namespace whose canonical URI parses to
// the same again.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"oci://127.0.0.1:5000/cairn", "oci://h", "oci://[::1]:5/a/b", "oci://h//", "http://x", "oci://h/A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		host, ns, err := remote.ParseURI(uri)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "uri: ") {
				t.Fatalf("ParseURI(%q): error %q does not name the field", uri, err)
			}
			return
		}
		r, err := remote.Open(remote.Config{URI: uri})
		if err != nil {
			t.Fatalf("Open(%q) after ParseURI accepted it: %v", uri, err)
		}
		h2, ns2, err := remote.ParseURI(r.URI())
		if err != nil || h2 != host || ns2 != ns {
			t.Fatalf("ParseURI(%q) = %q %q, but its canonical %q = %q %q %v", uri, host, ns, r.URI(), h2, ns2, err)
		}
		if !strings.HasPrefix(r.Artifact("p", "sha256:x"), r.URI()+"/p@") {
			t.Fatalf("Artifact of %q = %q", r.URI(), r.Artifact("p", "sha256:x"))
		}
	})
}
