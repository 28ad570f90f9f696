package app

import (
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/deployment/deploymenttest"
)

func TestNoServices(t *testing.T) {
	m := deploymenttest.New(t)
	m.Configure(deploymenttest.Settings{NoServices: true})
	for _, args := range [][]string{
		{"list"}, {"show", "web"}, {"add", "-"}, {"add", "-", "--wait"}, {"update", "web", "-"}, {"scale", "web", "2"},
		{"scale", "web", "2", "--wait"}, {"restart", "web"}, {"remove", "web"}, {"versions", "web"},
	} {
		_, _, err := run(t, m, webJSON, args...)
		if err == nil || err.Error() != "the services framework is not running: it starts with cairn up" {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestArgs(t *testing.T) {
	m := deploymenttest.New(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scale", "web"}, "accepts 2 arg(s)"},
		{[]string{"scale", "web", "-1"}, "unknown shorthand flag"},
		{[]string{"scale", "web", "--", "-1"}, `instances "-1": give a whole number, 0 or more`},
		{[]string{"scale", "web", "two"}, `instances "two"`},
		{[]string{"show", "Web"}, `app id "Web": segment "Web" has uppercase letters`},
		{[]string{"show", "/"}, `app id "/" names the root group`},
		{[]string{"restart", "web/tasks"}, "reserved words"},
		{[]string{"add"}, "accepts 1 arg(s)"},
		{[]string{"update", "web"}, "accepts 2 arg(s)"},
		{[]string{"list", "x"}, "takes no arguments"},
		{[]string{"add", "-", "--force"}, "unknown flag: --force"},
		{[]string{"bogus"}, `unknown command "bogus"`},
	} {
		_, _, err := run(t, m, "", tc.args...)
		if !cmdutil.IsUsageError(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
	if len(m.Requests()) != 0 {
		t.Errorf("requests for usage errors: %q", m.Requests())
	}
}

func TestParseAppID(t *testing.T) {
	for in, want := range map[string]string{"web": "/web", "/web": "/web", " prod/web ": "/prod/web", "a/./b/../c": "/a/c"} {
		if got, err := parseAppID(in); err != nil || got != want {
			t.Errorf("parseAppID(%q) = %q, %v", in, got, err)
		}
	}
}
