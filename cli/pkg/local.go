package pkg

// What build, push and verify share: package directories, oci-layout
// directories, registries and the progress of a push.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry"
	orasremote "oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/packaging"
	"github.com/cairn-dc/cairn/repository/remote"
)

// layoutFile marks an oci-layout directory.
const layoutFile = "oci-layout"

// isDir reports whether path is a directory.
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// isLayout reports whether dir is an oci-layout directory.
func isLayout(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, layoutFile))
	return err == nil && st.Mode().IsRegular()
}

// isPackageDir reports whether dir is a package directory.
func isPackageDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, packaging.ManifestFile))
	return err == nil && st.Mode().IsRegular()
}

// loadPackage loads and validates the package in dir; it returns the
// package and the directory's files (for Build).
func loadPackage(dir string) (*packaging.Package, fs.FS, error) {
	if !isDir(dir) {
		return nil, nil, fmt.Errorf("%s is not a directory: give a package directory (with %s)", dir, packaging.ManifestFile)
	}
	files := os.DirFS(dir)
	p, err := packaging.Load(files)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the package in %s: %w", dir, err)
	}
	if err := p.Validate(); err != nil {
		return nil, nil, fmt.Errorf("package %s in %s is not valid: %w", p.Manifest.Name, dir, err)
	}
	return p, files, nil
}

// splitLayoutRef splits "DIR", "DIR:TAG" or "DIR@DIGEST" into the
// directory and the reference ("" when none).
func splitLayoutRef(s string) (dir, ref string) {
	if isDir(s) {
		return s, ""
	}
	if i := strings.LastIndex(s, "@"); i > 0 && isDir(s[:i]) {
		return s[:i], s[i+1:]
	}
	if i := strings.LastIndex(s, ":"); i > 0 && isDir(s[:i]) && !strings.ContainsRune(s[i+1:], '/') {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// openLayout opens the oci-layout directory dir (read only) and finds the
// artifact ref names (a tag or a digest), or its only artifact.
func openLayout(ctx context.Context, dir, ref string) (*oci.ReadOnlyStore, ocispec.Descriptor, error) {
	store, err := oci.NewFromFS(ctx, os.DirFS(dir))
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("opening the OCI layout %s: %w", dir, err)
	}
	if ref != "" {
		desc, err := store.Resolve(ctx, ref)
		if err != nil {
			return nil, ocispec.Descriptor{}, fmt.Errorf("the OCI layout %s has no artifact %q (%v): its tags are %s",
				dir, ref, err, strings.Join(layoutTags(ctx, store), ", "))
		}
		return store, desc, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("reading the OCI layout %s: %w", dir, err)
	}
	var index ocispec.Index
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("reading the OCI layout %s: index.json: %w", dir, err)
	}
	var digests []string
	for _, m := range index.Manifests {
		if !slices.Contains(digests, m.Digest.String()) {
			digests = append(digests, m.Digest.String())
		}
	}
	switch len(digests) {
	case 0:
		return nil, ocispec.Descriptor{}, fmt.Errorf("the OCI layout %s holds no artifact: build one into it with cairn package build -o %s", dir, dir)
	case 1:
		desc, err := store.Resolve(ctx, digests[0])
		if err != nil {
			return nil, ocispec.Descriptor{}, fmt.Errorf("reading the OCI layout %s: %w", dir, err)
		}
		return store, desc, nil
	}
	return nil, ocispec.Descriptor{}, fmt.Errorf("the OCI layout %s holds %d artifacts: name one as %s:TAG (tags: %s) or %s@DIGEST",
		dir, len(digests), dir, strings.Join(layoutTags(ctx, store), ", "), dir)
}

// layoutTags lists a layout's tags ("none" when it has none).
func layoutTags(ctx context.Context, store *oci.ReadOnlyStore) []string {
	var tags []string
	_ = store.Tags(ctx, "", func(ts []string) error {
		tags = append(tags, ts...)
		return nil
	})
	if len(tags) == 0 {
		return []string{"none"}
	}
	return tags
}

// registryOptions are the flags of the commands that talk to a registry.
type registryOptions struct {
	Username      string
	PasswordStdin bool
	PlainHTTP     bool
	// Password is read from the standard input with --password-stdin.
	Password string
}

func (o *registryOptions) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.Username, "username", "", "registry `user` name (default: the Docker config's credentials for the registry)")
	fl.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the registry password from the standard input (with --username)")
	fl.BoolVar(&o.PlainHTTP, "plain-http", false, "talk http:// to the registry (always done for loopback hosts)")
}

// check reads the password with --password-stdin; it returns usage errors
// for flags that do not go together.
func (o *registryOptions) check(in io.Reader) error {
	if o.PasswordStdin && o.Username == "" {
		return cmdutil.UsageErrorf("--password-stdin needs --username")
	}
	if o.Username != "" && !o.PasswordStdin {
		return cmdutil.UsageErrorf("--username needs --password-stdin: pipe the password in (e.g. echo \"$PASSWORD\" | cairn ... --password-stdin)")
	}
	if o.PasswordStdin {
		pw, err := cmdutil.ReadSecret(in, "password")
		if err != nil {
			return err
		}
		o.Password = pw
	}
	return nil
}

// parseRepoURI checks a repository URI: "oci://host[:port][/namespace]".
func parseRepoURI(flag, s string) (string, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, "oci://")
	if !ok || rest == "" || strings.HasPrefix(rest, "/") {
		return "", cmdutil.UsageErrorf("%s %q: give a repository as oci://HOST[:PORT][/NAMESPACE], e.g. oci://127.0.0.1:5000/cairn", flag, s)
	}
	return s, nil
}

// openRepo opens a package repository with the options' credentials.
func openRepo(uri string, o registryOptions) (*remote.Repo, error) {
	r, err := remote.Open(remote.Config{URI: uri, Username: o.Username, Password: o.Password, PlainHTTP: o.PlainHTTP})
	if err != nil {
		return nil, cmdutil.UsageErrorf("repository %s: %v", uri, err)
	}
	return r, nil
}

// registryError adds what to do to an error of a registry.
func registryError(err error, doing, where string) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, remote.ErrUnauthorized):
		return fmt.Errorf("%s: %w — pass --username and --password-stdin, or log in to the registry (docker login / oras login)", doing, err)
	case errors.Is(err, remote.ErrUnreachable):
		return fmt.Errorf("%s: %w — is the registry at %s running? (pass --plain-http for a registry without TLS)", doing, err, where)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// remoteArtifact is an artifact in a registry, to read from.
type remoteArtifact struct {
	repo *orasremote.Repository
	ref  registry.Reference
}

// openRemoteArtifact parses "oci://host[:port]/ns/name:version" (or
// "@sha256:...") and returns the registry repository to fetch it from,
// with the options' credentials (or the Docker config's).
func openRemoteArtifact(s string, o registryOptions) (*remoteArtifact, error) {
	rest, _ := strings.CutPrefix(strings.TrimSpace(s), "oci://")
	ref, err := registry.ParseReference(rest)
	if err != nil {
		return nil, cmdutil.UsageErrorf("%s: %v: give oci://HOST[:PORT]/NAMESPACE/NAME:VERSION or .../NAME@sha256:...", s, err)
	}
	if ref.Reference == "" {
		return nil, cmdutil.UsageErrorf("%s names no version: give oci://%s/%s:VERSION or @DIGEST", s, ref.Registry, ref.Repository)
	}
	repo, err := orasremote.NewRepository(ref.Registry + "/" + ref.Repository)
	if err != nil {
		return nil, cmdutil.UsageErrorf("%s: %v", s, err)
	}
	repo.PlainHTTP = o.PlainHTTP || isLoopback(ref.Host())
	client := &auth.Client{Client: retry.DefaultClient, Cache: auth.NewCache()}
	if o.Username != "" {
		client.Credential = auth.StaticCredential(ref.Host(), auth.Credential{Username: o.Username, Password: o.Password})
	} else if store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{}); err == nil {
		client.Credential = credentials.Credential(store)
	} else {
		return nil, fmt.Errorf("reading the Docker config for the credentials of %s: %w (or pass --username and --password-stdin)", ref.Host(), err)
	}
	client.SetUserAgent("cairn")
	repo.Client = client
	return &remoteArtifact{repo: repo, ref: ref}, nil
}

// isLoopback reports whether a registry host (with or without port) is
// this machine.
func isLoopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// pushProgress shows the blobs and bytes of a push: a live status line
// on a terminal, a line per blob otherwise. Safe for concurrent use (the
// registry client copies blobs in parallel).
type pushProgress struct {
	mu                  sync.Mutex
	status              *output.Status
	lines               io.Writer
	what                string
	blobs, bytes        int64 // totals (0 when unknown)
	doneBlobs, doneSize int64
	stop                chan struct{}
	stopped             sync.WaitGroup
}

// newPushProgress sizes the push of desc (from src) and starts showing
// it on errOut; call done when the push ends.
func newPushProgress(ctx context.Context, errOut io.Writer, errIsTerminal bool, what string, src content.Fetcher, desc ocispec.Descriptor) *pushProgress {
	p := &pushProgress{what: what, stop: make(chan struct{})}
	if data, err := content.FetchAll(ctx, src, desc); err == nil {
		var m ocispec.Manifest
		if json.Unmarshal(data, &m) == nil {
			// The manifest, its config and its layers; a blob twice (the
			// same binary for two platforms) is copied once.
			seen := map[string]bool{}
			for _, b := range append([]ocispec.Descriptor{desc, m.Config}, m.Layers...) {
				if !seen[b.Digest.String()] {
					seen[b.Digest.String()] = true
					p.blobs++
					p.bytes += b.Size
				}
			}
		}
	}
	if errIsTerminal {
		p.status = output.NewStatus(errOut, output.TerminalWidth(errOut))
		p.status.Set(p.line())
		p.stopped.Add(1)
		go p.spin()
	} else {
		p.lines = errOut
	}
	return p
}

func (p *pushProgress) spin() {
	defer p.stopped.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.status.Tick()
			p.mu.Unlock()
		}
	}
}

// copied is the callback of the push: desc was copied.
func (p *pushProgress) copied(desc ocispec.Descriptor) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.doneBlobs++
	p.doneSize += desc.Size
	if p.status != nil {
		p.status.Set(p.line())
		return
	}
	fmt.Fprintf(p.lines, "  %s %s (%s) %s\n", p.what, shortDigest(desc.Digest.String()), byteSize(desc.Size), p.count())
}

func (p *pushProgress) count() string {
	if p.blobs == 0 {
		return fmt.Sprintf("%d blobs, %s", p.doneBlobs, byteSize(p.doneSize))
	}
	return fmt.Sprintf("%d/%d blobs, %s/%s", min(p.doneBlobs, p.blobs), p.blobs, byteSize(min(p.doneSize, p.bytes)), byteSize(p.bytes))
}

func (p *pushProgress) line() string { return p.what + ": " + p.count() }

// done stops the status line and clears it.
func (p *pushProgress) done() {
	close(p.stop)
	p.stopped.Wait()
	if p.status != nil {
		p.status.Clear()
	}
}

// push copies the artifact desc of src to the repository at uri, showing
// progress on errOut; it returns the artifact's pinned reference.
func push(ctx context.Context, io cmdutil.IOStreams, errIsTerminal bool, uri string, o registryOptions, src content.ReadOnlyStorage, desc ocispec.Descriptor, name, version string) (string, error) {
	r, err := openRepo(uri, o)
	if err != nil {
		return "", err
	}
	prog := newPushProgress(ctx, io.ErrOut, errIsTerminal, "pushing "+name+" "+version, src, desc)
	err = r.Push(ctx, src, desc, prog.copied)
	prog.done()
	if err != nil {
		return "", registryError(err, "pushing package "+name+" "+version+" to "+uri, uri)
	}
	return r.Artifact(name, desc.Digest.String()), nil
}
