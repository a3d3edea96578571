package webhooks

import (
	"fmt"
	"strings"

	"github.com/eventsd/eventsd/internal/events"
)

// MaxPatterns bounds the patterns of one subscription.
const MaxPatterns = 50

// CheckPattern returns an error unless p is an event name pattern: "*", an
// exact event name, or a name prefix followed by ".*" ("user.*"). A "*"
// anywhere else is refused, as is an empty segment before ".*".
func CheckPattern(p string) error {
	if p == "*" {
		return nil
	}
	name := p
	if prefix, ok := strings.CutSuffix(p, ".*"); ok {
		if prefix == "" || strings.HasSuffix(prefix, ".") {
			return fmt.Errorf("pattern %q: want a name before .*", p)
		}
		name = prefix
	}
	if strings.Contains(name, "*") {
		return fmt.Errorf("pattern %q: * is allowed alone or as a final .* segment", p)
	}
	if clean, err := events.CleanName(name); err != nil {
		return fmt.Errorf("pattern %q: %v", p, err)
	} else if clean != name {
		return fmt.Errorf("pattern %q: surrounding white space", p)
	}
	return nil
}

// Match reports whether the event name matches pattern p: "*" matches
// every name, "user.*" every name that starts with "user." (not "user"
// itself, nor "users.x"), and any other pattern only itself.
func Match(p, name string) bool {
	if p == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(p, ".*"); ok {
		return len(name) > len(prefix)+1 && strings.HasPrefix(name, prefix+".")
	}
	return p == name
}

// MatchAny reports whether name matches any of patterns.
func MatchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if Match(p, name) {
			return true
		}
	}
	return false
}
