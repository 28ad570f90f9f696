package supervisor

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/cairn-dc/cairn/kernel/containerizer/cgroups"
)

// Main runs the supervisor daemon from command-line arguments, for a
// hidden `cairn supervisor` command:
//
//	--dir DIR              the supervisor directory (required)
//	--cgroup-parent P      detect cgroups for task cgroups under P (e.g.
//	                       "cairn/agent-1"); empty: no cgroups
//	--init-arg A           repeated: the init command (Config.InitCommand),
//	                       e.g. --init-arg /usr/bin/cairn --init-arg supervisor-init
//	--forkers N            forking threads (0: automatic)
//
// It logs (text) to stderr — Ensure points that at DIR/supervisor.log —
// and stops on SIGTERM or SIGINT without killing its processes. It
// returns the exit code.
func Main(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("supervisor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "supervisor directory")
	parent := fs.String("cgroup-parent", "", "parent of the task cgroups (empty: no cgroups)")
	forkers := fs.Int("forkers", 0, "forking threads (0: automatic)")
	var initCmd stringList
	fs.Var(&initCmd, "init-arg", "init command word (repeat)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "supervisor: --dir is required")
		return 2
	}
	SetGC()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cg := cgroups.None()
	if *parent != "" {
		m, why, err := cgroups.Detect(*parent)
		if err != nil {
			log.Error("cgroups", "err", err)
			return 2
		}
		if why != "" {
			log.Warn("no cgroups: " + why)
		}
		cg = m
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	err := Serve(ctx, Config{Dir: *dir, Cgroups: cg, Logger: log, InitCommand: initCmd, Forkers: *forkers})
	if err != nil {
		log.Error("supervisor", "err", err)
		return 1
	}
	return 0
}

// SetGC tunes the garbage collector of a supervisor process; its main
// calls it (not Serve: it is the whole process's setting). The supervisor
// allocates for every start and keeps little (a few MB), so at the
// default GOGC=100 it collects often: launching 1,000 tasks spent 7 % of
// its CPU collecting. At 400 that is a quarter, for a few MB more. A
// GOGC in the environment wins.
func SetGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// Command returns the argv that runs Main for dir through a hidden
// command of exe (e.g. Command("/usr/bin/cairn", []string{"supervisor"},
// dir, "cairn/agent-1", []string{"/usr/bin/cairn", "supervisor-init"})),
// for Ensure.
func Command(exe string, sub []string, dir, cgroupParent string, initCommand []string) []string {
	argv := append([]string{exe}, sub...)
	argv = append(argv, "--dir", dir)
	if cgroupParent != "" {
		argv = append(argv, "--cgroup-parent", cgroupParent)
	}
	for _, a := range initCommand {
		argv = append(argv, "--init-arg", a)
	}
	return argv
}

type stringList []string

func (l *stringList) String() string     { return fmt.Sprint([]string(*l)) }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
