package queue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A job's immutable part is stored as one string,
// "<addedAt ms>;<nameLen>;<optsLen>;<name><options JSON><payload>", so that
// the payload is stored and returned byte for byte and the scripts can read
// the header without decoding JSON. The add script prepends the time.

func encodeTail(name string, opts JobOptions, data []byte) (string, error) {
	o, err := json.Marshal(opts)
	if err != nil {
		return "", fmt.Errorf("queue: encode options: %w", err)
	}
	var b strings.Builder
	b.Grow(24 + len(name) + len(o) + len(data))
	b.WriteString(strconv.Itoa(len(name)))
	b.WriteByte(';')
	b.WriteString(strconv.Itoa(len(o)))
	b.WriteByte(';')
	b.WriteString(name)
	b.Write(o)
	b.Write(data)
	return b.String(), nil
}

// decodeRecord fills j's immutable fields from a stored record.
func decodeRecord(j *Job, rec string) error {
	var hdr [3]int64
	rest := rec
	for i := range hdr {
		k := strings.IndexByte(rest, ';')
		if k < 0 {
			return fmt.Errorf("queue: job %s: malformed record", j.ID)
		}
		n, err := strconv.ParseInt(rest[:k], 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("queue: job %s: malformed record", j.ID)
		}
		hdr[i], rest = n, rest[k+1:]
	}
	nl, ol := int(hdr[1]), int(hdr[2])
	if nl+ol > len(rest) {
		return fmt.Errorf("queue: job %s: truncated record", j.ID)
	}
	j.AddedAt = time.UnixMilli(hdr[0]).UTC()
	j.Name = rest[:nl]
	if err := json.Unmarshal([]byte(rest[nl:nl+ol]), &j.Options); err != nil {
		return fmt.Errorf("queue: job %s: options: %w", j.ID, err)
	}
	j.Data = []byte(rest[nl+ol:])
	return nil
}

// runState is a job's mutable counters: "<deliveries>,<failures>,<stalls>,<startedAt ms>".
type runState struct {
	deliveries, failures, stalls int64
	startedAt                    time.Time
}

func parseRun(s string) runState {
	var r runState
	parts := strings.SplitN(s, ",", 4)
	if len(parts) != 4 {
		return r
	}
	r.deliveries, _ = strconv.ParseInt(parts[0], 10, 64)
	r.failures, _ = strconv.ParseInt(parts[1], 10, 64)
	r.stalls, _ = strconv.ParseInt(parts[2], 10, 64)
	if ms, _ := strconv.ParseInt(parts[3], 10, 64); ms > 0 {
		r.startedAt = time.UnixMilli(ms).UTC()
	}
	return r
}

// rawJSON returns s as JSON, or nil when it is empty.
func rawJSON(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// encodeValue renders a progress or result value as JSON. A []byte or
// json.RawMessage that holds valid JSON is stored as is.
func encodeValue(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case json.RawMessage:
		if json.Valid(v) {
			return string(v), nil
		}
		return "", fmt.Errorf("%w: value is not valid JSON", ErrInvalid)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("%w: value is not JSON-encodable: %v", ErrInvalid, err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
