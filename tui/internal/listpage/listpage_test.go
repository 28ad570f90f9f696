package listpage

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

func TestStep(t *testing.T) {
	k := NewKeyMap()
	for _, c := range []struct {
		msg tea.KeyPressMsg
		by  int
		ok  bool
	}{
		{tea.KeyPressMsg{Code: 'j', Text: "j"}, 1, true},
		{tea.KeyPressMsg{Code: tea.KeyUp}, -1, true},
		{tea.KeyPressMsg{Code: tea.KeyPgDown}, 10, true},
		{tea.KeyPressMsg{Code: 'g', Text: "g"}, -far, true},
		{tea.KeyPressMsg{Code: 'x', Text: "x"}, 0, false},
	} {
		if by, ok := k.Step(c.msg); by != c.by || ok != c.ok {
			t.Errorf("Step(%v) = %d, %v; want %d, %v", c.msg, by, ok, c.by, c.ok)
		}
	}
}

func TestKeep(t *testing.T) {
	id := func(s string) string { return s }
	old := []string{"a", "b", "c"}
	if got := Keep(old, []string{"x", "b"}, 1, id); got != 1 {
		t.Errorf("b moved to %d, want 1", got)
	}
	if got := Keep(old, []string{"b", "c"}, 2, id); got != 1 {
		t.Errorf("c moved to %d, want 1", got)
	}
	if got := Keep(old, []string{"x"}, 2, id); got != 0 {
		t.Errorf("a gone: cursor %d, want 0", got)
	}
	if got := Keep(old, nil, 2, id); got != 0 {
		t.Errorf("no rows: cursor %d, want 0", got)
	}
}
