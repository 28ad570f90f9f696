package cron

import (
	"container/heap"
	"slices"
	"time"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/frameworks/cron/schedule"
	"github.com/cairn-dc/cairn/frameworks/services/constraints"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// job is a job and what the loop knows of it.
type job struct {
	spec     cronapi.Job // normalised; Schedules as given
	scheds   map[string]*sched
	cs       []constraints.Constraint
	state    jobState
	hist     cronapi.History
	runs     map[string]*run // active runs by id
	children []string        // jobs that have it as a parent, sorted
}

// jobState is what moves as a job runs (stored at state.<id>).
type jobState struct {
	// Cursors is, per schedule, the last instant handled (a run made, or
	// skipped): the next run is at the schedule's first instant after it.
	Cursors map[string]time.Time `json:"cursors"`
	// ParentsDone is, for a dependent job, when each parent last succeeded
	// since this job's last dependency run.
	ParentsDone map[string]time.Time `json:"parentsDone,omitempty"`
}

func (s *jobState) init() {
	if s.Cursors == nil {
		s.Cursors = map[string]time.Time{}
	}
	if s.ParentsDone == nil {
		s.ParentsDone = map[string]time.Time{}
	}
}

// sched is one schedule of a job.
type sched struct {
	job   *job
	spec  cronapi.Schedule
	calc  schedule.Schedule
	next  time.Time // zero: not armed (disabled, or never fires again)
	index int       // in the heap; -1 when not in it
}

func newJob(spec cronapi.Job, calcs map[string]schedule.Schedule) *job {
	j := &job{spec: spec, scheds: map[string]*sched{}, runs: map[string]*run{}}
	j.cs, _ = placementConstraints(spec.Run.Placement) // validated already
	for _, s := range spec.Schedules {
		j.scheds[s.ID] = &sched{job: j, spec: s, calc: calcs[s.ID], index: -1}
	}
	j.state.init()
	return j
}

// scheduleList is the job's schedules in its definition's order, with
// their next instants.
func (j *job) scheduleList() []cronapi.Schedule {
	out := make([]cronapi.Schedule, 0, len(j.spec.Schedules))
	for _, s := range j.spec.Schedules {
		if sc := j.scheds[s.ID]; sc != nil && !sc.next.IsZero() {
			t := sc.next
			s.NextRunAt = &t
		}
		out = append(out, s)
	}
	return out
}

// activeRuns lists the active runs, oldest first.
func (j *job) activeRuns() []cronapi.Run {
	out := make([]cronapi.Run, 0, len(j.runs))
	for _, r := range j.runs {
		out = append(out, r.view())
	}
	slices.SortFunc(out, func(a, b cronapi.Run) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// run is an active run of a job.
type run struct {
	rec runRecord
	job *job
}

// runRecord is what is stored of an active run (run.<job>.<run>).
type runRecord struct {
	cronapi.Run
	// StartBy: a run not launched by then fails (its schedule's starting
	// deadline, or its maxLaunchDelay).
	StartBy time.Time `json:"startBy"`
	// FirstLaunchAt starts restart.activeDeadlineSeconds.
	FirstLaunchAt time.Time `json:"firstLaunchAt,omitempty"`
	// RetryAt: a failed attempt is retried no sooner.
	RetryAt time.Time `json:"retryAt,omitempty"`
	// Retries is how many attempts failed and were retried.
	Retries int `json:"retries,omitempty"`
	// StopRequested: the run ends FAILED once its task is dead.
	StopRequested bool   `json:"stopRequested,omitempty"`
	StopReason    string `json:"stopReason,omitempty"`
	// Waiting says why no offer fitted (refreshed with every offer).
	Waiting string `json:"waiting,omitempty"`
	// Hostname is where the current task was launched (for placement
	// constraints of the job's next runs).
	Hostname string `json:"hostname,omitempty"`
}

// view is the run as the API shows it: a copy the loop will not change.
func (r *run) view() cronapi.Run {
	v := r.rec.Run
	v.Tasks = slices.Clone(v.Tasks)
	if v.Tasks == nil {
		v.Tasks = []cronapi.RunTask{}
	}
	return v
}

// addRun makes r an active run of j.
func (f *Framework) addRun(j *job, r *run) {
	r.job = j
	j.runs[r.rec.ID] = r
	f.active[r] = struct{}{}
}

// dropRun ends r's place among the active runs (its record is the
// caller's to remove or keep).
func (f *Framework) dropRun(r *run) {
	delete(r.job.runs, r.rec.ID)
	delete(f.active, r)
	for _, t := range r.rec.Tasks {
		if tid := protocol.TaskID(t.ID); f.byTask[tid] == r {
			delete(f.byTask, tid)
		}
	}
}

// currentTask is the latest attempt (nil before the first launch).
func (r *run) currentTask() *cronapi.RunTask {
	if len(r.rec.Tasks) == 0 {
		return nil
	}
	return &r.rec.Tasks[len(r.rec.Tasks)-1]
}

// launchable says whether the run waits for an offer now.
func (r *run) launchable(now time.Time) bool {
	if r.rec.Status != cronapi.RunInitial || r.rec.StopRequested {
		return false
	}
	return r.rec.RetryAt.IsZero() || !now.Before(r.rec.RetryAt)
}

// schedHeap orders armed schedules by their next instant.
type schedHeap []*sched

func (h schedHeap) Len() int { return len(h) }
func (h schedHeap) Less(a, b int) bool {
	if !h[a].next.Equal(h[b].next) {
		return h[a].next.Before(h[b].next)
	}
	if h[a].job.spec.ID != h[b].job.spec.ID {
		return h[a].job.spec.ID < h[b].job.spec.ID
	}
	return h[a].spec.ID < h[b].spec.ID
}
func (h schedHeap) Swap(a, b int) {
	h[a], h[b] = h[b], h[a]
	h[a].index, h[b].index = a, b
}
func (h *schedHeap) Push(x any) {
	s := x.(*sched)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *schedHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.index = -1
	return s
}

// arm computes a schedule's next instant after its cursor (now for a
// schedule never handled) and puts it in the heap.
func (f *Framework) arm(j *job, s *sched, now time.Time) {
	f.disarm(s)
	if !s.spec.IsEnabled() || s.calc == nil {
		return
	}
	cursor, ok := j.state.Cursors[s.spec.ID]
	if !ok {
		cursor = now
		j.state.Cursors[s.spec.ID] = now
	}
	next, ok := s.calc.Next(cursor)
	if !ok {
		return
	}
	s.next = next
	heap.Push(&f.heap, s)
}

// disarm takes a schedule out of the heap.
func (f *Framework) disarm(s *sched) {
	if s.index >= 0 {
		heap.Remove(&f.heap, s.index)
	}
	s.next = time.Time{}
}

// rebuildChildren recomputes every job's children from the parents (on
// load; changes keep them with relink).
func (f *Framework) rebuildChildren() {
	for _, j := range f.jobs {
		j.children = j.children[:0]
	}
	for _, j := range f.jobs {
		for _, p := range j.spec.Parents {
			if pj := f.jobs[p]; pj != nil {
				pj.children = append(pj.children, j.spec.ID)
			}
		}
	}
	for _, j := range f.jobs {
		slices.Sort(j.children)
	}
}

// relink moves job id from the children of its old parents to those of
// its new ones.
func (f *Framework) relink(id string, oldParents, newParents []string) {
	for _, p := range oldParents {
		if pj := f.jobs[p]; pj != nil && !slices.Contains(newParents, p) {
			if i, ok := slices.BinarySearch(pj.children, id); ok {
				pj.children = slices.Delete(pj.children, i, i+1)
			}
		}
	}
	for _, p := range newParents {
		if pj := f.jobs[p]; pj != nil {
			if i, ok := slices.BinarySearch(pj.children, id); !ok {
				pj.children = slices.Insert(pj.children, i, id)
			}
		}
	}
}
