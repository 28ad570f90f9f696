package services

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/cairn-dc/cairn/frameworks/services/marathon"
)

// startReadiness runs an instance's readiness checks (Marathon runs them,
// not the agent) when its app has some and it belongs to a deployment; the
// instance counts as ready once every check passed once.
func (f *Framework) startReadiness(a *app, i *instance) {
	checks := a.spec.ReadinessChecks
	if len(checks) == 0 || a.deployment == nil || i.Version != a.configVersion() {
		i.ready = true
		return
	}
	i.ready = false
	ctx, cancel := context.WithCancel(context.Background())
	i.stopReady = cancel
	type target struct {
		rc  marathon.ReadinessCheck
		url string
	}
	var targets []target
	for _, rc := range checks {
		port := 0
		for k, pd := range a.spec.PortDefinitions {
			if pd.Name == rc.PortName && k < len(i.Ports) {
				port = int(i.Ports[k])
			}
		}
		if port == 0 && len(i.Ports) > 0 {
			port = int(i.Ports[0])
		}
		scheme := "http"
		if rc.Protocol == "HTTPS" {
			scheme = "https"
		}
		targets = append(targets, target{rc, fmt.Sprintf("%s://%s:%d%s", scheme, i.Host, port, rc.Path)})
	}
	tid := i.TaskID
	go func() {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		results := make([]marathon.ReadinessCheckResult, len(targets))
		for {
			all := true
			for k, t := range targets {
				if results[k].Ready {
					continue
				}
				timeout := 10 * time.Second
				if t.rc.TimeoutSeconds != nil {
					timeout = time.Duration(*t.rc.TimeoutSeconds * float64(time.Second))
				}
				rctx, rcancel := context.WithTimeout(ctx, timeout)
				req, _ := http.NewRequestWithContext(rctx, http.MethodGet, t.url, nil)
				resp, err := client.Do(req)
				ready := false
				if err == nil {
					_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
					resp.Body.Close()
					codes := t.rc.HTTPStatusCodesForReady
					if len(codes) == 0 {
						codes = []int{200}
					}
					ready = slices.Contains(codes, resp.StatusCode)
				}
				rcancel()
				results[k] = marathon.ReadinessCheckResult{Name: t.rc.Name, TaskID: tid, Ready: ready, LastURL: t.url}
				all = all && ready
			}
			snapshot := append([]marathon.ReadinessCheckResult(nil), results...)
			done := all
			if !f.push(ctx, func() {
				if cur := f.byTask[tid]; cur == i {
					i.readiness = snapshot
					if done {
						i.ready = true
						f.dirty[i.AppID] = true
					}
				}
			}) || done {
				return
			}
			interval := 30 * time.Second
			if iv := targets[0].rc.IntervalSeconds; iv != nil {
				interval = time.Duration(*iv * float64(time.Second))
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(interval):
			}
		}
	}()
}
