package cli

import "github.com/cairn-dc/cairn/cli/cmdutil"

// Factory hands commands their dependencies (streams, environment, HTTP and
// operator API clients). It lives in cmdutil so that the noun packages can
// import it without importing this package (which imports them).
type Factory = cmdutil.Factory

// IOStreams are a command's standard streams.
type IOStreams = cmdutil.IOStreams

// NewFactory returns a Factory for the given streams and environment
// (os.Getenv in the real binary; nil reads an empty environment).
func NewFactory(streams IOStreams, getenv func(string) string) *Factory {
	return cmdutil.NewFactory(streams, getenv)
}
