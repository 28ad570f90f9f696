package cron

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// checkParents refuses unknown parents and dependency cycles (the job as
// it would be, with the others as they are).
func (f *Framework) checkParents(spec cronapi.Job) error {
	var p problems
	for i, parent := range spec.Parents {
		if _, ok := f.jobs[parent]; !ok {
			p.add(fmt.Sprintf("/parents/%d", i), "no job %s: add it first (parents must exist)", parent)
		}
	}
	if err := p.err(); err != nil {
		return err
	}
	parentsOf := func(id string) []string {
		if id == spec.ID {
			return spec.Parents
		}
		if j := f.jobs[id]; j != nil {
			return j.spec.Parents
		}
		return nil
	}
	// A cycle through spec: a path from one of its parents back to it.
	var path []string
	seen := map[string]bool{}
	var walk func(id string) bool
	walk = func(id string) bool {
		if id == spec.ID {
			return true
		}
		if seen[id] {
			return false
		}
		seen[id] = true
		path = append(path, id)
		for _, p := range parentsOf(id) {
			if walk(p) {
				return true
			}
		}
		path = path[:len(path)-1]
		return false
	}
	for _, parent := range spec.Parents {
		path = path[:0]
		if walk(parent) {
			// path runs from spec's parent up to a job whose parent is spec.
			cycle := append([]string{spec.ID}, path...)
			cycle = append(cycle, spec.ID)
			slices.Reverse(cycle)
			return invalid("/parents", "a dependency cycle: %s (each job runs after the one before it)", strings.Join(cycle, " → "))
		}
	}
	return nil
}

// graphDOT is the DAG of jobs in Graphviz's DOT language: an edge from
// each parent to its children; jobs are labelled with their last run.
func (f *Framework) graphDOT() string {
	ids := make([]string, 0, len(f.jobs))
	for id := range f.jobs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	b.WriteString("digraph jobs {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n")
	for _, id := range ids {
		j := f.jobs[id]
		label := id
		attrs := ""
		switch last := lastOutcome(j); last {
		case cronapi.RunSuccess:
			attrs = `, color="darkgreen"`
			label += `\nlast run: SUCCESS`
		case cronapi.RunFailed:
			attrs = `, color="red"`
			label += `\nlast run: FAILED`
		}
		if len(j.runs) > 0 {
			attrs += `, penwidth=2`
			label += `\n` + strconv.Itoa(len(j.runs)) + ` active`
		}
		fmt.Fprintf(&b, "  %s [label=%s%s];\n", strconv.Quote(id), quoteDOT(label), attrs)
	}
	for _, id := range ids {
		for _, p := range f.jobs[id].spec.Parents {
			fmt.Fprintf(&b, "  %s -> %s;\n", strconv.Quote(p), strconv.Quote(id))
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// quoteDOT quotes a label, keeping its \n line breaks.
func quoteDOT(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// lastOutcome is the status of the job's latest finished run ("" if none).
func lastOutcome(j *job) string {
	s, fl := j.hist.LastSuccessAt, j.hist.LastFailureAt
	switch {
	case s == nil && fl == nil:
		return ""
	case fl == nil || (s != nil && s.After(*fl)):
		return cronapi.RunSuccess
	}
	return cronapi.RunFailed
}
