package protocol

import (
	"crypto/rand"
	"fmt"

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

func idChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

func isToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChar(s[i]) {
			return false
		}
	}
	return true
}

func isTaskID(s string) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if i == 0 || i == len(s)-1 || s[i-1] == '.' {
				return false
			}
			continue
		}
		if !idChar(c) {
			return false
		}
	}
	return true
}

// ValidateToken checks an ID that is used as a NATS subject token (framework
// and agent IDs): 1–64 characters of [A-Za-z0-9_-].
func ValidateToken(field, id string) error {
	if !isToken(id) {
		return fmt.Errorf("%s %q is not a valid id: use 1-64 characters of A-Z a-z 0-9 _ - (no dots or spaces)", field, id)
	}
	return nil
}

// ValidateTaskID checks a task ID: 1–200 characters of [A-Za-z0-9_.-],
// with dots only between other characters (no leading, trailing or double
// dots: task IDs are part of state keys).
func ValidateTaskID(field string, id TaskID) error {
	if !isTaskID(string(id)) {
		return fmt.Errorf("%s %q is not a valid task id: use 1-200 characters of A-Z a-z 0-9 _ . - (dots only between other characters)", field, id)
	}
	return nil
}
