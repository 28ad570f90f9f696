package services_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkDeploy1000 deploys one app of 1,000 instances on 10 simulated
// agents and measures the time from POST /v2/apps until all 1,000 run
// (tasksRunning) and the deployment is done.
func BenchmarkDeploy1000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := newCluster(b)
		c.agents(10, "cpus:64;mem:262144;ports:[31000-32000]")
		c.services()
		b.StartTimer()
		start := time.Now()
		code, out := c.api("POST", "/v2/apps", `{"id":"/big","cmd":"sleep 3600","cpus":0.05,"mem":16,"instances":1000}`)
		if code != 201 {
			b.Fatalf("%d %v", code, out)
		}
		waitFor(b, 5*time.Minute, "1000 running", func() bool { return c.running("/big") == 1000 && c.deploymentsDone() })
		b.ReportMetric(time.Since(start).Seconds(), "s/deploy")
		b.StopTimer()
	}
}

// BenchmarkGetApps measures GET /v2/apps with 1,000 apps of one instance each.
func BenchmarkGetApps(b *testing.B) {
	c := newCluster(b)
	c.agents(10, "cpus:64;mem:262144;ports:[31000-32000]")
	c.services()
	for k := 0; k < 1000; k++ {
		if code, out := c.api("POST", "/v2/apps", fmt.Sprintf(`{"id":"/apps/app-%04d","cmd":"sleep 3600","cpus":0.05,"mem":16,"labels":{"team":"t%d"}}`, k, k%10)); code != 201 {
			b.Fatalf("%d %v", code, out)
		}
	}
	waitFor(b, 5*time.Minute, "1000 apps running", func() bool {
		_, out := c.api("GET", "/v2/apps", nil)
		n := 0
		for _, a := range out["apps"].([]any) {
			n += num(a.(map[string]any)["tasksRunning"])
		}
		return n == 1000
	})
	for _, path := range []string{"/v2/apps", "/v2/apps?embed=apps.tasks", "/v2/apps?label=team==t3"} {
		b.Run(path, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				resp, err := http.Get(c.fw.URL() + path)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%d", resp.StatusCode)
				}
				b.SetBytes(n)
			}
		})
	}
}
