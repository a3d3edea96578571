package queue

import (
	"strings"
	"unicode"

	"github.com/google/uuid"
)

// Generated job ids are UUIDv7 in canonical form, made by the client: the
// time in milliseconds, a sequence and random bits. They are unique without
// trusting anything Redis holds, so a Redis that restarts from an older
// snapshot, loses its last second of AOF, or fails over to a lagging replica
// cannot hand out an id it gave before (stores key event idempotency on job
// ids, and a reused id would silently drop an event). Their text sorts in
// the order they were made, within a process.
//
// Custom ids may be any string of at most 256 bytes without control
// characters except one of that exact form, which is kept for generated
// ids: the two kinds can never meet.

func newJobID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// Only when the system's random source fails; fall back to v4, which
		// panics then too.
		return uuid.NewString()
	}
	return id.String()
}

func validCustomID(id string) error {
	switch {
	case len(id) > 256 || strings.IndexFunc(id, unicode.IsControl) >= 0:
		return invalidf("custom id must be at most 256 bytes without control characters")
	case generatedForm(id):
		return invalidf("custom id %q has the form of a generated id (a lowercase UUIDv7); choose another form", id)
	}
	return nil
}

// generatedForm reports whether id is a lowercase, canonical UUID of version
// 7 and the RFC 9562 variant: what newJobID makes.
func generatedForm(id string) bool {
	if len(id) != 36 || strings.ToLower(id) != id {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.Version() == 7 && u.Variant() == uuid.RFC4122 && u.String() == id
}
