package protocol

import (
	"crypto/rand"
	"fmt"
	"regexp"

	"github.com/oklog/ulid/v2"
)

// IDs. Framework and agent IDs appear as NATS subject tokens, so they are
// restricted to [A-Za-z0-9_-]; Cairn generates ULIDs for them. Task IDs are
// chosen by frameworks and may also contain dots (Marathon style
// "prod_web.3f2a...").
type (
	FrameworkID string
	AgentID     string
	OfferID     string
	TaskID      string
	ExecutorID  string
)

// NewID returns a new ULID (26 characters, sortable by creation time).
func NewID() string { return ulid.MustNew(ulid.Now(), rand.Reader).String() }

var (
	tokenRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	taskIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
)

// ValidateToken checks an ID that is used as a NATS subject token (framework
// and agent IDs): 1–64 characters of [A-Za-z0-9_-].
func ValidateToken(field, id string) error {
	if !tokenRE.MatchString(id) {
		return fmt.Errorf("%s %q is not a valid id: use 1-64 characters of A-Z a-z 0-9 _ - (no dots or spaces)", field, id)
	}
	return nil
}

// ValidateTaskID checks a task ID: 1–200 characters of [A-Za-z0-9_.-],
// with dots only between other characters (no leading, trailing or double
// dots: task IDs are part of state keys).
func ValidateTaskID(field string, id TaskID) error {
	if len(id) > 200 || !taskIDRE.MatchString(string(id)) {
		return fmt.Errorf("%s %q is not a valid task id: use 1-200 characters of A-Z a-z 0-9 _ . - (dots only between other characters)", field, id)
	}
	return nil
}
