package config

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"redis://user:secret@host:6379/0", "redis://user:xxxxx@host:6379/0"},
		{"redis://:secret@host", "redis://:xxxxx@host"},
		{"redis//:secret@host", "redis//:xxxxx@host"},
		{"redis:/:secret@host", "redis:/:xxxxx@host"},
		{"REDIS_URL=rediss://default:s3cr3t!@cache.example.com:6380: not a Redis URL", "REDIS_URL=rediss://default:xxxxx@cache.example.com:6380: not a Redis URL"},
		{`dial "postgres://app:pa%20ss@db/x"`, `dial "postgres://app:xxxxx@db/x"`},
		{"host=db user=app password=secret dbname=x", "host=db user=app password=xxxxx dbname=x"},
		{"mongodb://db/events?authSource=admin&password=secret&x=1", "mongodb://db/events?authSource=admin&password=xxxxx&x=1"},
		{"redis://host:6379/0", "redis://host:6379/0"},
		{"redis://user@host", "redis://user@host"},
		{"listen on :9000", "listen on :9000"},
		{"http://127.0.0.1:9000/api/events", "http://127.0.0.1:9000/api/events"},
		{"job 1 failed: boom", "job 1 failed: boom"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactHidesEverySecret(t *testing.T) {
	for _, in := range []string{
		"redis//:secret@host", "redis://u:secret@h", "xx //:secret@h", "password=secret", "PASSWORD=secret",
		"a redis://:secret@h and postgres://u:secret@h", "rediss://:secret@[::1]:6380",
	} {
		if got := Redact(in); strings.Contains(got, "secret") {
			t.Errorf("Redact(%q) = %q: the secret shows", in, got)
		}
	}
}
