package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEventData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Key order, a number past a double's precision and text with markup
	// all come back as sent.
	const data = `{"orderId":"o-17","amount":12.50,"big":123456789012345678901234567890,"note":"<b>&</b>","items":[{"sku":"a"}]}`
	res := b.post(t, "/api/events", `{"name": "order.placed", "data": `+data+`}`)
	wantStatus(t, res, http.StatusCreated)
	if !strings.Contains(string(res.body), `"data":`+data) {
		t.Fatalf("POST answered %s; want data %s as sent", res.body, data)
	}
	id := res.json(t)["id"].(string)

	got := b.get(t, "/api/events/"+id)
	wantStatus(t, got, http.StatusOK)
	if !strings.Contains(string(got.body), `"data":`+data) {
		t.Fatalf("GET answered %s; want data %s", got.body, data)
	}
	list := b.get(t, "/api/events")
	wantStatus(t, list, http.StatusOK)
	if !strings.Contains(string(list.body), `"data":`+data) {
		t.Fatalf("list answered %s; want the event with its data", list.body)
	}

	// Without data, or with null, an event has none and shows no field.
	for _, body := range []string{`{"name": "plain"}`, `{"name": "plain", "data": null}`} {
		res := b.post(t, "/api/events", body)
		wantStatus(t, res, http.StatusCreated)
		if _, ok := res.json(t)["data"]; ok {
			t.Fatalf("POST %s answered %s; want no data field", body, res.body)
		}
	}
	// Whitespace is not kept: data is stored compact.
	res = b.post(t, "/api/events", `{"name": "spaced", "data": { "a" : [ 1 , 2 ] }}`)
	wantStatus(t, res, http.StatusCreated)
	if !strings.Contains(string(res.body), `"data":{"a":[1,2]}`) {
		t.Fatalf("POST answered %s; want compact data", res.body)
	}
}

func TestEventDataRejected(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxEventDataBytes = 100 })
	big := `{"s":"` + strings.Repeat("x", 93) + `"}` // 101 bytes
	deep := strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70)
	for _, tc := range []struct {
		name, data, message string
	}{
		{"array", `[1, 2]`, "expected object"},
		{"string", `"text"`, "expected object"},
		{"number", `42`, "expected object"},
		{"over the limit", big, "101 bytes as compact JSON; the limit is 100"},
		{"duplicate key", `{"a": 1, "a": 2}`, `the key "a" appears twice in one object`},
		{"NUL character", `{"a": "\u0000"}`, "the character U+0000 is not allowed"},
		{"too deep", deep, "nested more than 64 levels deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := b.post(t, "/api/events", `{"name": "x", "data": `+tc.data+`}`)
			p := wantProblem(t, res, http.StatusUnprocessableEntity)
			errs, _ := p["errors"].([]any)
			if len(errs) != 1 {
				t.Fatalf("problem %s; want one error", res.body)
			}
			e := errs[0].(map[string]any)
			if e["location"] != "body.data" || !strings.Contains(e["message"].(string), tc.message) {
				t.Fatalf("error %v; want location body.data and a message saying %q", e, tc.message)
			}
		})
	}
	if n, err := b.store.Count(t.Context(), time.Time{}, time.Time{}); err != nil || n != 0 {
		t.Fatalf("%d events stored, %v; rejected data must store nothing", n, err)
	}
	// A number no double can hold fails huma's parse of the body: a 400.
	wantProblem(t, b.post(t, "/api/events", `{"name": "x", "data": {"a": 1e999}}`), http.StatusBadRequest)
	// Exactly at the limit is fine.
	atLimit := `{"s":"` + strings.Repeat("x", 92) + `"}`
	wantStatus(t, b.post(t, "/api/events", `{"name": "x", "data": `+atLimit+`}`), http.StatusCreated)
}

func TestEventDataSchema(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b.get(t, "/api/openapi.json").body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"NewEvent", "Event"} {
		data := string(doc.Components.Schemas[name].Properties["data"])
		if !strings.Contains(data, `"object"`) || !strings.Contains(data, `"additionalProperties":true`) {
			t.Errorf("%s.data schema = %s; want an object with any properties", name, data)
		}
	}
}
