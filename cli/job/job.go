// Package job is "cairn job": commands that run on schedules (cron
// expressions or ISO 8601 repeating intervals), after their parent jobs,
// or on demand, run by the cron framework (Metronome's jobs API, proxied by
// the master at /service/cron/).
package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/cli/cmdutil"
	"github.com/cairn-dc/cairn/cli/output"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
	"github.com/cairn-dc/cairn/kernel/resources"
)

// NewCmdJob returns "cairn job" and its verbs.
func NewCmdJob(f *cmdutil.Factory) *cobra.Command {
	cmd := cmdutil.NewNounCmd("job", "Run commands on schedules, or after other jobs",
		"Jobs run a command on the cluster, each run a task with its own resources:\n"+
			"on schedules (5-field cron expressions such as \"0 2 * * *\" or @daily, in a time\n"+
			"zone; or ISO 8601 repeating intervals such as R/2026-12-01T00:00:00Z/PT6H),\n"+
			"after their parent jobs have succeeded (a job has schedules or parents, not\n"+
			"both), or when you run them with cairn job run. Failed runs may be retried\n"+
			"(restart policy ON_FAILURE); instants a schedule could not start are recorded\n"+
			"as skipped, with why.\n\n"+
			"Jobs are run by the cron framework (Metronome's jobs API; job definitions are\n"+
			"Metronome's JSON), installed with cairn package install cron.\n\n"+
			"Job ids are dot paths of lower-case letters, digits and dashes, e.g.\n"+
			"prod.reports.daily.")
	cmd.Aliases = []string{"jobs"}
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdShow(f, nil),
		NewCmdAdd(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdRemove(f, nil),
		NewCmdRun(f, nil),
		NewCmdStop(f, nil),
		NewCmdHistory(f, nil),
		NewCmdSchedule(f),
		NewCmdGraph(f, nil),
	)
	return cmd
}

// noCron is what every verb says when the cron framework is not connected.
const noCron = "the cron framework is not running: install it with cairn package install cron (see cairn framework list)"

// exampleJob is a job definition for help texts and error messages.
const exampleJob = `{"id": "prod.reports.daily", "run": {"cmd": "./report.sh", "cpus": 0.5, "mem": 256}, ` +
	`"schedules": [{"id": "nightly", "cron": "0 2 * * *", "timezone": "Europe/Paris"}]}`

// exampleSchedule is a schedule for help texts and error messages.
const exampleSchedule = `{"id": "nightly", "cron": "0 2 * * *", "timezone": "Europe/Paris", "concurrencyPolicy": "FORBID"}`

// parseJobID checks a job id argument.
func parseJobID(s string) (string, error) {
	id := strings.TrimSpace(s)
	if err := apiclient.ValidateJobID(id); err != nil {
		return "", cmdutil.AsUsageError(err)
	}
	return id, nil
}

// parseSegment checks a schedule or run id argument.
func parseSegment(what, s string) (string, error) {
	id := strings.TrimSpace(s)
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\ \t\r\n") {
		return "", cmdutil.UsageErrorf("%s %q is not valid: give it as cairn job shows it", what, s)
	}
	return id, nil
}

// apiError reports a failed call ("doing" says what was being done): the
// cron framework's absence in the CLI's words, the rest after doing.
func apiError(err error, doing string) error {
	var nse *apiclient.NoServiceError
	switch {
	case errors.As(err, &nse):
		return cmdutil.Hintf(err, "%s", noCron)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// jobError is apiError for calls about job id: a 404 says the job does
// not exist.
func jobError(err error, id, doing string) error {
	if apiclient.JobErrorStatus(err) == http.StatusNotFound {
		return cmdutil.Hintf(err, "job %s does not exist (see cairn job list)", id)
	}
	return apiError(err, doing)
}

// missing reports a 404 about something of job id (what: "run R",
// "schedule S"): the job itself may be what is missing, which one more
// call tells.
func missing(ctx context.Context, client *apiclient.Client, err error, id, what, hint string) error {
	if _, jerr := client.Job(ctx, id); apiclient.JobErrorStatus(jerr) == http.StatusNotFound {
		return cmdutil.Hintf(err, "job %s does not exist (see cairn job list)", id)
	}
	return cmdutil.Hintf(err, "job %s has no %s (%s)", id, what, hint)
}

// frameworkMessage is the cron framework's message in err, or err's text.
func frameworkMessage(err error) string {
	var je *apiclient.JobError
	if errors.As(err, &je) && je.Message != "" {
		return je.Message
	}
	return err.Error()
}

// invalid handles the cron framework's 422: it prints each failing field
// on its own line to errOut, under "<Subject> is not valid:", and returns
// an error counting them, telling what to do (nil when err is something
// else).
func invalid(errOut io.Writer, err error, subject, what, fix string) error {
	var je *apiclient.JobError
	if !errors.As(err, &je) || je.StatusCode() != http.StatusUnprocessableEntity {
		return nil
	}
	fmt.Fprintf(errOut, "%s is not valid:\n", capitalize(subject))
	n := 0
	for _, d := range je.Details {
		path := output.Clean(d.Path)
		if path == "" {
			path = "/"
		}
		for _, e := range d.Errors {
			fmt.Fprintf(errOut, "  %s: %s\n", path, output.Clean(e))
			n++
		}
		if len(d.Errors) == 0 {
			fmt.Fprintf(errOut, "  %s: %s\n", path, output.Clean(je.Message))
			n++
		}
	}
	if n == 0 {
		fmt.Fprintf(errOut, "  %s\n", output.Clean(je.Message))
		n = 1
	}
	return cmdutil.Hintf(err, "invalid %s (%s above): %s", what, plural(n, "problem"), fix)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// plural prints "1 run", "2 runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// promptOptions are what the commands that ask before acting share.
type promptOptions struct {
	// InIsTerminal says whether the standard input is a terminal, to ask
	// on.
	InIsTerminal bool
	// Yes answers yes to the question.
	Yes bool
}

func (o *promptOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation (required when the standard input is not a terminal)")
}

// check fails early when there is no one to ask and --yes is not given.
func (o *promptOptions) check(doing string) error {
	if !o.Yes && !o.InIsTerminal {
		return cmdutil.UsageErrorf("the standard input is not a terminal, so there is no one to ask before %s: pass --yes to go ahead", doing)
	}
	return nil
}

// confirm asks question on errOut, unless --yes; a "no" is an error saying
// what was not done.
func (o *promptOptions) confirm(in io.Reader, errOut io.Writer, question, notDone string) error {
	if o.Yes {
		return nil
	}
	ok, err := cmdutil.Confirm(in, errOut, question)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("cancelled: " + notDone)
	}
	return nil
}

// nowOf is the options' clock, or time.Now.
func nowOf(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// relative prints t against now for a table: "in 42s", "3m ago", "now".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d >= time.Second:
		return "in " + output.Age(d)
	case d <= -time.Second:
		return output.Age(-d) + " ago"
	}
	return "now"
}

// timestamp prints t in RFC 3339 (UTC) with where it is from now:
// "2026-03-01T02:00:00Z (in 5h)".
func timestamp(t, now time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + relative(t, now) + ")"
}

// optTimestamp is timestamp for an optional time ("" when nil).
func optTimestamp(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return timestamp(*t, now)
}

// duration prints a duration for people, in at most two units: "42s",
// "1m30s", "2h5m", "3d4h".
func duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return twoUnits(s/60, "m", s%60, "s")
	case s < 48*3600:
		return twoUnits(s/3600, "h", s%3600/60, "m")
	}
	return twoUnits(s/86400, "d", s%86400/3600, "h")
}

func twoUnits(a int64, ua string, b int64, ub string) string {
	out := strconv.FormatInt(a, 10) + ua
	if b > 0 {
		out += strconv.FormatInt(b, 10) + ub
	}
	return out
}

// seconds prints a number of seconds as a duration ("" for 0).
func seconds(n int) string {
	if n <= 0 {
		return ""
	}
	return duration(time.Duration(n) * time.Second)
}

// timeZone is a schedule's zone (UTC by default).
func timeZone(s cronapi.Schedule) string {
	if s.TimeZone == "" {
		return "UTC"
	}
	return s.TimeZone
}

// ScheduleSpec prints when a schedule fires: "*/5 * * * * UTC", or its
// interval (with its zone when it has one).
func ScheduleSpec(s cronapi.Schedule) string {
	switch {
	case s.Cron != "":
		return s.Cron + " " + timeZone(s)
	case s.Interval != "" && s.TimeZone != "":
		return s.Interval + " " + s.TimeZone
	}
	return s.Interval
}

// Schedules prints a job's schedules for a table: "every-minute: * * *
// * * UTC, nightly: ..." (without their ids unless withIDs: "* * * * *
// UTC, ..."), or "after a.b, c.d" for a dependent job.
func Schedules(j cronapi.Job, withIDs bool) string {
	if len(j.Parents) > 0 {
		return "after " + strings.Join(j.Parents, ", ")
	}
	parts := make([]string, 0, len(j.Schedules))
	for _, s := range j.Schedules {
		spec := ScheduleSpec(s)
		if withIDs {
			spec = s.ID + ": " + spec
		}
		if !s.IsEnabled() {
			spec += " (disabled)"
		}
		parts = append(parts, spec)
	}
	return strings.Join(parts, ", ")
}

// NextRun is the soonest next run of a job's enabled schedules (nil when
// none fires).
func NextRun(ss []cronapi.Schedule) *time.Time {
	var next *time.Time
	for _, s := range ss {
		if s.IsEnabled() && s.NextRunAt != nil && (next == nil || s.NextRunAt.Before(*next)) {
			next = s.NextRunAt
		}
	}
	return next
}

// Command is what a job runs: its cmd, or its args (quoted when needed).
func Command(r cronapi.JobRun) string {
	if r.Cmd != "" {
		return r.Cmd
	}
	parts := make([]string, len(r.Args))
	for i, a := range r.Args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`") {
			a = strconv.Quote(a)
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// RunResources prints a run's resources: "cpus 0.5 · mem 256 MiB".
func RunResources(r cronapi.JobRun) string {
	var parts []string
	if r.CPUs > 0 {
		parts = append(parts, "cpus "+strconv.FormatFloat(r.CPUs, 'f', -1, 64))
	}
	if r.Mem > 0 {
		parts = append(parts, "mem "+output.Mem(resources.FromFloat(r.Mem)))
	}
	if r.Disk > 0 {
		parts = append(parts, "disk "+output.Mem(resources.FromFloat(r.Disk)))
	}
	return strings.Join(parts, " · ")
}

// restartPolicy prints a restart policy: "ON_FAILURE, at most 3 retries,
// back-off from 1s, deadline 1h".
func restartPolicy(r *cronapi.Restart) string {
	if r == nil || r.Policy == "" {
		return cronapi.RestartNever
	}
	parts := []string{r.Policy}
	if r.MaxRetries > 0 {
		retries := "at most 1 retry"
		if r.MaxRetries > 1 {
			retries = "at most " + strconv.Itoa(r.MaxRetries) + " retries"
		}
		parts = append(parts, retries)
	}
	if r.BackoffSeconds > 0 {
		parts = append(parts, "back-off from "+duration(time.Duration(r.BackoffSeconds*float64(time.Second))))
	}
	if r.ActiveDeadlineSeconds > 0 {
		parts = append(parts, "deadline "+seconds(r.ActiveDeadlineSeconds))
	}
	return strings.Join(parts, ", ")
}

// keyValues prints a map sorted by key: "a=1, b=2".
func keyValues(m map[string]string) string {
	keys := sortedKeys(m)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// exitCode prints an optional exit code ("" when unknown).
func exitCode(c *int) string {
	if c == nil {
		return ""
	}
	return strconv.Itoa(*c)
}

// lastTask is a run's latest task (attempt), if it has one.
func lastTask(r cronapi.Run) (cronapi.RunTask, bool) {
	if len(r.Tasks) == 0 {
		return cronapi.RunTask{}, false
	}
	return r.Tasks[len(r.Tasks)-1], true
}

// printScheduleLines prints a job's schedules and next runs under "Added
// job ..." or "Updated job ...".
func printScheduleLines(w io.Writer, j cronapi.Job, now time.Time) {
	switch {
	case len(j.Parents) > 0:
		fmt.Fprintf(w, "  runs after %s succeeded\n", strings.Join(j.Parents, ", "))
	case len(j.Schedules) == 0:
		fmt.Fprintf(w, "  no schedule: run it with cairn job run %s, or add one with cairn job schedule add %s --cron '...'\n", j.ID, j.ID)
	}
	for _, s := range j.Schedules {
		fmt.Fprintf(w, "  schedule %s (%s): %s\n", output.Clean(s.ID), output.Clean(ScheduleSpec(s)), nextRunText(s, now))
	}
}

// nextRunText says when a schedule fires next.
func nextRunText(s cronapi.Schedule, now time.Time) string {
	switch {
	case !s.IsEnabled():
		return "disabled"
	case s.NextRunAt == nil:
		return "no next run"
	}
	return "next run " + timestamp(*s.NextRunAt, now)
}
