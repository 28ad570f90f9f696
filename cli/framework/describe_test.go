package framework

import (
	"strings"
	"testing"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

func TestMatchFramework(t *testing.T) {
	fws := []protocol.Framework{
		{ID: "01JB8X5Q2M3N4P5R6S7T8V9W0F", Name: "services", Connected: true},
		{ID: "01JB8X5Q2M3N4P5R6S7T8V9W0G", Name: "cron"},
		{ID: "01JC000000000000000000000A", Name: "cron", Connected: true}, // failed over
		{ID: "01JD000000000000000000000B", Name: "batch"},
		{ID: "01JD000000000000000000000C", Name: "batch"},
	}
	for q, want := range map[string]protocol.FrameworkID{
		"services":                   "01JB8X5Q2M3N4P5R6S7T8V9W0F",
		"01JB8X5Q2M3N4P5R6S7T8V9W0G": "01JB8X5Q2M3N4P5R6S7T8V9W0G", // an ID beats a name
		"cron":                       "01JC000000000000000000000A", // the connected one
		"01jc00":                     "01JC000000000000000000000A", // a prefix, any case
	} {
		fw, err := matchFramework(fws, q)
		if err != nil || fw.ID != want {
			t.Errorf("matchFramework(%q) = %s, %v; want %s", q, fw.ID, err, want)
		}
	}
	for q, want := range map[string]string{
		"batch":   `"batch" matches 2 frameworks`,
		"01JB8X":  `"01JB8X" matches 2 frameworks`,
		"nope":    "an ID prefix needs at least 6 characters",
		"nothing": "see cairn framework list",
	} {
		if _, err := matchFramework(fws, q); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("matchFramework(%q) = %v; want an error saying %q", q, err, want)
		}
	}
}
