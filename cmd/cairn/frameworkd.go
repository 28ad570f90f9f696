package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/cli/cmdutil"
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
cluster's NATS. cairn up runs them itself; installing their package (cairn
package install services) runs another instance as an app of the cluster.`,
				Args: cmdutil.NoArgs,
			}
			run.AddCommand(newServicesRunCmd(f))
			c.AddCommand(run)
			return
		}
	}
}

// newServicesRunCmd is "cairn framework run services".
func newServicesRunCmd(f *cli.Factory) *cobra.Command {
	var name, natsURL, httpAddr, role string
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
  cairn framework run services --name services-dev --nats-url nats://10.0.0.1:4222`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return cmdutil.UsageErrorf("--name: give the framework a name")
			}
			if natsURL == "" {
				natsURL = f.Getenv("CAIRN_NATS_URL")
			}
			if natsURL == "" {
				natsURL = "nats://127.0.0.1:4222"
			}
			if httpAddr == "" {
				httpAddr = "127.0.0.1:0"
				if p := f.Getenv("PORT0"); p != "" {
					host := f.Getenv("HOST")
					if host == "" {
						host = "127.0.0.1"
					}
					httpAddr = net.JoinHostPort(host, p)
				}
			}
			token := f.BearerToken()
			if token == "" && !isLoopback(httpAddr) {
				return fmt.Errorf("refusing to serve the %s API on %s without a token: set --token or CAIRN_TOKEN, or listen on 127.0.0.1", name, httpAddr)
			}
			log := slog.Default().With("framework", name)
			nc, err := bus.Connect(natsURL, "cairn-"+name, log)
			if err != nil {
				return err
			}
			defer nc.Close()
			ctx := cmd.Context()
			s, err := services.Start(ctx, services.Config{Conn: nc, Name: name, Role: role, HTTPAddr: httpAddr, Token: token, Logger: log})
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.Out, "services framework %s (id %s) serving %s\n", name, s.ID(), s.URL())
			select {
			case <-ctx.Done():
				s.Stop()
				return nil
			case <-s.Done():
				if err := s.Err(); err != nil {
					return err
				}
				return errors.New("the services framework stopped")
			}
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "services", "the framework's `name` (unique in the cluster; the master proxies its API at /service/<name>/)")
	fl.StringVar(&natsURL, "nats-url", "", "the cluster's NATS `url` (default $CAIRN_NATS_URL, else nats://127.0.0.1:4222)")
	fl.StringVar(&httpAddr, "http", "", "API listen `address` (default $HOST:$PORT0 when run as a task, else 127.0.0.1:0)")
	fl.StringVar(&role, "role", "*", "the `role` it subscribes with")
	return cmd
}
