package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DefaultMaxDataBytes is the default limit on an event's data, as compact
// JSON: 64 KiB.
const DefaultMaxDataBytes = 64 << 10

// MaxDataDepth bounds how deeply an event's data may nest objects and
// arrays, counting the data object itself as 1. Event data is a record of
// what happened, not a tree; the bound keeps recursive code in clients and
// databases safe.
const MaxDataDepth = 64

// ErrInvalidData is event data that no store may hold: not a JSON object,
// malformed, or past a limit. The wrapping error says which.
var ErrInvalidData = errors.New("invalid event data")

// CleanData checks an event's data and returns it as stores keep it: compact
// JSON, its object keys in the order given, numbers spelled as given,
// strings re-encoded as valid UTF-8 (an invalid byte or a lone surrogate
// escape becomes U+FFFD) without HTML escaping. Empty data and JSON null
// mean no data and return nil.
//
// It refuses, with an error wrapping ErrInvalidData, what some store could
// not hold or hold faithfully: anything but an object, a key repeated in one
// object, the character U+0000 (PostgreSQL's jsonb cannot store it), a
// number beyond the range of a double, nesting deeper than MaxDataDepth, and,
// when maxBytes > 0, a result longer than maxBytes.
func CleanData(raw json.RawMessage, maxBytes int) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, nil
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: want a JSON object, got %s", ErrInvalidData, jsonKind(trimmed[0]))
	}
	if canonical(trimmed) {
		// Already as stores keep it, as data eventsd wrote itself usually
		// is: handed back as it is, sharing raw's memory.
		if maxBytes > 0 && len(trimmed) > maxBytes {
			return nil, fmt.Errorf("%w: %d bytes as compact JSON; the limit is %d", ErrInvalidData, len(trimmed), maxBytes)
		}
		return json.RawMessage(trimmed), nil
	}
	var c dataCleaner
	out, err := c.clean(trimmed)
	if err != nil {
		return nil, err
	}
	if maxBytes > 0 && len(out) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes as compact JSON; the limit is %d", ErrInvalidData, len(out), maxBytes)
	}
	return out, nil
}

// dataCleaner writes the canonical form of the JSON it reads, token by
// token, checking as it goes.
type dataCleaner struct {
	dec *json.Decoder
	out bytes.Buffer
}

// clean returns the canonical form of the object in b, or why it has none.
func (c *dataCleaner) clean(b []byte) (json.RawMessage, error) {
	c.dec = json.NewDecoder(bytes.NewReader(b))
	c.dec.UseNumber()
	if err := c.value(0); err != nil {
		return nil, err
	}
	if _, err := c.dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: not valid JSON: more after the object", ErrInvalidData)
	}
	return json.RawMessage(c.out.Bytes()), nil
}

// value copies one JSON value at nesting depth (0 for the data object).
func (c *dataCleaner) value(depth int) error {
	tok, err := c.dec.Token()
	if err != nil {
		return malformed(err)
	}
	switch tok := tok.(type) {
	case json.Delim:
		if depth+1 > MaxDataDepth {
			return fmt.Errorf("%w: nested more than %d levels deep", ErrInvalidData, MaxDataDepth)
		}
		if tok == '{' {
			return c.object(depth + 1)
		}
		return c.array(depth + 1)
	case string:
		return c.str(tok)
	case json.Number:
		if _, err := strconv.ParseFloat(string(tok), 64); err != nil {
			return fmt.Errorf("%w: the number %.40s is out of range: numbers must fit a double", ErrInvalidData, tok)
		}
		c.out.WriteString(string(tok))
	case bool:
		c.out.WriteString(strconv.FormatBool(tok))
	case nil:
		c.out.WriteString("null")
	}
	return nil
}

func (c *dataCleaner) object(depth int) error {
	c.out.WriteByte('{')
	seen := make(map[string]struct{})
	for c.dec.More() {
		tok, err := c.dec.Token()
		if err != nil {
			return malformed(err)
		}
		key := tok.(string) // the decoder allows only a string here
		if _, dup := seen[key]; dup {
			return fmt.Errorf("%w: the key %.40q appears twice in one object", ErrInvalidData, key)
		}
		seen[key] = struct{}{}
		if len(seen) > 1 {
			c.out.WriteByte(',')
		}
		if err := c.str(key); err != nil {
			return err
		}
		c.out.WriteByte(':')
		if err := c.value(depth); err != nil {
			return err
		}
	}
	if _, err := c.dec.Token(); err != nil {
		return malformed(err)
	}
	c.out.WriteByte('}')
	return nil
}

func (c *dataCleaner) array(depth int) error {
	c.out.WriteByte('[')
	for i := 0; c.dec.More(); i++ {
		if i > 0 {
			c.out.WriteByte(',')
		}
		if err := c.value(depth); err != nil {
			return err
		}
	}
	if _, err := c.dec.Token(); err != nil {
		return malformed(err)
	}
	c.out.WriteByte(']')
	return nil
}

// str writes s as a JSON string: valid UTF-8, <, > and & as themselves.
func (c *dataCleaner) str(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: the character U+0000 is not allowed", ErrInvalidData)
	}
	enc := json.NewEncoder(&c.out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	c.out.Truncate(c.out.Len() - 1) // Encode ends with a newline
	return nil
}

func malformed(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: not valid JSON: %v", ErrInvalidData, err)
}

// jsonKind names the kind of JSON value that starts with b.
func jsonKind(b byte) string {
	switch {
	case b == '[':
		return "an array"
	case b == '"':
		return "a string"
	case b == 't' || b == 'f':
		return "a boolean"
	case b == '-' || (b >= '0' && b <= '9'):
		return "a number"
	}
	return "something that is not JSON"
}
