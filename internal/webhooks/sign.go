package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix starts every secret; base64 of the key follows.
const secretPrefix = "whsec_"

// NewSecret returns a fresh secret: "whsec_" and base64 of 32 random bytes.
func NewSecret() string {
	key := make([]byte, 32)
	rand.Read(key)
	return secretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Sign returns the webhook-signature header value for a message:
// "v1," and base64 of HMAC-SHA256 over "<id>.<timestamp>.<body>", keyed
// with the base64-decoded part of secret after "whsec_".
//
// It is the specification's algorithm written out: the reference Go
// library (github.com/standard-webhooks/standard-webhooks/libraries) has
// only a v0.0.1 pre-release, and the algorithm is one HMAC. The test checks
// it against the specification's published example.
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Verify reports whether header, a webhook-signature value of one or more
// space-separated "v1,<sig>" entries, holds the signature of the message.
// It does not check the timestamp's age; receivers should.
func Verify(secret, id string, timestamp int64, body []byte, header string) bool {
	want, err := Sign(secret, id, timestamp, body)
	if err != nil {
		return false
	}
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func decodeSecret(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New("webhook secret: want whsec_ and base64")
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook secret: the part after whsec_ is not base64")
	}
	return key, nil
}
