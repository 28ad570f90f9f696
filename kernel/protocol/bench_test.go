package protocol

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cairn-dc/cairn/kernel/resources"
)

func acceptOf(n int) Call {
	tasks := make([]TaskInfo, n)
	for i := range tasks {
		tasks[i] = TaskInfo{Name: "bench", TaskID: TaskID(fmt.Sprintf("task-%d", i)), AgentID: "A1",
			Resources: resources.MustParse("cpus:0.1;mem:32"), Command: &CommandInfo{Value: "sleep 3600"}}
	}
	return Call{FrameworkID: "F1", Type: CallAccept, Accept: &Accept{OfferIDs: []OfferID{"O1"},
		Operations: []Operation{{Type: OpLaunch, Launch: &Launch{TaskInfos: tasks}}}}}
}

// BenchmarkDecodeAccept decodes and validates an ACCEPT launching 10 tasks
// (reported per task).
func BenchmarkDecodeAccept(b *testing.B) {
	data, _ := json.Marshal(acceptOf(10))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeCall(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/task")
}

// BenchmarkEncodeAccept encodes the same call.
func BenchmarkEncodeAccept(b *testing.B) {
	c := acceptOf(10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/task")
}

// BenchmarkDecodeStatusUpdate decodes one status update from the stream.
func BenchmarkDecodeStatusUpdate(b *testing.B) {
	data, _ := json.Marshal(StatusUpdate{FrameworkID: "F1", AgentID: "A1", Status: TaskStatus{TaskID: "task-1",
		State: TaskRunning, Source: SourceAgent, AgentID: "A1", UUID: NewID(), Timestamp: 1.7e9}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeStatusUpdate(data); err != nil {
			b.Fatal(err)
		}
	}
}
