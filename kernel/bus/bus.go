// Package bus gives Cairn's components their NATS: an embedded nats-server
// with JetStream (the one-machine default) or an external NATS URL (a real
// cluster), and connections that ride out disconnects (reconnect forever,
// buffer while away, log each transition).
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"
)

// Config says which NATS to use.
type Config struct {
	// URL of an external NATS (with JetStream enabled). Empty starts an
	// embedded server.
	URL string
	// Options added to every connection (credentials for an external NATS:
	// nats.UserCredentials, nats.UserInfo, nats.RootCAs ...).
	ConnOptions []nats.Option

	// Embedded server only:
	// Host and Port to listen on; Port 0 means 4222, -1 a random free port.
	// DontListen serves in-process connections only.
	Host       string
	Port       int
	DontListen bool
	// StoreDir holds JetStream's files; required for the embedded server
	// (state must survive a restart).
	StoreDir string
	// MaxMemory/MaxStore bound JetStream (0: server defaults).
	MaxMemory, MaxStore int64
	// TLSCert and TLSKey (PEM files), when set, make the embedded server
	// require TLS of every client over the network (in-process
	// connections need none); clients trust its certificate with
	// nats.RootCAs (--nats-ca). Without them it must listen on loopback.
	TLSCert, TLSKey string
	// Users, when set, are the only identities the embedded server accepts
	// (user and password), each with its subject permissions (see Roles);
	// every connection, in-process ones too, must then give its user
	// (nats.UserInfo, or user:password@ in the URL).
	Users []User

	Logger *slog.Logger
}

// Bus is a running NATS: embedded or external.
type Bus struct {
	cfg Config
	srv *server.Server
	url string
	log *slog.Logger
}

// Start starts the embedded server (or checks the external URL's shape) and
// returns once it is ready for connections.
func Start(ctx context.Context, cfg Config) (*Bus, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	b := &Bus{cfg: cfg, log: log}
	if cfg.URL != "" {
		b.url = cfg.URL
		return b, nil
	}
	if cfg.StoreDir == "" {
		return nil, errors.New("bus: embedded NATS needs a JetStream store dir (--data-dir)")
	}
	if err := os.MkdirAll(cfg.StoreDir, 0o750); err != nil {
		return nil, fmt.Errorf("bus: create JetStream dir %s: %w", cfg.StoreDir, err)
	}
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := cfg.Port
	if port == 0 {
		port = 4222
	}
	opts := &server.Options{
		ServerName:         "cairn",
		Host:               host,
		Port:               port,
		DontListen:         cfg.DontListen,
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		JetStreamMaxMemory: cfg.MaxMemory,
		JetStreamMaxStore:  cfg.MaxStore,
		MaxPayload:         8 << 20,
		NoSigs:             true,
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("bus: TLS needs both a certificate and its key")
	}
	if cfg.TLSCert != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey, Timeout: 5})
		if err != nil {
			return nil, fmt.Errorf("bus: NATS TLS certificate %s and key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		opts.TLS, opts.TLSConfig, opts.TLSTimeout = true, tc, 5
	}
	for _, u := range cfg.Users {
		if u.Name == "" || u.Password == "" {
			return nil, errors.New("bus: a NATS user needs a name and a password")
		}
		// The server keeps only a bcrypt hash (the passwords are long and
		// random: the lowest cost is enough, and keeps connecting cheap).
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
		if err != nil {
			return nil, fmt.Errorf("bus: NATS user %s: %w", u.Name, err)
		}
		opts.Users = append(opts.Users, &server.User{Username: u.Name, Password: string(hash), Permissions: u.Permissions})
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: configure embedded NATS: %w", err)
	}
	srv.SetLoggerV2(&natsLogger{log: log.With("component", "nats")}, false, false, false)
	go srv.Start()
	deadline := 30 * time.Second
	if d, ok := ctx.Deadline(); ok {
		deadline = time.Until(d)
	}
	if !srv.ReadyForConnections(deadline) {
		srv.Shutdown()
		if !cfg.DontListen {
			return nil, fmt.Errorf("bus: embedded NATS not ready on %s: is the port already in use? pick another with --nats-port",
				net.JoinHostPort(host, strconv.Itoa(port)))
		}
		return nil, errors.New("bus: embedded NATS not ready")
	}
	b.srv = srv
	if !cfg.DontListen {
		b.url = srv.ClientURL()
	}
	log.Info("embedded NATS ready", "url", b.url, "jetstream", cfg.StoreDir)
	return b, nil
}

// URL is where clients outside this process connect ("" for an in-process-only server).
func (b *Bus) URL() string { return b.url }

// Embedded reports whether this process runs the NATS server.
func (b *Bus) Embedded() bool { return b.srv != nil }

// Server is the embedded server, or nil.
func (b *Bus) Server() *server.Server { return b.srv }

// Connect opens a connection named name (it shows in NATS monitoring); to
// the embedded server it is in-process (no TCP).
func (b *Bus) Connect(name string, opts ...nats.Option) (*nats.Conn, error) {
	all := append(append([]nats.Option{}, b.cfg.ConnOptions...), opts...)
	url := b.url
	if b.srv != nil {
		all = append(all, nats.InProcessServer(b.srv))
		// In-process connections need no TLS (the server does not ask).
		url = strings.Replace(url, "tls://", "nats://", 1)
	}
	return Connect(url, name, b.log, all...)
}

// Shutdown stops the embedded server (a no-op for an external one).
func (b *Bus) Shutdown() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

// Connect dials NATS at url with Cairn's reconnect policy: retry the first
// connect and every reconnect forever, buffer up to 8 MiB while away, and
// log disconnects and reconnects.
func Connect(url, name string, log *slog.Logger, opts ...nats.Option) (*nats.Conn, error) {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("conn", name)
	base := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.ReconnectBufSize(8 << 20),
		nats.PingInterval(5 * time.Second),
		nats.MaxPingsOutstanding(3),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS disconnected; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("NATS reconnected", "url", c.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subj := ""
			if s != nil {
				subj = s.Subject
			}
			log.Warn("NATS error", "subject", subj, "err", err)
		}),
	}
	nc, err := nats.Connect(url, append(base, opts...)...)
	if err != nil {
		if url == "" {
			url = "(in-process)"
		}
		if errors.Is(err, nats.ErrAuthorization) || strings.Contains(strings.ToLower(err.Error()), "authorization") {
			return nil, fmt.Errorf("connect to NATS at %s as %s: the server refused the credentials: %w (give the identity's user and password in the URL, nats://USER:PASSWORD@host:port; a cairn master keeps them in <data-dir>/nats-credentials.json)", redact(url), name, err)
		}
		return nil, fmt.Errorf("connect to NATS at %s: %w (is the master or `cairn up` running? check --nats-url)", redact(url), err)
	}
	return nc, nil
}

// redact hides the password of a URL with credentials.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// natsLogger sends nats-server's log to slog.
type natsLogger struct{ log *slog.Logger }

func (l *natsLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Tracef(format string, v ...any)  {}
