package output

import (
	"bytes"
	"testing"

	"github.com/cairn-dc/cairn/kernel/resources"
)

func TestMem(t *testing.T) {
	for in, want := range map[string]string{
		"0":       "0 MiB",
		"512":     "512 MiB",
		"0.5":     "0.5 MiB",
		"1023":    "1023 MiB",
		"1024":    "1 GiB",
		"1536":    "1.5 GiB",
		"8192":    "8 GiB",
		"10000":   "9.8 GiB",
		"1048576": "1 TiB",
		"1572864": "1.5 TiB",
	} {
		if got := Mem(resources.MustParseValue(in)); got != want {
			t.Errorf("Mem(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestSummary(t *testing.T) {
	if got, want := Summary(resources.MustParse("cpus:4;mem:8192;disk:10240;ports:[1-2]")), "cpus 4 · mem 8 GiB · disk 10 GiB"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if got := Summary(nil); got != "-" {
		t.Errorf("Summary(nil) = %q", got)
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	tb := NewTable(&b, "A", "LONGER")
	tb.Row("x\ty", "")
	tb.Row("evil\x1b[31m\nname", "z", "ignored")
	tb.Row("short")
	if err := tb.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"A                LONGER\n" +
		"x y              -\n" +
		"evil [31m name   z\n" +
		"short            -\n"
	if b.String() != want {
		t.Errorf("table:\n%q\nwant:\n%q", b.String(), want)
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, []map[string]string{{"id": "a<b>"}}); err != nil {
		t.Fatal(err)
	}
	if want := "[\n  {\n    \"id\": \"a<b>\"\n  }\n]\n"; b.String() != want {
		t.Errorf("JSON = %q, want %q", b.String(), want)
	}
}
