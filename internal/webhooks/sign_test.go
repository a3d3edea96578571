package webhooks

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestSignSpecExample checks Sign against the example the Standard Webhooks
// reference libraries test with.
func TestSignSpecExample(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts     = 1614265330
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	body := []byte(`{"test": 2432232314}`)
	got, err := Sign(secret, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Sign = %s; want %s", got, want)
	}
	if !Verify(secret, id, ts, body, "v1,bm9wZQ== "+got) {
		t.Fatal("Verify refuses the example among two signatures")
	}
	if Verify(secret, id, ts+1, body, got) || Verify(secret, id, ts, []byte(`{"test": 1}`), got) {
		t.Fatal("Verify accepts a signature of another message")
	}
}

func TestSecrets(t *testing.T) {
	s := NewSecret()
	raw, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		t.Fatalf("secret %q lacks whsec_", s)
	}
	if key, err := base64.StdEncoding.DecodeString(raw); err != nil || len(key) != 32 {
		t.Fatalf("secret %q: %d bytes, %v; want 32 bytes of base64", s, len(key), err)
	}
	if NewSecret() == s {
		t.Fatal("two secrets are equal")
	}
	for _, bad := range []string{"", "nope", "whsec_", "whsec_!!!"} {
		if _, err := Sign(bad, "id", 1, nil); err == nil {
			t.Errorf("Sign with secret %q: no error", bad)
		}
	}
}
