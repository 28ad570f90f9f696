package marathon

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseApp: ParseApp + Normalize + Validate of a full app
// definition (testdata/web.json), the work of a POST /v2/apps.
func BenchmarkParseApp(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "web.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		a, _, err := ParseApp(data)
		if err != nil {
			b.Fatal(err)
		}
		a.Normalize()
		if ve := a.Validate(); ve != nil {
			b.Fatal(ve)
		}
	}
}

// BenchmarkMarshalAppStatus1000: the encoding part of GET /v2/apps with
// 1,000 apps.
func BenchmarkMarshalAppStatus1000(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "web.json"))
	if err != nil {
		b.Fatal(err)
	}
	a, _, err := ParseApp(data)
	if err != nil {
		b.Fatal(err)
	}
	a.Normalize()
	apps := make([]AppStatus, 1000)
	for i := range apps {
		apps[i] = AppStatus{App: a, TasksRunning: 3}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(map[string]any{"apps": apps}); err != nil {
			b.Fatal(err)
		}
	}
}
