package apiclient

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/cairn-dc/cairn/kernel/protocol"
)

// MinIDPrefix is the shortest ID prefix Match accepts.
const MinIDPrefix = 6

// Ref says how the things of one kind (agents, frameworks) are named on
// the command line: by ID, by name, or by a unique ID prefix of at least
// MinIDPrefix characters (case-insensitive).
type Ref[T any] struct {
	// Kind is what the things are, in messages: "agent".
	Kind string
	// NameIs is what their names are, in messages: "hostname", "name".
	NameIs string
	// List is the command that lists them: "cairn agent list".
	List string
	ID   func(T) string
	Name func(T) string
	// Prefer, when several things have the name asked for, picks the one
	// meant when it picks only one (nil: none).
	Prefer func(T) bool
}

// Match finds the one thing of items named q by its ID, its name or an ID
// prefix, in that order. The error says what matched and what to give
// instead.
func Match[T any](items []T, q string, ref Ref[T]) (T, error) {
	var zero T
	var byName, byPrefix []T
	for _, it := range items {
		switch {
		case ref.ID(it) == q:
			return it, nil
		case ref.Name(it) == q:
			byName = append(byName, it)
		case len(q) >= MinIDPrefix && strings.HasPrefix(strings.ToUpper(ref.ID(it)), strings.ToUpper(q)):
			byPrefix = append(byPrefix, it)
		}
	}
	if len(byName) > 1 && ref.Prefer != nil {
		preferred := slices.DeleteFunc(slices.Clone(byName), func(it T) bool { return !ref.Prefer(it) })
		if len(preferred) == 1 {
			byName = preferred
		}
	}
	for _, found := range [][]T{byName, byPrefix} {
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		ids := make([]string, len(found))
		for i, it := range found {
			ids[i] = fmt.Sprintf("%s (%s)", ref.ID(it), ref.Name(it))
		}
		slices.Sort(ids)
		return zero, fmt.Errorf("%q matches %d %ss: %s; give a full %s ID", q, len(found), ref.Kind, strings.Join(ids, ", "), ref.Kind)
	}
	if len(q) < MinIDPrefix {
		return zero, fmt.Errorf("no %s has the ID or %s %q (an ID prefix needs at least %d characters; see %s)", ref.Kind, ref.NameIs, q, MinIDPrefix, ref.List)
	}
	return zero, fmt.Errorf("no %s has the ID, ID prefix or %s %q (see %s)", ref.Kind, ref.NameIs, q, ref.List)
}

// SortTasks sorts tasks as describe views list them: the active ones
// first, each lot by ID (stable for equal IDs).
func SortTasks(tasks []protocol.Task) {
	slices.SortStableFunc(tasks, func(x, y protocol.Task) int {
		return cmp.Or(cmpBool(x.State.Terminal(), y.State.Terminal()), cmp.Compare(x.ID, y.ID))
	})
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// CountActive counts the tasks that have not ended.
func CountActive(tasks []protocol.Task) int {
	n := 0
	for _, t := range tasks {
		if !t.State.Terminal() {
			n++
		}
	}
	return n
}
