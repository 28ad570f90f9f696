// Package cronapi holds the wire types of the cron framework's REST API
// (frameworks/cron), in Metronome's shape, so clients such as the CLI speak
// it without importing the framework. It does no I/O.
//
//	GET    /v1/jobs[?embed=...]                        → 200 []Job
//	POST   /v1/jobs                                    Job → 201 Job (schedules may be embedded)
//	GET    /v1/jobs/{id}[?embed=...]                   → 200 Job
//	PUT    /v1/jobs/{id}                               Job → 200 Job
//	DELETE /v1/jobs/{id}[?stopCurrentJobRuns=true]     → 200 Job (409 while runs are active)
//	GET    /v1/jobs/{id}/schedules                     → 200 []Schedule
//	POST   /v1/jobs/{id}/schedules                     Schedule → 201 Schedule
//	GET    /v1/jobs/{id}/schedules/{sid}               → 200 Schedule
//	PUT    /v1/jobs/{id}/schedules/{sid}               Schedule → 200 Schedule
//	DELETE /v1/jobs/{id}/schedules/{sid}               → 200
//	GET    /v1/jobs/{id}/runs                          → 200 []Run (active runs)
//	POST   /v1/jobs/{id}/runs                          → 201 Run (run now)
//	GET    /v1/jobs/{id}/runs/{rid}                    → 200 Run (active or in the history)
//	POST   /v1/jobs/{id}/runs/{rid}/actions/stop       → 200 Run
//	GET    /v1/jobs/{id}/dependencies                  → 200 Dependencies
//	PUT    /v1/jobs/{id}/dependencies                  Dependencies → 200 Dependencies (parents only)
//	GET    /v1/graph                                   → 200 text/vnd.graphviz (the DAG as DOT)
//	GET    /ping                                       → 200 pong
//
// embed is any of history, historySummary, activeRuns, schedules (repeat
// the parameter or separate with commas).
//
// Errors are {"message": "...", "details": [{"path": "/run/cpus",
// "errors": ["..."]}]}: 422 for invalid input (details name the fields),
// 404 for an unknown job, schedule or run, 409 for conflicts.
package cronapi

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultName is the cron framework's default name: the master proxies its
// API at /service/cron/.
const DefaultName = "cron"

// MaxJobIDLen bounds a job id (a run's task id is <job>.<run>.<attempt>).
const MaxJobIDLen = 100

// ValidateJobID checks a job id: a dot path of lower-case letters, digits
// and dashes (each part starting and ending with a letter or digit), e.g.
// prod.reports.daily.
func ValidateJobID(id string) error {
	const want = "use lower-case letters, digits and dashes between dots, e.g. prod.reports.daily"
	if id == "" {
		return errors.New("the job id is empty: " + want)
	}
	if len(id) > MaxJobIDLen {
		return fmt.Errorf("job id %q is longer than %d characters", id, MaxJobIDLen)
	}
	for seg := range strings.SplitSeq(id, ".") {
		if seg == "" {
			return fmt.Errorf("job id %q has an empty part between dots: %s", id, want)
		}
		for _, r := range seg {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return fmt.Errorf("job id %q has %q in it: %s", id, r, want)
			}
		}
		if seg[0] == '-' || seg[len(seg)-1] == '-' {
			return fmt.Errorf("job id %q has a part starting or ending with a dash: %s", id, want)
		}
	}
	return nil
}

// Job is a job definition (Metronome's JobSpec, plus Parents).
type Job struct {
	// ID is a dot path: lower-case letters, digits and dashes between
	// dots, e.g. prod.reports.daily.
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Run         JobRun            `json:"run"`
	// Schedules are accepted on POST /v1/jobs and PUT, and shown with
	// embed=schedules (POST and PUT answer with them, nextRunAt set). On
	// PUT, an absent "schedules" keeps the job's schedules and a present
	// one (even []) replaces them.
	Schedules []Schedule `json:"schedules,omitempty"`
	// Parents makes a dependent job (Chronos): it runs once every parent
	// has succeeded since its own last run. A job has parents or
	// schedules, not both; cycles are refused.
	Parents []string `json:"parents,omitempty"`

	// Read only, with embed.
	History        *History        `json:"history,omitempty"`
	HistorySummary *HistorySummary `json:"historySummary,omitempty"`
	ActiveRuns     []Run           `json:"activeRuns,omitempty"`
}

// JobRun is what one run of a job runs.
type JobRun struct {
	// Cmd runs through /bin/sh -c; Args (without Cmd) runs Args[0] with
	// Args as its argv. One of them is required.
	Cmd  string   `json:"cmd,omitempty"`
	Args []string `json:"args,omitempty"`
	// CPUs (default 1 as Metronome; > 0), Mem in MiB (default 128; >= 8)
	// and Disk in MiB (default 0). 0 (or absent) means the default.
	CPUs float64 `json:"cpus"`
	Mem  float64 `json:"mem"`
	Disk float64 `json:"disk"`
	// Env adds environment variables.
	Env map[string]string `json:"env,omitempty"`
	// Artifacts are fetched into the sandbox before the command starts
	// (http(s), file and oci:// URIs).
	Artifacts []Artifact `json:"artifacts,omitempty"`
	Placement *Placement `json:"placement,omitempty"`
	// MaxLaunchDelay (seconds, default 3600) is how long a run may wait
	// for resources before it fails.
	MaxLaunchDelay int      `json:"maxLaunchDelay,omitempty"`
	Restart        *Restart `json:"restart,omitempty"`
	// User runs the command as that user (the agent must be root).
	User string `json:"user,omitempty"`
	// TaskKillGracePeriodSeconds is the SIGTERM → SIGKILL grace when a run
	// is stopped (default: the agent's, 5 s).
	TaskKillGracePeriodSeconds float64 `json:"taskKillGracePeriodSeconds,omitempty"`
}

// Artifact is a URI fetched into the sandbox.
type Artifact struct {
	URI        string `json:"uri"`
	Executable bool   `json:"executable,omitempty"`
	Extract    *bool  `json:"extract,omitempty"` // default true, as Metronome
	Cache      bool   `json:"cache,omitempty"`
}

// Placement constrains where runs go.
type Placement struct {
	Constraints []Constraint `json:"constraints,omitempty"`
}

// Constraint is Metronome's: attribute ("hostname" or an agent attribute),
// operator EQ|LIKE|UNLIKE|IS|UNIQUE|CLUSTER|GROUP_BY|MAX_PER, value.
type Constraint struct {
	Attribute string `json:"attribute"`
	Operator  string `json:"operator"`
	Value     string `json:"value,omitempty"`
}

// Restart policies.
const (
	RestartNever     = "NEVER"
	RestartOnFailure = "ON_FAILURE"
)

// Restart says what happens when a run's task fails.
type Restart struct {
	// Policy is NEVER (default: the run fails) or ON_FAILURE (a new task,
	// after a back-off, until the deadline or MaxRetries).
	Policy string `json:"policy"`
	// ActiveDeadlineSeconds bounds the run's whole life from its first
	// launch: past it, the run is stopped and FAILED. 0: no deadline.
	ActiveDeadlineSeconds int `json:"activeDeadlineSeconds,omitempty"`
	// MaxRetries bounds ON_FAILURE's new tasks (Cairn; 0: only the
	// deadline bounds them).
	MaxRetries int `json:"maxRetries,omitempty"`
	// BackoffSeconds is the first delay before a retry (Cairn; default
	// 1), doubled each retry up to 5 minutes.
	BackoffSeconds float64 `json:"backoffSeconds,omitempty"`
}

// Concurrency policies: what a schedule does when its previous run is
// still active.
const (
	ConcurrencyAllow   = "ALLOW"   // start another run beside it
	ConcurrencyForbid  = "FORBID"  // skip this instant (recorded as skipped)
	ConcurrencyReplace = "REPLACE" // stop the active run, then start
)

// Schedule is one schedule of a job: a cron expression (Metronome) or an
// ISO 8601 repeating interval (Chronos), exactly one.
type Schedule struct {
	ID string `json:"id"`
	// Cron is a 5-field cron expression (minute hour day-of-month month
	// day-of-week; names, ranges, steps, lists; @hourly, @daily ...).
	Cron string `json:"cron,omitempty"`
	// Interval is an ISO 8601 repeating interval R[n]/start/period, e.g.
	// R/2026-12-01T00:00:00Z/PT6H (Cairn; Chronos' schedule).
	Interval string `json:"interval,omitempty"`
	// TimeZone is an IANA zone name (default UTC): the zone the cron
	// expression is read in, and where calendar periods (P1D) of an
	// interval are counted.
	TimeZone string `json:"timezone,omitempty"`
	// StartingDeadlineSeconds: a run not started this long after its
	// instant is skipped (and recorded so). Default 900 (Metronome).
	StartingDeadlineSeconds int `json:"startingDeadlineSeconds,omitempty"`
	// Epsilon is Chronos' name for the same window, as an ISO 8601
	// duration (PT1M); it sets StartingDeadlineSeconds when that is 0.
	Epsilon string `json:"epsilon,omitempty"`
	// ConcurrencyPolicy is ALLOW (default), FORBID or REPLACE.
	ConcurrencyPolicy string `json:"concurrencyPolicy,omitempty"`
	// Enabled (default true): a disabled schedule starts nothing.
	Enabled *bool `json:"enabled,omitempty"`
	// NextRunAt is when it fires next (read only).
	NextRunAt *time.Time `json:"nextRunAt,omitempty"`
}

// IsEnabled says whether the schedule starts runs.
func (s Schedule) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

// Run statuses (Metronome's).
const (
	RunInitial  = "INITIAL"  // created, no task launched yet
	RunStarting = "STARTING" // a task is launched, not running yet
	RunActive   = "ACTIVE"   // its task runs
	RunSuccess  = "SUCCESS"  // its task finished with exit code 0
	RunFailed   = "FAILED"   // its tasks failed (retries spent), it was stopped, or it could not start
)

// Run triggers.
const (
	TriggerManual     = "manual"     // POST /v1/jobs/{id}/runs
	TriggerDependency = "dependency" // its parents succeeded
	TriggerSchedule   = "schedule:"  // + the schedule's id
)

// Run is one run of a job.
type Run struct {
	// ID is unique in the job. A scheduled run's id is derived from its
	// schedule and instant, so one instant never makes two runs.
	ID     string `json:"id"`
	JobID  string `json:"jobId"`
	Status string `json:"status"`
	// Trigger says what started it: "manual", "dependency" or
	// "schedule:<schedule id>".
	Trigger string `json:"trigger"`
	// ScheduledAt is the instant it was due (scheduled runs).
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	// Tasks are its attempts, oldest first.
	Tasks []RunTask `json:"tasks"`
	// Message says why it failed, why it waits, or why it was stopped.
	Message string `json:"message,omitempty"`
}

// RunTask is one task (attempt) of a run.
type RunTask struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"` // TASK_STAGING ... TASK_FINISHED
	AgentID     string     `json:"agentId,omitempty"`
	StartedAt   *time.Time `json:"startedAt,omitempty"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	ExitCode    *int       `json:"exitCode,omitempty"`
	Message     string     `json:"message,omitempty"`
}

// Done says whether the run has ended.
func (r Run) Done() bool { return r.Status == RunSuccess || r.Status == RunFailed }

// HistorySummary counts a job's finished runs.
type HistorySummary struct {
	SuccessCount  int        `json:"successCount"`
	FailureCount  int        `json:"failureCount"`
	SkippedCount  int        `json:"skippedCount"`
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
	LastFailureAt *time.Time `json:"lastFailureAt,omitempty"`
}

// History is a job's finished runs: the latest 50 (the framework's
// HistoryLimit) of each list, newest first; counts are of all.
type History struct {
	HistorySummary
	SuccessfulFinishedRuns []FinishedRun `json:"successfulFinishedRuns"`
	FailedFinishedRuns     []FinishedRun `json:"failedFinishedRuns"`
	// SkippedRuns are instants a schedule did not start a run at, and why
	// (deadline passed while the framework was down, FORBID overlap ...).
	SkippedRuns []SkippedRun `json:"skippedRuns"`
}

// FinishedRun is a run in the history.
type FinishedRun struct {
	ID          string     `json:"id"`
	Trigger     string     `json:"trigger,omitempty"`
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	FinishedAt  time.Time  `json:"finishedAt"`
	Tasks       []string   `json:"tasks,omitempty"`
	ExitCode    *int       `json:"exitCode,omitempty"`
	Message     string     `json:"message,omitempty"`
}

// SkippedRun is a scheduled instant that started no run.
type SkippedRun struct {
	ScheduleID  string    `json:"scheduleId"`
	ScheduledAt time.Time `json:"scheduledAt"`
	RecordedAt  time.Time `json:"recordedAt"`
	Reason      string    `json:"reason"`
}

// Dependencies are a job's place in the DAG.
type Dependencies struct {
	Parents  []string `json:"parents"`
	Children []string `json:"children,omitempty"` // read only
}

// Embeds.
const (
	EmbedHistory        = "history"
	EmbedHistorySummary = "historySummary"
	EmbedActiveRuns     = "activeRuns"
	EmbedSchedules      = "schedules"
)

// Error is every error answer.
type Error struct {
	Message string        `json:"message"`
	Details []ErrorDetail `json:"details,omitempty"`
}

// ErrorDetail names a field (a JSON pointer) and what is wrong with it.
type ErrorDetail struct {
	Path   string   `json:"path"`
	Errors []string `json:"errors"`
}
