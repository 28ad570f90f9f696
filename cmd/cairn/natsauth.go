package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go"

	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/repository"
)

// envNATSCA names the CA file tasks trust a TLS NATS with.
const envNATSCA = "CAIRN_NATS_CA"

// natsTLS trusts a TLS NATS with the CA in file ("": no option).
func natsTLS(file string) []nats.Option {
	if file == "" {
		return nil
	}
	return []nats.Option{nats.RootCAs(file)}
}

// natsCredentialsFile is where a master keeps the passwords of its
// embedded NATS's identities, under its data dir.
const natsCredentialsFile = "nats-credentials.json"

// natsCredentials are the passwords of the embedded NATS's identities, one
// per role (bus.Roles): the master (and this process's package API), the
// agents, and the frameworks (the system frameworks, and the frameworks
// run as tasks, whose CAIRN_NATS_URL carries them).
type natsCredentials struct {
	Master    string `json:"master"`
	Agent     string `json:"agent"`
	Framework string `json:"framework"`
}

// loadNATSCredentials reads dir's credentials file, creating it with new
// random passwords (mode 0600) the first time.
func loadNATSCredentials(dir string) (*natsCredentials, error) {
	path := filepath.Join(dir, natsCredentialsFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		var c natsCredentials
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("NATS credentials %s: %w (fix the file, or delete it to make new passwords: every agent and framework must then be given them)", path, err)
		}
		if c.Master == "" || c.Agent == "" || c.Framework == "" {
			return nil, fmt.Errorf("NATS credentials %s: want the master, agent and framework passwords (delete the file to make new ones)", path)
		}
		return &c, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("NATS credentials: %w", err)
	}
	c := &natsCredentials{Master: newPassword(), Agent: newPassword(), Framework: newPassword()}
	data, err = json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("NATS credentials: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("NATS credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("NATS credentials: %w", err)
	}
	return c, nil
}

// newPassword is 32 random bytes, base64url.
func newPassword() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// users are the embedded server's identities with their permissions; the
// package repository's bucket is the master's only.
func (c *natsCredentials) users() []bus.User {
	roles := bus.Roles(repository.KVBucket)
	return []bus.User{
		{Name: bus.RoleMaster, Password: c.Master, Permissions: roles[bus.RoleMaster]},
		{Name: bus.RoleAgent, Password: c.Agent, Permissions: roles[bus.RoleAgent]},
		{Name: bus.RoleFramework, Password: c.Framework, Permissions: roles[bus.RoleFramework]},
	}
}

// password of a role.
func (c *natsCredentials) password(role string) string {
	switch role {
	case bus.RoleMaster:
		return c.Master
	case bus.RoleAgent:
		return c.Agent
	default:
		return c.Framework
	}
}

// connect opens an in-process connection as role: with its credentials
// when the master runs the embedded NATS with identities, as it is to an
// external NATS (whose credentials come with --nats-url).
func (rm *runningMaster) connect(name, role string) (*nats.Conn, error) {
	if rm.natsCreds == nil {
		return rm.Bus.Connect(name)
	}
	return rm.Bus.Connect(name, nats.UserInfo(role, rm.natsCreds.password(role)))
}

// taskNATSURL is the NATS URL tasks get as CAIRN_NATS_URL: with the
// framework identity's credentials, so that frameworks run as tasks
// connect as frameworks (and nothing more).
func (rm *runningMaster) taskNATSURL() string {
	if rm.natsCreds == nil || rm.NATSURL == "" {
		return rm.NATSURL
	}
	return withUser(rm.NATSURL, bus.RoleFramework, rm.natsCreds.Framework)
}

// describeNATS prints where NATS listens and where its identities'
// passwords are.
func (rm *runningMaster) describeNATS(out io.Writer, dataDir string) {
	if rm.natsCreds == nil {
		fmt.Fprintf(out, "  NATS          %s\n", withoutUser(rm.NATSURL))
		return
	}
	fmt.Fprintf(out, "  NATS          %s (users master, agent, framework: passwords in %s)\n", rm.NATSURL, filepath.Join(dataDir, natsCredentialsFile))
}

// withUser puts user:password in a NATS URL.
func withUser(raw, user, password string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}

// withoutUser strips any credentials from a NATS URL.
func withoutUser(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
