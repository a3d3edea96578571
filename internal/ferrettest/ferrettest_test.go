package ferrettest_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/ferrettest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestNotInProductionBuild fails when a package of the module other than
// ferrettest itself depends, outside its tests, on ferrettest or FerretDB:
// that would link a database server into the eventsd binary. The one
// exception is scripts/ferretdb, a development tool that runs FerretDB as a
// process of its own for benchmarks; nothing imports it.
func TestNotInProductionBuild(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`,
		"github.com/eventsd/eventsd/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const self = "github.com/eventsd/eventsd/internal/ferrettest"
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		if pkg == self || pkg == "github.com/eventsd/eventsd/scripts/ferretdb" {
			continue
		}
		checked++
		for _, dep := range strings.Fields(deps) {
			if dep == self || strings.HasPrefix(dep, "github.com/FerretDB/") {
				t.Errorf("%s depends on %s outside its tests; import ferrettest from _test.go files only", pkg, dep)
				break
			}
		}
	}
	if checked == 0 {
		t.Fatalf("go list listed no package besides ferrettest:\n%s", out)
	}
}

func TestURI(t *testing.T) {
	t.Parallel()
	uri := ferrettest.URI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	db := uri[strings.LastIndex(uri, "/")+1:]
	if !strings.HasPrefix(db, "test_") {
		t.Fatalf("URI %s: want a database named test_..., got %q", uri, db)
	}
	coll := c.Database(db).Collection("c")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatalf("insert: %v", err)
	}
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil || n != 1 {
		t.Fatalf("count = %d, %v; want 1", n, err)
	}
}

func TestServerStop(t *testing.T) {
	t.Parallel()
	s := ferrettest.Start(t)
	uri := s.URI("db")
	s.Stop()
	s.Stop() // again: a no-op, as the cleanup will also call it
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	if err := c.Ping(ctx, nil); err == nil {
		t.Fatal("ping after Stop succeeded; want an error")
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"mongodb://h:1", "mongodb://h:1/d"},
		{"mongodb://h:1/", "mongodb://h:1/d"},
		{"mongodb://h:1/old", "mongodb://h:1/d"},
		{"mongodb://u:p@a:1,b:2/old?replicaSet=rs&w=majority", "mongodb://u:p@a:1,b:2/d?replicaSet=rs&w=majority"},
		{"mongodb://a:1,b:2?replicaSet=rs", "mongodb://a:1,b:2/d?replicaSet=rs"},
		{"mongodb+srv://cluster.example.com/?retryWrites=true", "mongodb+srv://cluster.example.com/d?retryWrites=true"},
	} {
		got, err := ferrettest.WithDatabase(tc.in, "d")
		if err != nil || got != tc.want {
			t.Errorf("WithDatabase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := ferrettest.WithDatabase("http://x", "d"); err == nil {
		t.Error("WithDatabase(http://x): want an error")
	}
}
