package output

import (
	"strconv"
	"strings"

	"github.com/cairn-dc/cairn/kernel/resources"
)

// OptionalFloat prints a number that may be unset: "0.5", "" for nil.
func OptionalFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// OptionalMem prints megabytes that may be unset with Mem: "128 MiB", ""
// for nil.
func OptionalMem(mb *float64) string {
	if mb == nil {
		return ""
	}
	return Mem(resources.FromFloat(*mb))
}

// Ints prints numbers, ports say, separated by commas: "31000,31001".
func Ints(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}
