package job

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"

	"github.com/cairn-dc/cairn/cli/apiclient"
	"github.com/cairn-dc/cairn/frameworks/cron/cronapi"
)

// maxDefinitionBytes bounds a job or schedule file.
const maxDefinitionBytes = 1 << 20

// readJob reads a job definition (Metronome's JSON, schedules embedded)
// from a file, or from in for "-", and checks its id. Read-only fields
// (history, activeRuns, nextRunAt ...: what cairn job show --json prints)
// are dropped, so a shown job can be edited and updated. source says where
// it was read ("job.json", "the standard input").
func readJob(path string, in io.Reader) (job cronapi.Job, source string, err error) {
	source, err = readJSON(path, in, "job", exampleJob, &job)
	if err != nil {
		return job, source, err
	}
	if job.ID == "" {
		return job, source, fmt.Errorf(`the job in %s has no id: give one such as "id": "prod.reports.daily"`, source)
	}
	if err := apiclient.ValidateJobID(job.ID); err != nil {
		return job, source, fmt.Errorf("the job in %s: %w", source, err)
	}
	job.History, job.HistorySummary, job.ActiveRuns = nil, nil, nil
	for i := range job.Schedules {
		job.Schedules[i].NextRunAt = nil
	}
	return job, source, nil
}

// readSchedule reads a schedule from a file, or from in for "-".
func readSchedule(path string, in io.Reader) (s cronapi.Schedule, source string, err error) {
	source, err = readJSON(path, in, "schedule", exampleSchedule, &s)
	if err != nil {
		return s, source, err
	}
	if s.ID == "" {
		return s, source, fmt.Errorf(`the schedule in %s has no id: give one such as "id": "nightly"`, source)
	}
	s.NextRunAt = nil
	return s, source, nil
}

// readJSON decodes one JSON object from a file, or from in for "-", into
// v, strictly: unknown fields are errors, and syntax and type errors say
// where they are (line and column). what names the object ("job") and
// example shows one. It returns where the object was read.
func readJSON(path string, in io.Reader, what, example string, v any) (string, error) {
	source := path
	var r io.Reader
	if path == "-" {
		source, r = "the standard input", in
		if r == nil {
			r = strings.NewReader("")
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return source, fmt.Errorf("reading the %s: %w", what, err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxDefinitionBytes+1))
	if err != nil {
		return source, fmt.Errorf("reading the %s from %s: %w", what, source, err)
	}
	if len(data) > maxDefinitionBytes {
		return source, fmt.Errorf("the %s in %s is larger than %d MiB", what, source, maxDefinitionBytes>>20)
	}
	the := "the " + what + " in " + source
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return source, fmt.Errorf("%s is empty: give one such as %s", the, example)
	case trimmed[0] != '{' && json.Valid(trimmed):
		return source, fmt.Errorf("%s is not a JSON object: give one such as %s", the, example)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		return source, fmt.Errorf("%s holds more than one JSON value: give one %s", the, what)
	}
	if err == nil {
		return source, nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(data, se.Offset)
		return source, fmt.Errorf("%s is not valid JSON: line %d, column %d: %v", the, line, col, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return source, fmt.Errorf("%s is not valid JSON: it ends before the object does", the)
	case errors.As(err, &te):
		line, col := position(data, te.Offset)
		field := te.Field
		if field == "" {
			field = "the value"
		}
		return source, fmt.Errorf("%s is not valid: line %d, column %d: %s must be %s, not %s", the, line, col, field, kindOf(te.Type), article(te.Value))
	}
	if name, ok := unknownField(err); ok {
		where := ""
		if off := fieldOffset(data, name); off > 0 {
			line, col := position(data, off)
			where = fmt.Sprintf(" at line %d, column %d", line, col)
		}
		return source, fmt.Errorf("%s has an unknown field %q%s: the cron framework would not use it (see cairn job %s --help for the fields)",
			the, name, where, verbFor(what))
	}
	return source, fmt.Errorf("%s is not valid: %v", the, strings.TrimPrefix(err.Error(), "json: "))
}

func verbFor(what string) string {
	if what == "schedule" {
		return "schedule add"
	}
	return "add"
}

// unknownFieldRE matches encoding/json's error for an unknown field.
var unknownFieldRE = regexp.MustCompile(`^json: unknown field "(.*)"$`)

func unknownField(err error) (string, bool) {
	m := unknownFieldRE.FindStringSubmatch(err.Error())
	if m == nil {
		return "", false
	}
	return m[1], true
}

// fieldOffset is the offset (from 1) of the first key named name in data,
// or 0.
func fieldOffset(data []byte, name string) int64 {
	re, err := regexp.Compile(`"` + regexp.QuoteMeta(name) + `"\s*:`)
	if err != nil {
		return 0
	}
	loc := re.FindIndex(data)
	if loc == nil {
		return 0
	}
	return int64(loc[0]) + 1
}

// position is the line and column (from 1) of byte offset off (from 1)
// in data.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 1), int64(len(data))+1)
	before := data[:off-1]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off-1) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// kindOf names what JSON value a Go type takes.
func kindOf(t reflect.Type) string {
	if t == nil {
		return "something else"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() == "time" && t.Name() == "Time" {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "something else"
}

// article reads encoding/json's name of a value: "an array", "a string".
func article(v string) string {
	switch {
	case v == "bool":
		return "true or false"
	case v == "":
		return "that"
	case strings.HasPrefix(v, "number "):
		return v // "number 1.5" (a number that does not fit)
	case strings.ContainsRune("aeio", rune(v[0])):
		return "an " + v
	}
	return "a " + v
}
