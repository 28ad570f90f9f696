package resources

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestParseValue(t *testing.T) {
	tests := []struct {
		in      string
		want    Value
		wantErr string
	}{
		{"0", 0, ""},
		{"4", 4000, ""},
		{"0.5", 500, ""},
		{"1.234", 1234, ""},
		{" 2.5 ", 2500, ""},
		{".5", 500, ""},
		{"5.", 5000, ""},
		{"+3", 3000, ""},
		{"007.100", 7100, ""},
		{"0.5000", 500, ""}, // trailing zeros lose nothing
		{"-0", 0, ""},
		{"9223372036854775.807", MaxValue, ""},
		{"9223372036854775.808", 0, "too large"},
		{"99999999999999999999", 0, "too large"},
		{"0.0001", 0, "more than 3 decimals"},
		{"1.2345", 0, "more than 3 decimals"},
		{"-1", 0, "negative"},
		{"-0.5", 0, "negative"},
		{"NaN", 0, "not a finite number"},
		{"inf", 0, "not a finite number"},
		{"-Infinity", 0, "not a finite number"},
		{"abc", 0, "not a number"},
		{"", 0, "not a number"},
		{".", 0, "not a number"},
		{"1e3", 0, "not a number"}, // no exponents in text
		{"1.2.3", 0, "not a number"},
		{"0x10", 0, "not a number"},
		{"1 000", 0, "not a number"},
	}
	for _, tt := range tests {
		got, err := ParseValue(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseValue(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseValue(%q) = %v, %v; want %v", tt.in, int64(got), err, int64(tt.want))
		}
	}
}

func TestParseDecimalJSON(t *testing.T) {
	tests := []struct {
		in   string
		want Value
		err  numErr
	}{
		{"0.1", 100, numOK},
		{"0.12345", 123, numOK},
		{"0.0005", 1, numOK}, // halves away from zero, as llround
		{"0.00049999", 0, numOK},
		{"0.0015", 2, numOK},
		{"2.9995", 3000, numOK},
		{"1e3", 1000000, numOK},
		{"1.5E-3", 2, numOK},
		{"1E-4", 0, numOK},
		{"5e-4", 1, numOK},
		{"123456789e-9", 123, numOK},
		{"1e-1000000000", 0, numOK},
		{"0e999999999", 0, numOK},
		{"1e16", 0, numTooLarge},
		{"1e999999999", 0, numTooLarge},
		{"9223372036854775.8074", MaxValue, numOK},
		{"9223372036854775.8075", 0, numTooLarge}, // rounds past the maximum
		{"-0.0001", 0, numNegative},
		{"-0", 0, numOK},
		{"1e", 0, numSyntax},
	}
	for _, tt := range tests {
		got, e := parseDecimal(tt.in, numJSON)
		if got != tt.want || e != tt.err {
			t.Errorf("parseDecimal(%q, JSON) = %d, %d; want %d, %d", tt.in, got, e, tt.want, tt.err)
		}
	}
	if v, e := parseDecimal("-1.5", numSigned); v != -1500 || e != numOK {
		t.Errorf("signed -1.5 = %d, %d", v, e)
	}
}

func TestValueString(t *testing.T) {
	tests := map[Value]string{
		0: "0", 1: "0.001", 10: "0.01", 100: "0.1", 1000: "1", 1500: "1.5", 1234: "1.234",
		4000: "4", 8192000: "8192", -1500: "-1.5", MaxValue: "9223372036854775.807",
		math.MinInt64: "-9223372036854775.808",
	}
	for v, want := range tests {
		if got := v.String(); got != want {
			t.Errorf("Value(%d).String() = %q; want %q", int64(v), got, want)
		}
	}
}

func TestFromFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want Value
	}{
		{0.1, 100}, {0.1 + 0.2, 300}, {1.5, 1500}, {0.0004, 0}, {0.0006, 1}, {-1.25, -1250},
		{math.NaN(), 0}, {math.Inf(1), MaxValue}, {math.Inf(-1), -MaxValue}, {1e300, MaxValue},
	}
	for _, tt := range tests {
		if got := FromFloat(tt.in); got != tt.want {
			t.Errorf("FromFloat(%v) = %d; want %d", tt.in, got, tt.want)
		}
	}
	if f := Value(1500).Float(); f != 1.5 {
		t.Errorf("Float = %v", f)
	}
}

func TestPointOnePlusPointTwo(t *testing.T) {
	if MustParseValue("0.1")+MustParseValue("0.2") != MustParseValue("0.3") {
		t.Fatal("0.1 + 0.2 != 0.3 in fixed point")
	}
	sum := MustParse("cpus:0.1").Plus(MustParse("cpus:0.2"))
	if !sum.Equal(MustParse("cpus:0.3")) || sum.String() != "cpus:0.3" {
		t.Fatalf("cpus:0.1 + cpus:0.2 = %v", sum)
	}
	var a, b Resources
	if err := json.Unmarshal([]byte(`[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}}]`), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`[{"name":"cpus","type":"SCALAR","scalar":{"value":0.2}}]`), &b); err != nil {
		t.Fatal(err)
	}
	if a[0].Scalar != 100 {
		t.Fatalf("JSON 0.1 decoded to %d thousandths", a[0].Scalar)
	}
	if got := a.Plus(b).ScalarTotal("cpus"); got != 300 {
		t.Fatalf("JSON 0.1 + 0.2 = %v", got)
	}
	// Subtracting back lands exactly on zero: nothing left over.
	if left := a.Plus(b).Minus(a).Minus(b); !left.IsEmpty() {
		t.Fatalf("0.1 + 0.2 - 0.1 - 0.2 = %v", left)
	}
}

func TestValueJSON(t *testing.T) {
	type doc struct {
		V Value `json:"v"`
	}
	b, err := json.Marshal(doc{V: 1234})
	if err != nil || string(b) != `{"v":1.234}` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
	for in, want := range map[string]Value{`{"v":0.1}`: 100, `{"v":"2.5"}`: 2500, `{"v":1e-3}`: 1, `{"v":null}`: 0} {
		var d doc
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.V != want {
			t.Errorf("unmarshal %s = %d, %v; want %d", in, d.V, err, want)
		}
	}
	var d doc
	if err := json.Unmarshal([]byte(`{"v":-1}`), &d); err == nil {
		t.Error("negative value accepted")
	}
}
