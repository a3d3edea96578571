package devredis

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/redis/go-redis/v9"
)

// Snapshot is the whole content of a Redis database, as saved to a file.
// Values are bytes (base64 in the file): Redis strings need not be UTF-8.
type Snapshot struct {
	// Version is the file format's version, snapshotVersion.
	Version int   `json:"version"`
	Keys    []Key `json:"keys"`
}

// Key is one key of a Snapshot.
type Key struct {
	Name []byte `json:"name"`
	// Type is Redis's name of the key's type: string, list, set, hash,
	// zset or stream.
	Type string `json:"type"`
	// TTLMs is the key's time to live in milliseconds; 0 means none.
	TTLMs int64 `json:"ttlMs,omitempty"`
	// Values: string: the value; list: the items in order; set: the
	// members; hash: field, value, ...; zset: member, score (as Redis
	// writes it), ....
	Values [][]byte `json:"values,omitempty"`
	// Entries are a stream's entries, oldest first.
	Entries []Entry `json:"entries,omitempty"`
}

// Entry is one stream entry.
type Entry struct {
	ID     string   `json:"id"`
	Fields [][]byte `json:"fields"` // field, value, ...
}

const snapshotVersion = 1

//go:embed snapshot.lua
var snapshotLua string

var snapshotScript = redis.NewScript(snapshotLua)

// Take reads every key of rdb's database in one atomic step.
func Take(ctx context.Context, rdb redis.Scripter) (*Snapshot, error) {
	reply, err := snapshotScript.Run(ctx, rdb, nil).Slice()
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	s := &Snapshot{Version: snapshotVersion, Keys: make([]Key, 0, len(reply))}
	for _, r := range reply {
		k, err := decodeKey(r)
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		s.Keys = append(s.Keys, k)
	}
	return s, nil
}

// decodeKey decodes one {key, type, pttl, contents} of snapshot.lua's reply.
func decodeKey(r any) (Key, error) {
	f, ok := r.([]any)
	if !ok || len(f) != 4 {
		return Key{}, fmt.Errorf("malformed reply %v", r)
	}
	name, _ := f[0].(string)
	typ, _ := f[1].(string)
	ttl, _ := f[2].(int64)
	contents, _ := f[3].([]any)
	k := Key{Name: []byte(name), Type: typ}
	if ttl > 0 {
		k.TTLMs = ttl
	}
	if typ != "stream" {
		vs, err := byteSlices(contents)
		if err != nil {
			return Key{}, fmt.Errorf("key %q: %w", name, err)
		}
		k.Values = vs
		return k, nil
	}
	for _, e := range contents {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return Key{}, fmt.Errorf("key %q: malformed stream entry %v", name, e)
		}
		id, _ := pair[0].(string)
		fields, _ := pair[1].([]any)
		fs, err := byteSlices(fields)
		if err != nil {
			return Key{}, fmt.Errorf("key %q: %w", name, err)
		}
		k.Entries = append(k.Entries, Entry{ID: id, Fields: fs})
	}
	return k, nil
}

func byteSlices(vs []any) ([][]byte, error) {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("value %v is not a string", v)
		}
		out[i] = []byte(s)
	}
	return out, nil
}

// Restore writes s into rdb's database, which should be empty: keys that
// exist are added to, not replaced.
func (s *Snapshot) Restore(ctx context.Context, rdb redis.Cmdable) error {
	const chunk = 512 // values per command, to keep each command small
	pipe := rdb.Pipeline()
	for _, k := range s.Keys {
		name := string(k.Name)
		var cmd string
		step := 1
		switch k.Type {
		case "string":
			if len(k.Values) != 1 {
				return fmt.Errorf("restore: string key %q has %d values", name, len(k.Values))
			}
			pipe.Do(ctx, "SET", name, k.Values[0])
		case "list":
			cmd = "RPUSH"
		case "set":
			cmd = "SADD"
		case "hash":
			cmd, step = "HSET", 2
		case "zset":
			cmd, step = "ZADD", 2
		case "stream":
			for _, e := range k.Entries {
				args := []any{"XADD", name, e.ID}
				for _, f := range e.Fields {
					args = append(args, f)
				}
				pipe.Do(ctx, args...)
			}
		default:
			return fmt.Errorf("restore: key %q has unknown type %q", name, k.Type)
		}
		if cmd != "" {
			if len(k.Values)%step != 0 {
				return fmt.Errorf("restore: %s key %q has an odd number of values", k.Type, name)
			}
			for i := 0; i < len(k.Values); i += chunk * step {
				args := []any{cmd, name}
				for j := i; j < min(i+chunk*step, len(k.Values)); j += step {
					if k.Type == "zset" {
						// ZADD takes the score first.
						args = append(args, k.Values[j+1], k.Values[j])
					} else {
						for _, v := range k.Values[j : j+step] {
							args = append(args, v)
						}
					}
				}
				pipe.Do(ctx, args...)
			}
		}
		if k.TTLMs > 0 {
			pipe.PExpire(ctx, name, msDuration(k.TTLMs))
		}
		if pipe.Len() >= 1000 {
			if _, err := pipe.Exec(ctx); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// Encode returns the snapshot as the file holds it.
func (s *Snapshot) Encode() ([]byte, error) { return json.Marshal(s) }

// ReadFile reads a snapshot file; a missing file is a nil Snapshot and no
// error.
func ReadFile(path string) (*Snapshot, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s Snapshot
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: not a queue snapshot: %w", path, err)
	}
	if s.Version != snapshotVersion {
		return nil, fmt.Errorf("%s: snapshot version %d, this eventsd reads version %d", path, s.Version, snapshotVersion)
	}
	return &s, nil
}

// writeFileAtomic replaces path with b so that a crash at any moment leaves
// either the old file or the new one, whole: it writes a temporary file in
// the same directory, fsyncs it, renames it over path and fsyncs the
// directory.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, there is nothing to remove
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some systems cannot fsync a directory; the rename stands anyway.
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
