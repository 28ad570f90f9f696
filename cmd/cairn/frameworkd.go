package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/frameworks/cron"
	"github.com/cairn-dc/cairn/frameworks/services"
	"github.com/cairn-dc/cairn/kernel/bus"
)

// addFrameworkRun hangs "run" under the CLI's "framework" noun: the
// distribution's frameworks as daemons of their own, as packages run them.
func addFrameworkRun(root *cobra.Command, f *cli.Factory) {
	for _, c := range root.Commands() {
		if c.Name() == "framework" {
			run := &cobra.Command{
				Use:   "run",
				Short: "Run one of Cairn's frameworks as a daemon",
				Long: `Run one of Cairn's frameworks as a daemon of its own, connected to the
cluster's NATS. cairn up runs the services framework itself; installing a package (cairn
package install cron, or services for another instance) runs one as an app
of the cluster.`,
				Args: cmdutil.NoArgs,
			}
			run.AddCommand(newServicesRunCmd(f), newCronRunCmd(f))
			c.AddCommand(run)
			return
		}
	}
}

// daemonOptions are what "cairn framework run <framework>" shares.
type daemonOptions struct {
	name, natsURL, natsCA, httpAddr, role string
}

func (o *daemonOptions) addFlags(cmd *cobra.Command, defaultName string) {
	fl := cmd.Flags()
	fl.StringVar(&o.name, "name", defaultName, "the framework's `name` (unique in the cluster; the master proxies its API at /service/<name>/)")
	fl.StringVar(&o.natsURL, "nats-url", "", "the cluster's NATS `url`, with the framework identity's credentials (default $CAIRN_NATS_URL, else nats://127.0.0.1:4222)")
	fl.StringVar(&o.natsCA, "nats-ca", "", "PEM `file` of the CA to trust a TLS NATS with (default $CAIRN_NATS_CA)")
	fl.StringVar(&o.httpAddr, "http", "", "API listen `address` (default $HOST:$PORT0 when run as a task, else 127.0.0.1:0)")
	fl.StringVar(&o.role, "role", "*", "the `role` it subscribes with")
}

// connect fills the defaults from the task environment (a framework run
// as an app of the cluster), checks the token rule and connects to NATS.
func (o *daemonOptions) connect(f *cli.Factory) (*nats.Conn, string, *slog.Logger, error) {
	if o.name == "" {
		return nil, "", nil, cmdutil.UsageErrorf("--name: give the framework a name")
	}
	if o.natsURL == "" {
		o.natsURL = f.Getenv("CAIRN_NATS_URL")
	}
	if o.natsURL == "" {
		o.natsURL = "nats://127.0.0.1:4222"
	}
	if o.natsCA == "" {
		o.natsCA = f.Getenv(envNATSCA)
	}
	if o.httpAddr == "" {
		o.httpAddr = "127.0.0.1:0"
		if p := f.Getenv("PORT0"); p != "" {
			host := f.Getenv("HOST")
			if host == "" {
				host = "127.0.0.1"
			}
			o.httpAddr = net.JoinHostPort(host, p)
		}
	}
	token := f.BearerToken()
	if token == "" && !isLoopback(o.httpAddr) {
		return nil, "", nil, fmt.Errorf("refusing to serve the %s API on %s without a token: set --token or CAIRN_TOKEN, or listen on 127.0.0.1", o.name, o.httpAddr)
	}
	log := slog.Default().With("framework", o.name)
	nc, err := bus.Connect(o.natsURL, "cairn-"+o.name, log, natsTLS(o.natsCA)...)
	if err != nil {
		return nil, "", nil, err
	}
	return nc, token, log, nil
}

// serveUntilDone prints where the framework serves, then waits for Ctrl-C
// (stop) or the framework's end.
func serveUntilDone(ctx context.Context, f *cli.Factory, what, id, url string, stop func(), done <-chan struct{}, errOf func() error) error {
	fmt.Fprintf(f.IOStreams.Out, "%s (id %s) serving %s\n", what, id, url)
	select {
	case <-ctx.Done():
		stop()
		return nil
	case <-done:
		if err := errOf(); err != nil {
			return err
		}
		return fmt.Errorf("the %s stopped", what)
	}
}

// newServicesRunCmd is "cairn framework run services".
func newServicesRunCmd(f *cli.Factory) *cobra.Command {
	var o daemonOptions
	cmd := &cobra.Command{
		Use:   "services",
		Short: "Run a services framework (Cairn's Marathon)",
		Long: `Run a services framework: it keeps apps running from Marathon app
definitions and serves Marathon's REST API, proxied by the master at
/service/<name>/. Its state is in the cluster's JetStream (bucket
cairn-fw-<name>): restarted, it fails over to its framework id and loses
nothing.

Run as a task (the services package), it finds the cluster in
$CAIRN_NATS_URL and listens on $HOST:$PORT0.`,
		Example: `  cairn package install services --options services.json --yes
  cairn framework run services --name services-dev --nats-url nats://framework:PASSWORD@10.0.0.1:4222`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			nc, token, log, err := o.connect(f)
			if err != nil {
				return err
			}
			defer nc.Close()
			s, err := services.Start(cmd.Context(), services.Config{Conn: nc, Name: o.name, Role: o.role, HTTPAddr: o.httpAddr, Token: token, Logger: log})
			if err != nil {
				return err
			}
			return serveUntilDone(cmd.Context(), f, "services framework "+o.name, string(s.ID()), s.URL(), s.Stop, s.Done(), s.Err)
		},
	}
	o.addFlags(cmd, services.DefaultName)
	return cmd
}

// newCronRunCmd is "cairn framework run cron".
func newCronRunCmd(f *cli.Factory) *cobra.Command {
	var o daemonOptions
	cmd := &cobra.Command{
		Use:   "cron",
		Short: "Run the cron framework (jobs on schedules and after their parents)",
		Long: `Run the cron framework: jobs run on cron schedules (in IANA time zones)
or ISO 8601 intervals, or after their parents, each run a task of the
cluster. It serves Metronome's REST API, proxied by the master at
/service/<name>/ (cairn job uses it). Its state is in the cluster's
JetStream (bucket cairn-fw-<name>): restarted, it neither loses nor
doubles a run.

Installed with cairn package install cron it runs as an app of the
cluster: it finds the cluster in $CAIRN_NATS_URL and listens on
$HOST:$PORT0.`,
		Example: `  cairn package install cron --yes
  cairn framework run cron --nats-url nats://framework:PASSWORD@10.0.0.1:4222`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			nc, token, log, err := o.connect(f)
			if err != nil {
				return err
			}
			defer nc.Close()
			c, err := cron.Start(cmd.Context(), cron.Config{Conn: nc, Name: o.name, Role: o.role, HTTPAddr: o.httpAddr, Token: token, Logger: log})
			if err != nil {
				return err
			}
			return serveUntilDone(cmd.Context(), f, "cron framework "+o.name, string(c.ID()), c.URL(), c.Stop, c.Done(), c.Err)
		},
	}
	o.addFlags(cmd, cron.DefaultName)
	return cmd
}
