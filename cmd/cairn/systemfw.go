package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	runfw "github.com/cairn-dc/cairn/frameworks/run"
	"github.com/cairn-dc/cairn/frameworks/services"
	"github.com/cairn-dc/cairn/kernel/bus"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// systemFrameworks are the frameworks the distribution runs beside the
// master: the services framework (the datacenter's init, Marathon's API at
// /service/services/) and the run framework behind `cairn task run`.
type systemFrameworks struct {
	run      *runfw.Framework
	services *services.Framework
	cancel   context.CancelFunc
	done     chan struct{}

	mu         sync.Mutex
	servicesOf *services.Framework // the services framework running now, for other goroutines
}

// startSystemFrameworks starts them, failing over to their previous
// framework IDs (kept in the data dir), and restarts them if they stop.
func startSystemFrameworks(ctx context.Context, rm *runningMaster, dataDir, token string, log *slog.Logger) (*systemFrameworks, error) {
	sctx, cancel := context.WithCancel(ctx)
	sf := &systemFrameworks{cancel: cancel, done: make(chan struct{})}
	idFile := filepath.Join(dataDir, "frameworks", "run", "framework-id")
	start := func() (*runfw.Framework, error) {
		nc, err := rm.connect("cairn-run", bus.RoleFramework)
		if err != nil {
			return nil, err
		}
		saved, _ := os.ReadFile(idFile)
		f, err := runfw.Start(sctx, runfw.Config{Conn: nc, FrameworkID: protocol.FrameworkID(strings.TrimSpace(string(saved))),
			Token: token, Logger: log.With("framework", "run")})
		if err != nil {
			nc.Close()
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(idFile), 0o750); err == nil {
			err = writeID(idFile, string(f.ID()))
			if err != nil {
				log.Warn("cannot save the run framework's id; a restart will start it afresh", "err", err)
			}
		}
		go func() { <-f.Done(); nc.Close() }()
		return f, nil
	}
	startServices := func() (*services.Framework, error) {
		nc, err := rm.connect("cairn-services", bus.RoleFramework)
		if err != nil {
			return nil, err
		}
		s, err := services.Start(sctx, services.Config{Conn: nc, Token: token, Logger: log.With("framework", "services")})
		if err != nil {
			nc.Close()
			return nil, err
		}
		go func() { <-s.Done(); nc.Close() }()
		return s, nil
	}
	svc, err := startServices()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start the services framework: %w", err)
	}
	sf.services = svc
	sf.servicesOf = svc
	f, err := start()
	if err != nil {
		svc.Stop()
		cancel()
		return nil, fmt.Errorf("start the run framework: %w", err)
	}
	sf.run = f
	go func() {
		defer close(sf.done)
		for {
			select {
			case <-sctx.Done():
				sf.run.Stop()
				sf.services.Stop()
				return
			case <-sf.services.Done():
				log.Warn("the services framework stopped; restarting it", "err", sf.services.Err())
				select {
				case <-sctx.Done():
					return
				case <-time.After(time.Second):
				}
				if s, err := startServices(); err == nil {
					sf.services = s
					sf.mu.Lock()
					sf.servicesOf = s
					sf.mu.Unlock()
				} else {
					log.Error("cannot restart the services framework", "err", err)
				}
			case <-sf.run.Done():
				log.Warn("the run framework stopped; restarting it", "err", sf.run.Err())
				select {
				case <-sctx.Done():
					return
				case <-time.After(time.Second):
				}
				if f, err := start(); err == nil {
					sf.run = f
				} else {
					log.Error("cannot restart the run framework", "err", err)
				}
			}
		}
	}()
	return sf, nil
}

func writeID(path, id string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (sf *systemFrameworks) stop() {
	sf.cancel()
	<-sf.done
}

// waitProxied waits until the master proxies /service/services/ to the
// services framework as it runs now (after a restart the master knows its
// previous address until the framework's subscription is in its state).
func (sf *systemFrameworks) waitProxied(ctx context.Context, rm *runningMaster) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		sf.mu.Lock()
		id, url := sf.servicesOf.ID(), sf.servicesOf.URL()
		sf.mu.Unlock()
		for _, f := range rm.Master.State().Frameworks {
			if f.ID == id && f.Connected && f.WebuiURL == url {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the master does not show the services framework at %s: %w", url, ctx.Err())
		case <-t.C:
		}
	}
}
