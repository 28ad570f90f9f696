package cron

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/frameworks/cron/schedule"
	"github.com/cairn-dc/cairn/frameworks/services/constraints"
	"github.com/cairn-dc/cairn/kernel/protocol"
)

// Defaults (Metronome's where it has one).
const (
	DefaultCPUs                    = 1.0
	DefaultMem                     = 128.0
	DefaultMaxLaunchDelay          = 3600 // seconds
	DefaultStartingDeadlineSeconds = 900
	DefaultBackoff                 = time.Second
	MaxBackoff                     = 5 * time.Minute
)

// Limits on input.
const (
	maxSchedules    = 32
	maxParents      = 64
	maxCmdLen       = 64 << 10
	maxLabels       = 64
	maxEnv          = 256
	maxArtifacts    = 32
	maxDescription  = 4096
	maxScheduleID   = 48
	maxDeadlineSecs = 10 * 365 * 24 * 3600
)

var (
	scheduleIDRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	envNameRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ValidationError lists what is wrong with a request, by JSON path.
type ValidationError struct {
	Details []cronapi.ErrorDetail
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Details))
	for _, d := range e.Details {
		parts = append(parts, d.Path+": "+strings.Join(d.Errors, "; "))
	}
	return "invalid job: " + strings.Join(parts, ", ")
}

// problems collects validation errors.
type problems struct{ details []cronapi.ErrorDetail }

func (p *problems) add(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for i := range p.details {
		if p.details[i].Path == path {
			p.details[i].Errors = append(p.details[i].Errors, msg)
			return
		}
	}
	p.details = append(p.details, cronapi.ErrorDetail{Path: path, Errors: []string{msg}})
}

func (p *problems) err() error {
	if len(p.details) == 0 {
		return nil
	}
	return &ValidationError{Details: p.details}
}

// validJobID checks a job id.
func validJobID(id string) error { return cronapi.ValidateJobID(id) }

// normalizeJob checks a job and fills its defaults. The schedules are
// checked with normalizeSchedule (under /schedules/<i>).
func normalizeJob(j *cronapi.Job) (map[string]schedule.Schedule, error) {
	var p problems
	if err := validJobID(j.ID); err != nil {
		p.add("/id", "%v", err)
	}
	if len(j.Description) > maxDescription {
		p.add("/description", "longer than %d bytes", maxDescription)
	}
	checkLabels(&p, "/labels", j.Labels)
	normalizeRun(&p, &j.Run)
	scheds := map[string]schedule.Schedule{}
	if len(j.Schedules) > maxSchedules {
		p.add("/schedules", "at most %d schedules per job", maxSchedules)
	}
	seen := map[string]bool{}
	for i := range j.Schedules {
		path := fmt.Sprintf("/schedules/%d", i)
		s, err := normalizeSchedule(&j.Schedules[i])
		if err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, d := range ve.Details {
					for _, e := range d.Errors {
						p.add(path+d.Path, "%s", e)
					}
				}
			}
			continue
		}
		if seen[j.Schedules[i].ID] {
			p.add(path+"/id", "schedule id %q is used twice in this job", j.Schedules[i].ID)
		}
		seen[j.Schedules[i].ID] = true
		scheds[j.Schedules[i].ID] = s
	}
	if len(j.Parents) > 0 {
		if len(j.Schedules) > 0 {
			p.add("/parents", "a job with parents runs after them: it cannot also have schedules (remove one or the other)")
		}
		if len(j.Parents) > maxParents {
			p.add("/parents", "at most %d parents", maxParents)
		}
		dup := map[string]bool{}
		for i, parent := range j.Parents {
			if err := validJobID(parent); err != nil {
				p.add(fmt.Sprintf("/parents/%d", i), "%v", err)
			} else if parent == j.ID {
				p.add(fmt.Sprintf("/parents/%d", i), "a job cannot be its own parent")
			} else if dup[parent] {
				p.add(fmt.Sprintf("/parents/%d", i), "%s is listed twice", parent)
			}
			dup[parent] = true
		}
		j.Parents = sortedUnique(j.Parents)
	}
	j.History, j.HistorySummary, j.ActiveRuns = nil, nil, nil
	if err := p.err(); err != nil {
		return nil, err
	}
	return scheds, nil
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return slices.Compact(out)
}

func checkLabels(p *problems, path string, labels map[string]string) {
	if len(labels) > maxLabels {
		p.add(path, "at most %d labels", maxLabels)
	}
	for k, v := range labels {
		if k == "" || len(k) > 256 || len(v) > 4096 {
			p.add(path, "label %q: keys are 1-256 bytes, values at most 4096", k)
		}
	}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// normalizeRun checks what a run runs and fills its defaults.
func normalizeRun(p *problems, r *cronapi.JobRun) {
	switch {
	case r.Cmd == "" && len(r.Args) == 0:
		p.add("/run/cmd", "give the command to run: cmd (a shell command) or args (a program and its arguments)")
	case r.Cmd != "" && len(r.Args) > 0:
		p.add("/run/args", "give cmd or args, not both")
	case len(r.Cmd) > maxCmdLen:
		p.add("/run/cmd", "longer than %d bytes", maxCmdLen)
	case len(r.Args) > 0 && r.Args[0] == "":
		p.add("/run/args/0", "the program to run is empty")
	}
	if r.CPUs == 0 {
		r.CPUs = DefaultCPUs
	}
	if r.Mem == 0 {
		r.Mem = DefaultMem
	}
	if !finite(r.CPUs) || r.CPUs <= 0 || r.CPUs > 1024 {
		p.add("/run/cpus", "must be more than 0 and at most 1024, e.g. 0.5")
	}
	if !finite(r.Mem) || r.Mem < 8 || r.Mem > 1<<30 {
		p.add("/run/mem", "must be at least 8 (MiB)")
	}
	if !finite(r.Disk) || r.Disk < 0 || r.Disk > 1<<40 {
		p.add("/run/disk", "must be 0 or more (MiB)")
	}
	if len(r.Env) > maxEnv {
		p.add("/run/env", "at most %d variables", maxEnv)
	}
	for k := range r.Env {
		if !envNameRe.MatchString(k) {
			p.add("/run/env", "%q is not a valid variable name (letters, digits and _, not starting with a digit)", k)
		}
	}
	if len(r.Artifacts) > maxArtifacts {
		p.add("/run/artifacts", "at most %d artifacts", maxArtifacts)
	}
	for i, a := range r.Artifacts {
		if err := checkURI(a.URI); err != nil {
			p.add(fmt.Sprintf("/run/artifacts/%d/uri", i), "%v", err)
		}
	}
	if r.Placement != nil {
		if _, err := placementConstraints(r.Placement); err != nil {
			p.add("/run/placement/constraints", "%v", err)
		}
	}
	if r.MaxLaunchDelay < 0 || r.MaxLaunchDelay > maxDeadlineSecs {
		p.add("/run/maxLaunchDelay", "must be 0 (the default, %d s) or a number of seconds", DefaultMaxLaunchDelay)
	}
	if r.MaxLaunchDelay == 0 {
		r.MaxLaunchDelay = DefaultMaxLaunchDelay
	}
	if r.Restart == nil {
		r.Restart = &cronapi.Restart{Policy: cronapi.RestartNever}
	}
	rs := r.Restart
	if rs.Policy == "" {
		rs.Policy = cronapi.RestartNever
	}
	if rs.Policy != cronapi.RestartNever && rs.Policy != cronapi.RestartOnFailure {
		p.add("/run/restart/policy", "%q: use NEVER or ON_FAILURE", rs.Policy)
	}
	if rs.ActiveDeadlineSeconds < 0 || rs.ActiveDeadlineSeconds > maxDeadlineSecs {
		p.add("/run/restart/activeDeadlineSeconds", "must be 0 (none) or a number of seconds")
	}
	if rs.MaxRetries < 0 || rs.MaxRetries > 1000 {
		p.add("/run/restart/maxRetries", "must be 0 (no bound but the deadline) to 1000")
	}
	if !finite(rs.BackoffSeconds) || rs.BackoffSeconds < 0 || rs.BackoffSeconds > MaxBackoff.Seconds() {
		p.add("/run/restart/backoffSeconds", "must be 0 (the default, 1 s) to %d", int(MaxBackoff.Seconds()))
	}
	if r.User != "" && (len(r.User) > 64 || strings.ContainsAny(r.User, " \t\n:/")) {
		p.add("/run/user", "%q is not a user name", r.User)
	}
	if !finite(r.TaskKillGracePeriodSeconds) || r.TaskKillGracePeriodSeconds < 0 || r.TaskKillGracePeriodSeconds > 3600 {
		p.add("/run/taskKillGracePeriodSeconds", "must be 0 (the agent's default) to 3600")
	}
}

func checkURI(uri string) error {
	switch {
	case uri == "":
		return fmt.Errorf("a URI is required")
	case strings.HasPrefix(uri, "http://"), strings.HasPrefix(uri, "https://"), strings.HasPrefix(uri, "file://"),
		strings.HasPrefix(uri, "oci://"), strings.HasPrefix(uri, "/"):
		return nil
	}
	return fmt.Errorf("%q: use an http(s)://, file://, oci:// URI or an absolute path", uri)
}

// placementConstraints turns Metronome's constraints into Marathon's
// (evaluated by frameworks/services/constraints). EQ is Marathon's IS.
func placementConstraints(p *cronapi.Placement) ([]constraints.Constraint, error) {
	if p == nil || len(p.Constraints) == 0 {
		return nil, nil
	}
	raw := make([][]string, 0, len(p.Constraints))
	for _, c := range p.Constraints {
		op := strings.ToUpper(c.Operator)
		if op == "EQ" {
			op = "IS"
		}
		row := []string{c.Attribute, op}
		if c.Value != "" {
			row = append(row, c.Value)
		}
		raw = append(raw, row)
	}
	return constraints.Parse(raw)
}

// normalizeSchedule checks a schedule, fills its defaults and returns what
// computes its instants. Paths are relative to the schedule.
func normalizeSchedule(s *cronapi.Schedule) (schedule.Schedule, error) {
	var p problems
	if s.ID == "" {
		s.ID = "default"
	}
	if len(s.ID) > maxScheduleID || !scheduleIDRe.MatchString(s.ID) {
		p.add("/id", "%q is not a valid schedule id: use lower-case letters, digits and dashes, e.g. nightly", s.ID)
	}
	loc, err := schedule.LoadLocation(s.TimeZone)
	if err != nil {
		p.add("/timezone", "%v", err)
	}
	if s.TimeZone == "" {
		s.TimeZone = "UTC"
	}
	var sched schedule.Schedule
	switch {
	case s.Cron == "" && s.Interval == "":
		p.add("/cron", "give a cron expression (e.g. \"0 3 * * *\") or an ISO 8601 interval (e.g. \"R/2026-12-01T03:00:00Z/P1D\")")
	case s.Cron != "" && s.Interval != "":
		p.add("/interval", "give cron or interval, not both")
	case s.Cron != "":
		// An unknown zone is reported above; the expression is checked anyway.
		if sched, err = schedule.ParseCron(s.Cron, cmpLoc(loc)); err != nil {
			p.add("/cron", "%v", err)
		}
	default:
		iv, err := schedule.ParseInterval(s.Interval, cmpLoc(loc))
		if err != nil {
			p.add("/interval", "%v", err)
		} else {
			sched = iv
		}
	}
	if s.Epsilon != "" {
		per, err := schedule.ParsePeriod(s.Epsilon)
		switch {
		case err != nil:
			p.add("/epsilon", "%v", err)
		case s.StartingDeadlineSeconds == 0:
			s.StartingDeadlineSeconds = int(max(1, per.Approx().Seconds()))
		}
	}
	if s.StartingDeadlineSeconds < 0 || s.StartingDeadlineSeconds > maxDeadlineSecs {
		p.add("/startingDeadlineSeconds", "must be 0 (the default, %d s) or a number of seconds", DefaultStartingDeadlineSeconds)
	}
	if s.StartingDeadlineSeconds == 0 {
		s.StartingDeadlineSeconds = DefaultStartingDeadlineSeconds
	}
	switch s.ConcurrencyPolicy {
	case "":
		s.ConcurrencyPolicy = cronapi.ConcurrencyAllow
	case cronapi.ConcurrencyAllow, cronapi.ConcurrencyForbid, cronapi.ConcurrencyReplace:
	default:
		p.add("/concurrencyPolicy", "%q: use ALLOW, FORBID or REPLACE", s.ConcurrencyPolicy)
	}
	if s.Enabled == nil {
		t := true
		s.Enabled = &t
	}
	s.NextRunAt = nil
	if err := p.err(); err != nil { // an unknown zone is one of them
		return nil, err
	}
	return sched, nil
}

// cmpLoc is loc, or UTC when the zone was not known.
func cmpLoc(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// taskIDFor is a run attempt's task id: <job id>.<run id>.<attempt>.
func taskIDFor(jobID, runID string, attempt int) protocol.TaskID {
	return protocol.TaskID(fmt.Sprintf("%s.%s.%d", jobID, runID, attempt))
}
