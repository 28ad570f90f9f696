package protocol

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeCall: no input crashes the decoder, and whatever it accepts
// survives a re-encode and decodes and validates again.
func FuzzDecodeCall(f *testing.F) {
	for _, s := range []string{
		`{"framework_id":"F1","type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"svc","roles":["prod"]}}}`,
		`{"framework_id":"F1","type":"ACCEPT","accept":{"offer_ids":["O1"],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"task_id":"t1","name":"t","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.5}}],"command":{"value":"sleep 1"}}]}}],"filters":{"refuse_seconds":0}}}`,
		`{"framework_id":"F1","type":"DECLINE","decline":{"offer_ids":["O1"],"filters":{"refuse_seconds":5}}}`,
		`{"framework_id":"F1","type":"KILL","kill":{"task_id":"t1"}}`,
		`{"framework_id":"F1","type":"ACKNOWLEDGE","acknowledge":{"agent_id":"A","task_id":"t1","uuid":"u"}}`,
		`{"framework_id":"F1","type":"ACKNOWLEDGE_MANY","acknowledgements":[{"agent_id":"A","task_id":"t1","uuid":"u"},{"agent_id":"A","task_id":"t2","uuid":"v"}]}`,
		`{"framework_id":"F1","type":"RECONCILE","reconcile":{"tasks":[{"task_id":"t1"}]}}`,
		`{"framework_id":"F1","type":"HEARTBEAT"}`,
		`{"type":`, `[]`, `null`, `{"framework_id":"a.b"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCall(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("re-encode accepted call: %v", err)
		}
		if _, err := DecodeCall(again); err != nil {
			t.Fatalf("accepted call no longer valid after a round trip: %v\n%s", err, again)
		}
	})
}

// FuzzDecodeAgentMessages covers what agents send and receive.
func FuzzDecodeAgentMessages(f *testing.F) {
	for _, s := range []string{
		`{"agent":{"id":"A1","hostname":"h","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}]},"tasks":[{"framework_id":"F","task_id":"t","resources":[],"state":"TASK_RUNNING"}]}`,
		`{"framework_id":"F","agent_id":"A","status":{"task_id":"t","state":"TASK_RUNNING","uuid":"u","timestamp":1}}`,
		`{"type":"KILL","kill":{"framework_id":"F","task_id":"t"}}`,
		`{"type":"LAUNCH","launch":{"framework":{"id":"F","name":"x"},"tasks":[]}}`,
		`{}`, `{"status":{"state":"TASK_NAPPING"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := DecodeRegisterAgent(data); err == nil {
			again, _ := json.Marshal(r)
			if _, err := DecodeRegisterAgent(again); err != nil {
				t.Fatalf("registration invalid after round trip: %v", err)
			}
		}
		if u, err := DecodeStatusUpdate(data); err == nil {
			again, _ := json.Marshal(u)
			if _, err := DecodeStatusUpdate(again); err != nil {
				t.Fatalf("update invalid after round trip: %v", err)
			}
		}
		if c, err := DecodeAgentCommand(data); err == nil {
			again, _ := json.Marshal(c)
			if _, err := DecodeAgentCommand(again); err != nil {
				t.Fatalf("command invalid after round trip: %v", err)
			}
		}
		_, _ = DecodeEvent(data)
		_, _ = DecodeResponse(data)
	})
}

// FuzzDecodeDrainAgent: no drain body crashes the decoder, and whatever it
// accepts survives a round trip.
func FuzzDecodeDrainAgent(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"grace_period_seconds": 30, "reason": "kernel upgrade"}`, `{"grace_period_seconds": -1}`,
		`{"reason": "a\u0000b"}`, `{"grace_period_seconds": "30"}`, `{"nope": 1}`, `{} {}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDrainAgent(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("re-encode accepted drain: %v", err)
		}
		if _, err := DecodeDrainAgent(again); err != nil {
			t.Fatalf("accepted drain no longer valid after a round trip: %v\n%s", err, again)
		}
	})
}
