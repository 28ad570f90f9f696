package agent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
	"github.com/cairn-dc/cairn/kernel/resources"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// taskEnv is a task's environment, as Mesos and Marathon set it: the
// sandbox, the task's identity, its ports (PORT0..n, PORTS, PORT), HOST, and
// the command's own variables last (they win).
func (a *Agent) taskEnv(t *task) []string {
	env := map[string]string{
		"PATH": defaultPath, "HOME": t.sandbox, "TMPDIR": t.sandbox,
		"CAIRN_SANDBOX": t.sandbox, "MESOS_SANDBOX": t.sandbox,
		"CAIRN_TASK_ID": string(t.info.TaskID), "MESOS_TASK_ID": string(t.info.TaskID),
		"CAIRN_TASK_NAME":     t.info.Name,
		"CAIRN_FRAMEWORK_ID":  string(t.fid),
		"CAIRN_AGENT_ID":      string(a.id),
		"CAIRN_AGENT_NAME":    a.info.Hostname,
		"HOST":                a.info.Address,
		"CAIRN_CPUS":          t.info.Resources.ScalarTotal("cpus").String(),
		"CAIRN_MEM":           t.info.Resources.ScalarTotal("mem").String(),
		"CAIRN_AGENT_ADDRESS": a.info.Address,
	}
	for _, kv := range InheritedEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range a.cfg.TaskEnv {
		env[k] = v
	}
	ports := taskPorts(t.info.Resources)
	strs := make([]string, len(ports))
	for i, p := range ports {
		strs[i] = strconv.FormatUint(p, 10)
		env["PORT"+strconv.Itoa(i)] = strs[i]
	}
	if len(ports) > 0 {
		env["PORT"] = strs[0]
		env["PORTS"] = strings.Join(strs, ",")
	}
	if t.info.Command != nil && t.info.Command.Environment != nil {
		for _, v := range t.info.Command.Environment.Variables {
			env[v.Name] = v.Value
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// InheritedEnv is what a task's environment takes from the agent's own:
// PATH, the locale (LANG, LC_ALL) and TZ, as "NAME=value", those set only.
// The locale decides how much work a program does as it starts (loading
// the locale's files), so a measurement of bare processes against tasks
// must give them the same.
func InheritedEnv() []string {
	var out []string
	for _, k := range []string{"PATH", "LANG", "LC_ALL", "TZ"} {
		if v := os.Getenv(k); v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// taskPorts lists the task's ports in order.
func taskPorts(res resources.Resources) []uint64 {
	var out []uint64
	for _, r := range res {
		if r.Name != "ports" || r.Type != resources.Ranges {
			continue
		}
		for _, rg := range r.Ranges {
			for p := rg.Begin; p <= rg.End && len(out) < 1024; p++ {
				out = append(out, p)
				if p == rg.End {
					break
				}
			}
		}
	}
	return out
}

func envLookup(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// resolveCommand turns the task's command into an executable path and argv:
// a shell command runs as /bin/sh -c; otherwise value is the program
// (looked up in the task's PATH, or relative to the sandbox) and arguments
// its argv (argv[0] included, as in Mesos).
func resolveCommand(cmd *protocol.CommandInfo, env []string, sandbox string) (string, []string, error) {
	if cmd == nil {
		return "", nil, fmt.Errorf("the task has no command (images arrive with a later release)")
	}
	if cmd.IsShell() {
		if cmd.Value == "" {
			return "", nil, fmt.Errorf("command.value is empty")
		}
		return "/bin/sh", []string{"sh", "-c", cmd.Value}, nil
	}
	prog := cmd.Value
	argv := cmd.Arguments
	if prog == "" && len(argv) > 0 {
		prog = argv[0]
	}
	if prog == "" {
		return "", nil, fmt.Errorf("command.value is empty and there are no arguments")
	}
	if len(argv) == 0 {
		argv = []string{prog}
	}
	var path string
	switch {
	case filepath.IsAbs(prog):
		path = prog
	case strings.Contains(prog, "/"):
		path = filepath.Join(sandbox, prog)
	default:
		p, err := lookPath(prog, envLookup(env, "PATH"), sandbox)
		if err != nil {
			return "", nil, err
		}
		path = p
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return "", nil, fmt.Errorf("command %q not found: %w", prog, err)
	case st.IsDir() || st.Mode()&0o111 == 0:
		return "", nil, fmt.Errorf("command %q (%s) is not executable", prog, path)
	}
	return path, argv, nil
}

func lookPath(prog, pathEnv, sandbox string) (string, error) {
	if p := filepath.Join(sandbox, prog); isExecutable(p) {
		return p, nil
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, prog); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("command %q not found in the sandbox or in PATH (%s): %w", prog, pathEnv, exec.ErrNotFound)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
