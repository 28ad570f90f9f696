package output

import (
	"testing"

	"github.com/cairn-dc/cairn/kernel/resources"
)

func TestOptional(t *testing.T) {
	half, mb := 0.5, 128.0
	if got := OptionalFloat(&half); got != "0.5" {
		t.Errorf("OptionalFloat(0.5) = %q", got)
	}
	if got := OptionalFloat(nil); got != "" {
		t.Errorf("OptionalFloat(nil) = %q", got)
	}
	if got, want := OptionalMem(&mb), Mem(resources.FromFloat(128)); got != want {
		t.Errorf("OptionalMem(128) = %q, want %q", got, want)
	}
	if got := OptionalMem(nil); got != "" {
		t.Errorf("OptionalMem(nil) = %q", got)
	}
	if got := Ints([]int{31000, 31001}); got != "31000,31001" {
		t.Errorf("Ints = %q", got)
	}
}
