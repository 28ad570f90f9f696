package supervisor

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// RunInit is the supervisor's "init mode": the supervisor execs
// Config.InitCommand followed by these arguments when a task asks for new
// namespaces; cmd/cairn wires a hidden command to
//
//	os.Exit(supervisor.RunInit(args))
//
// Arguments (built by the supervisor):
//
//	--status-fd N      report an error (text) on fd N; EOF alone means the task was exec'd
//	--pid-ns           we are pid 1 of a new PID namespace
//	--uid U --gid G [--groups G1,G2]   run the task as this user
//	--bind SRC DST rw|ro                bind-mount SRC at DST (repeatable)
//	-- PATH ARGV0 ARGV...
//
// It always runs in a new mount namespace: it makes every mount private
// (so nothing propagates back to the host). Without --pid-ns it then execs
// the task in its place. With --pid-ns it mounts a fresh /proc, starts the
// task in its own process group, forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT,
// SIGUSR1, SIGUSR2 and SIGWINCH to that group, reaps every zombie, and
// exits with the task's status (128+signal if it was killed); the kernel
// then kills whatever is left in the namespace. Environment and working
// directory are inherited by the task.
func RunInit(args []string) int {
	statusFD := -1
	pidns := false
	var cred *syscall.Credential
	type bind struct {
		src, dst string
		ro       bool
	}
	var binds []bind
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		val := func() string {
			if i+1 >= len(args) {
				return ""
			}
			i++
			return args[i]
		}
		switch a {
		case "--status-fd":
			statusFD, _ = strconv.Atoi(val())
		case "--pid-ns":
			pidns = true
		case "--bind":
			if i+3 >= len(args) {
				fmt.Fprintln(os.Stderr, "cairn supervisor init: --bind needs SRC DST rw|ro")
				return 127
			}
			binds = append(binds, bind{src: args[i+1], dst: args[i+2], ro: args[i+3] == "ro"})
			i += 3
		case "--uid", "--gid", "--groups":
			if cred == nil {
				cred = &syscall.Credential{}
			}
			v := val()
			switch a {
			case "--uid":
				u, _ := strconv.ParseUint(v, 10, 32)
				cred.Uid = uint32(u)
			case "--gid":
				g, _ := strconv.ParseUint(v, 10, 32)
				cred.Gid = uint32(g)
			default:
				for _, s := range strings.Split(v, ",") {
					if g, err := strconv.ParseUint(s, 10, 32); err == nil {
						cred.Groups = append(cred.Groups, uint32(g))
					}
				}
			}
		default:
			fmt.Fprintf(os.Stderr, "cairn supervisor init: unknown argument %q\n", a)
			return 127
		}
	}
	report := func(format string, a ...any) int {
		msg := fmt.Sprintf(format, a...)
		if statusFD >= 0 {
			unix.Write(statusFD, []byte(msg))
		} else {
			fmt.Fprintln(os.Stderr, "cairn supervisor init:", msg)
		}
		return 127
	}
	if i >= len(args) {
		return report("init: no command")
	}
	path, argv := args[i], args[i+1:]
	if len(argv) == 0 {
		argv = []string{path}
	}
	if statusFD >= 0 {
		unix.CloseOnExec(statusFD)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return report("init: make mounts private: %v", err)
	}
	for _, b := range binds {
		if err := bindMount(b.src, b.dst, b.ro); err != nil {
			return report("init: mount %s at %s: %v", b.src, b.dst, err)
		}
	}
	if !pidns {
		if cred != nil {
			if err := dropPrivileges(cred); err != nil {
				return report("init: %v", err)
			}
		}
		err := syscall.Exec(path, argv, os.Environ())
		return report("exec %s: %v", path, err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return report("init: mount /proc: %v", err)
	}
	sigs := make(chan os.Signal, 16)
	forwarded := []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}
	signal.Notify(sigs, append(forwarded, syscall.SIGCHLD)...)
	child, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Credential: cred},
	})
	if err != nil {
		return report("exec %s: %v", path, err)
	}
	if statusFD >= 0 {
		unix.Close(statusFD)
	}
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			if err := unix.Kill(-child, sig.(syscall.Signal)); err == unix.ESRCH {
				unix.Kill(child, sig.(syscall.Signal))
			}
			continue
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if pid <= 0 || err != nil {
				break
			}
			if pid == child {
				if ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return ws.ExitStatus()
			}
		}
	}
	return 127
}

func dropPrivileges(c *syscall.Credential) error {
	groups := make([]int, len(c.Groups))
	for i, g := range c.Groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(int(c.Gid)); err != nil {
		return fmt.Errorf("setgid %d: %w", c.Gid, err)
	}
	if err := syscall.Setuid(int(c.Uid)); err != nil {
		return fmt.Errorf("setuid %d: %w", c.Uid, err)
	}
	return nil
}

// bindMount binds src at dst (creating dst like src: a directory or an
// empty file), read-only if ro.
func bindMount(src, dst string, ro bool) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if st.IsDir() {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
	} else if _, err := os.Stat(dst); err != nil {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if ro {
		return unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_REC, "")
	}
	return nil
}
