package events

import "unicode/utf8"

// canonical reports whether b, a JSON object, is already what CleanData
// would return for it, and passes CleanData's checks: compact, no escape in
// any string, valid UTF-8 without U+2028 or U+2029 (which CleanData
// escapes), no key twice in one object, nesting within MaxDataDepth, and
// only numbers plainly within a double's range. It is the fast path for data
// eventsd wrote itself, which every event written by a job passes through
// twice; it answers false whenever in doubt, leaving the full check to
// decide. It does not allocate.
func canonical(b []byte) bool {
	s := scanner{b: b}
	return s.object(1) && s.i == len(b)
}

// scanner reads b from i.
type scanner struct {
	b []byte
	i int
}

// maxFastKeys bounds the keys of one object the fast path compares
// pairwise; a larger object takes the full check.
const maxFastKeys = 16

// value reads one value inside a container at depth.
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return depth+1 <= MaxDataDepth && s.object(depth+1)
	case c == '[':
		return depth+1 <= MaxDataDepth && s.array(depth+1)
	case c == '"':
		_, ok := s.str()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

// object reads an object at depth, s.b[s.i] being its '{'.
func (s *scanner) object(depth int) bool {
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	if s.next('}') {
		return true
	}
	var keys [maxFastKeys][]byte
	for n := 0; ; n++ {
		key, ok := s.str()
		if !ok || n == maxFastKeys {
			return false
		}
		for _, k := range keys[:n] {
			if string(k) == string(key) {
				return false
			}
		}
		keys[n] = key
		if !s.next(':') || !s.value(depth) {
			return false
		}
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// array reads an array at depth, s.b[s.i] being its '['.
func (s *scanner) array(depth int) bool {
	s.i++
	if s.next(']') {
		return true
	}
	for {
		if !s.value(depth) {
			return false
		}
		if s.next(']') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// next consumes c if it comes next.
func (s *scanner) next(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string without escapes and returns its contents.
func (s *scanner) str() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
				return nil, false
			}
			s.i += size
		}
	}
	return nil, false
}

// literal reads word.
func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

// number reads a number in JSON's grammar that is plainly within a double's
// range: at most 15 digits before an optional fraction, and no exponent.
func (s *scanner) number() bool {
	s.next('-')
	start := s.i
	switch {
	case s.next('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.i-start > 15 {
		return false
	}
	if s.next('.') && s.digits() == 0 {
		return false
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return false
	}
	return true
}

// digits consumes decimal digits and says how many.
func (s *scanner) digits() int {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}
