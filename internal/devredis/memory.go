package devredis

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// SnapshotFile is the name of Memory's snapshot in its directory.
const SnapshotFile = "queue-snapshot.json"

// SaveEvery is how often Memory saves its state: at most this much is lost
// when eventsd is killed.
const SaveEvery = time.Second

// Memory is an in-process Redis-protocol server whose state is saved to a
// file in its directory every SaveEvery and when it stops, and loaded when
// it starts.
type Memory struct {
	mr   *miniredis.Miniredis
	rdb  *redis.Client
	file string
	log  *slog.Logger
	last []byte // the last state saved, to skip writing an unchanged one
}

// StartMemory starts the server on a loopback port with the state saved in
// dir (created if missing). Run saves and, at its end, stops it.
func StartMemory(ctx context.Context, dir string, log *slog.Logger) (*Memory, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("queue state directory: %w", err)
	}
	m := &Memory{mr: miniredis.NewMiniRedis(), file: filepath.Join(dir, SnapshotFile), log: log}
	if err := m.mr.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start the in-process Redis server: %w", err)
	}
	m.rdb = redis.NewClient(&redis.Options{Addr: m.mr.Addr()})
	if err := m.load(ctx); err != nil {
		m.close()
		return nil, err
	}
	return m, nil
}

// Addr is the server's host:port.
func (m *Memory) Addr() string { return m.mr.Addr() }

// File is the snapshot's path.
func (m *Memory) File() string { return m.file }

func (m *Memory) load(ctx context.Context) error {
	s, err := ReadFile(m.file)
	if err != nil {
		return fmt.Errorf("load the queue state: %w (move the file away to start empty)", err)
	}
	if s == nil {
		return nil
	}
	if err := s.Restore(ctx, m.rdb); err != nil {
		return fmt.Errorf("load the queue state from %s: %w", m.file, err)
	}
	m.last, _ = s.Encode()
	m.log.Info("dev: queue state loaded", "file", m.file, "keys", len(s.Keys))
	return nil
}

// Run saves the state every SaveEvery until ctx ends, then saves it a last
// time and stops the server. A failed save is logged and tried again the
// next time; only the last one's failure is Run's error.
//
// It also lets time pass for the server's TTLs, which miniredis, made for
// tests, only moves on when told: keys set to expire (the queue remembers
// each request's reply for a minute) expire within about SaveEvery of when
// Redis would expire them, instead of piling up.
func (m *Memory) Run(ctx context.Context) error {
	defer m.close()
	t := time.NewTicker(SaveEvery)
	defer t.Stop()
	var failing bool
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			// Nothing else uses the server now: this save is the last state.
			return m.save(context.WithoutCancel(ctx))
		case <-t.C:
		}
		now := time.Now()
		m.mr.FastForward(now.Sub(last))
		last = now
		err := m.save(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			m.log.Warn("dev: cannot save the queue state; trying again every second", "file", m.file, "err", err)
		case err == nil && failing:
			m.log.Info("dev: queue state saved again", "file", m.file)
		}
		failing = err != nil
	}
}

// save writes the state to the file unless it has not changed.
func (m *Memory) save(ctx context.Context) error {
	s, err := Take(ctx, m.rdb)
	if err != nil {
		return err
	}
	b, err := s.Encode()
	if err != nil {
		return err
	}
	if bytes.Equal(b, m.last) {
		return nil
	}
	if err := writeFileAtomic(m.file, b); err != nil {
		return err
	}
	m.last = b
	return nil
}

func (m *Memory) close() {
	m.rdb.Close()
	m.mr.Close()
}

// msDuration converts milliseconds to a Duration.
func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
