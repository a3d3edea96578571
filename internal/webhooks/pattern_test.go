package webhooks

import "testing"

func TestCheckPattern(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"*", true}, {"user.*", true}, {"user.created", true}, {"a.b.*", true}, {"order", true},
		{"", false}, {".*", false}, {"user.", true}, {"user..*", false}, {"user*", false}, {"*.created", false},
		{"user.*.x", false}, {"**", false}, {" user.*", false}, {"user.* ", false},
	} {
		if err := CheckPattern(tc.p); (err == nil) != tc.ok {
			t.Errorf("CheckPattern(%q) = %v; want ok %v", tc.p, err, tc.ok)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		p, name string
		want    bool
	}{
		{"*", "anything", true},
		{"user.*", "user.created", true},
		{"user.*", "user.a.b", true},
		{"user.*", "user", false},
		{"user.*", "user.", false},
		{"user.*", "users.created", false},
		{"user.*", "xuser.created", false},
		{"user.created", "user.created", true},
		{"user.created", "user.created.x", false},
		{"user.created", "user", false},
	} {
		if got := Match(tc.p, tc.name); got != tc.want {
			t.Errorf("Match(%q, %q) = %v; want %v", tc.p, tc.name, got, tc.want)
		}
	}
}
