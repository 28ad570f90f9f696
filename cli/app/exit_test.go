package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

// TestExitCodes runs the app and deployment commands as the binary does.
func TestExitCodes(t *testing.T) {
	m := deploymenttest.New(t)
	m.AddApp(`{"id": "/web", "cmd": "sleep 1000", "instances": 1}`, 1)
	exec := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		f := cli.NewFactory(cli.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, nil)
		code := cli.Execute(context.Background(), cli.NewRootCmd(f), append([]string{"--url", m.URL}, args...))
		return code, out.String(), errOut.String()
	}
	if code, out, _ := exec("app", "scale", "web", "2", "--wait"); code != 0 || !strings.Contains(out, "succeeded: app /web has 2/2 tasks running") {
		t.Errorf("scale --wait: %d %q", code, out)
	}
	if code, _, errOut := exec("app", "scale", "web", "-2"); code != 2 || !strings.Contains(errOut, "Run 'cairn app scale --help' for usage.") {
		t.Errorf("usage: %d %q", code, errOut)
	}
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Stick})
	if code, _, errOut := exec("app", "scale", "web", "3"); code != 0 || errOut != "" {
		t.Errorf("scale: %d %q", code, errOut)
	}
	code, _, errOut := exec("app", "restart", "web")
	if code != 1 || errOut != "Error: app /web is locked by deployment dep-2: retry with --force to override it (or follow it with cairn deployment watch dep-2)\n" {
		t.Errorf("locked: %d %q", code, errOut)
	}
	if code, out, _ := exec("deployment", "list"); code != 0 || !strings.Contains(out, "dep-2") {
		t.Errorf("deployment list: %d %q", code, out)
	}
	m.Configure(deploymenttest.Settings{Outcome: deploymenttest.Fail, FailReason: "tasks keep failing"})
	if code, _, _ := exec("app", "restart", "web", "--force", "--wait"); code != 1 {
		t.Errorf("restart --force --wait that fails: %d", code)
	}
	code, _, errOut = exec("app", "add", "-")
	if code != 1 || !strings.HasPrefix(errOut, "Error: the app definition in the standard input is not a JSON object") &&
		!strings.HasPrefix(errOut, "Error: invalid app in the standard input: ") {
		t.Errorf("empty stdin: %d %q", code, errOut)
	}
	m.Configure(deploymenttest.Settings{NoServices: true})
	code, _, errOut = exec("deployment", "watch", "dep-9")
	if code != 1 || errOut != "Error: the services framework is not running: it starts with cairn up\n" {
		t.Errorf("no services: %d %q", code, errOut)
	}
}
