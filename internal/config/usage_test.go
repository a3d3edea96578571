package config

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Usage(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range settings() {
		var line string
		for l := range strings.Lines(out) {
			if strings.Contains(l, "--"+s.flag()+" ") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("Usage does not list --%s", s.flag())
			continue
		}
		for _, want := range []string{s.env, s.def, s.devDef, s.usage} {
			if !strings.Contains(line, want) {
				t.Errorf("Usage line for %s lacks %q: %q", s.env, want, line)
			}
		}
	}
}

// TestFieldDocs keeps the Config field comments in step with the settings
// table: each setting's variable is named in one field's comment, with its
// default.
func TestFieldDocs(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == "Config" {
			for _, field := range ts.Type.(*ast.StructType).Fields.List {
				docs = append(docs, strings.Join(strings.Fields(field.Doc.Text()), " "))
			}
			return false
		}
		return true
	})
	for _, s := range settings() {
		found := false
		for _, doc := range docs {
			if strings.Contains(doc, "from "+s.env+",") {
				found = true
				def := "default " + s.def
				if s.def == "" {
					def = "default empty"
				}
				if !strings.Contains(doc, def) {
					t.Errorf("the doc comment naming %s does not say %q: %q", s.env, def, doc)
				}
				if !strings.Contains(doc, s.devDef) {
					t.Errorf("the doc comment naming %s does not give dev's default %q: %q", s.env, s.devDef, doc)
				}
			}
		}
		if !found {
			t.Errorf("no Config field's doc comment names %s", s.env)
		}
	}
}

func TestLogger(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			c, err := Load(Serve, []string{"--log-format", format, "--log-level", "warn"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			log := c.Logger(&buf)
			log.Info("hidden")
			log.Warn("shown", "queue_name", "mock-data-queue")
			out := buf.String()
			if strings.Contains(out, "hidden") || !strings.Contains(out, "shown") {
				t.Fatalf("level warn logged %q", out)
			}
			var rec map[string]any
			isJSON := json.Unmarshal(buf.Bytes(), &rec) == nil
			if isJSON != (format == "json") {
				t.Errorf("format %s wrote %q", format, out)
			}
		})
	}
	if (Config{}).Logger(&bytes.Buffer{}).Enabled(t.Context(), slog.LevelInfo) != true {
		t.Error("the zero Config's logger drops info")
	}
}
