package config

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzSetting checks Load with any value of any one setting, given as its
// environment variable and as its flag. Load never panics; the two ways of
// giving a value load the same Config or both fail; an error names the
// setting (the way it was given, or by its variable) and never shows a secret, nor the password
// of a URL; and surrounding spaces do not change what a non-secret value
// means.
//
// Its seed corpus is testdata/fuzz/FuzzSetting. To fuzz:
//
//	go test -run='^$' -fuzz='^FuzzSetting$' -fuzztime=1000000x ./internal/config/
func FuzzSetting(f *testing.F) {
	all := settings()
	f.Fuzz(func(t *testing.T, which uint8, v string, dev bool) {
		s := all[int(which)%len(all)]
		cmd := Serve
		if dev {
			cmd = Dev
		}
		if v == "" {
			return // an empty variable is an unset one; an empty flag is not
		}
		env := func(name string) string {
			if name == s.env {
				return v
			}
			return ""
		}
		fromEnv, errEnv := Load(cmd, nil, env)
		fromFlag, errFlag := Load(cmd, []string{"--" + s.flag() + "=" + v}, nil)
		if (errEnv == nil) != (errFlag == nil) || errEnv == nil && !reflect.DeepEqual(fromEnv, fromFlag) {
			t.Fatalf("%s=%q loads %+v, %v; as a flag %+v, %v", s.env, v, fromEnv, errEnv, fromFlag, errFlag)
		}
		for _, e := range []struct {
			err  error
			name string
		}{{errEnv, s.env}, {errFlag, "--" + s.flag()}} {
			if e.err == nil {
				continue
			}
			msg := e.err.Error()
			if !strings.Contains(msg, e.name) && !strings.Contains(msg, s.env) {
				t.Errorf("%s=%q: error %q does not name %s", s.env, v, msg, e.name)
			}
			if s.secret && len(v) >= 6 && strings.Contains(msg, v) {
				t.Errorf("%s: error %q shows the secret", s.env, msg)
			}
			if u, err := url.Parse(strings.TrimSpace(v)); err == nil {
				if pw, ok := u.User.Password(); ok && len(pw) >= 6 && strings.Contains(msg, pw) {
					t.Errorf("%s=%q: error %q shows the URL's password", s.env, v, msg)
				}
			}
		}
		if trimmed := strings.TrimSpace(v); !s.secret && trimmed != v && trimmed != "" {
			c, err := Load(cmd, nil, func(name string) string {
				if name == s.env {
					return trimmed
				}
				return ""
			})
			if (err == nil) != (errEnv == nil) || err == nil && !reflect.DeepEqual(c, fromEnv) {
				t.Fatalf("%s=%q loads %+v, %v; trimmed %+v, %v", s.env, v, fromEnv, errEnv, c, err)
			}
		}
	})
}
