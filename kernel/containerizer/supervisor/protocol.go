package supervisor

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The wire protocol: JSON lines over a unix stream socket. See README.md.
//
// The server speaks first with a hello line. Then the client sends
// requests, each with an id, without waiting for earlier replies
// (pipelining); the server replies with the same id, in any order. The
// server pushes exit events (no id) to every connection.

// ProtocolVersion is the version the hello line carries.
const ProtocolVersion = 1

// Operations.
const (
	opStart    = "start"
	opSignal   = "signal"
	opKill     = "kill"
	opList     = "list"
	opForget   = "forget"
	opShutdown = "shutdown"
	opPing     = "ping"
)

// request is one client line.
type request struct {
	ID     uint64     `json:"id"`
	Op     string     `json:"op"`
	Spec   *StartSpec `json:"spec,omitempty"`   // start
	Key    string     `json:"key,omitempty"`    // signal, kill, forget
	Signal int        `json:"signal,omitempty"` // signal
	// GraceMS for kill and shutdown (milliseconds).
	GraceMS int64 `json:"grace_ms,omitempty"`
}

// message is one server line: a reply (ID != 0), an exit event or the hello.
type message struct {
	ID    uint64 `json:"id,omitempty"`
	Error string `json:"error,omitempty"`
	Proc  *Proc  `json:"proc,omitempty"`  // start reply
	Procs []Proc `json:"procs,omitempty"` // list reply
	Exit  *Proc  `json:"exit,omitempty"`  // exit event
	Hello *hello `json:"hello,omitempty"`
}

type hello struct {
	Version int `json:"version"`
	PID     int `json:"pid"`
}

// Files in Config.Dir.
const (
	socketName  = "supervisor.sock"
	pidName     = "supervisor.pid"
	lockName    = "supervisor.lock" // held (flock) by the running supervisor
	ensureName  = "ensure.lock"     // held (flock) while Ensure starts one
	logName     = "supervisor.log"
	maxSunPath  = 107 // sizeof(sun_path) - 1 on Linux
	maxLineSize = 16 << 20
)

// socketAddr returns the address to bind or connect for the socket in dir,
// and a cleanup to call once bound or connected. A path longer than a
// unix socket address allows is reached through /proc/self/fd/<n>/ of an
// O_PATH descriptor of dir (short, private to the process, and the socket
// file still lives in dir).
func socketAddr(dir string) (addr string, done func(), err error) {
	p := filepath.Join(dir, socketName)
	if len(p) <= maxSunPath {
		return p, func() {}, nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", fd, socketName), func() { unix.Close(fd) }, nil
}

// validKey checks a process key: [A-Za-z0-9_.-]{1,200}, not starting with '.'.
func validKey(key string) error {
	if key == "" || len(key) > 200 || key[0] == '.' {
		return fmt.Errorf("invalid key %q: want 1-200 characters of [A-Za-z0-9_.-], not starting with '.'", key)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("invalid key %q: character %q is not one of [A-Za-z0-9_.-]", key, c)
		}
	}
	return nil
}
