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
// setting (the way it was given, or by its variable) and reads the same
// whatever a secret's or a URL's password's value; and surrounding spaces do
// not change what a non-secret value means.
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
		}
		// An error does not depend on a secret: with another of the same
		// length, the setting fails the same way.
		if s.secret {
			other := strings.Repeat("Q", len(v))
			if other == v {
				other = strings.Repeat("R", len(v))
			}
			_, errOther := Load(cmd, nil, func(name string) string {
				if name == s.env {
					return other
				}
				return ""
			})
			if (errOther == nil) != (errEnv == nil) || errEnv != nil && errOther.Error() != errEnv.Error() {
				t.Errorf("%s fails as %v; with another secret, %v", s.env, errEnv, errOther)
			}
		}
		// Nor on a URL's password: with another of the same length in its
		// place, the setting fails the same way.
		if u, err := url.Parse(strings.TrimSpace(v)); err == nil {
			pw, ok := u.User.Password()
			at := strings.Index(v, ":"+pw+"@")
			if ok && len(pw) >= 4 && at >= 0 && strings.Trim(pw, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == "" {
				other := v[:at+1] + strings.Repeat("Q", len(pw)) + v[at+1+len(pw):]
				if other != v {
					_, errOther := Load(cmd, nil, func(name string) string {
						if name == s.env {
							return other
						}
						return ""
					})
					if (errOther == nil) != (errEnv == nil) || errEnv != nil && errOther.Error() != errEnv.Error() {
						t.Errorf("%s=%q fails as %v; with another password, %v", s.env, v, errEnv, errOther)
					}
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
