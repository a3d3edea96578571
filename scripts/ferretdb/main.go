// Command ferretdb runs FerretDB (v1, SQLite backend) as a standalone
// MongoDB-protocol server on loopback, for benchmarks and the soak: the
// same server the tests start in-process (internal/ferrettest), here as a
// process of its own, so that `eventsd serve` and `eventsd bench http` can
// be pointed at it. It runs until SIGINT or SIGTERM.
//
//	go run ./scripts/ferretdb --addr 127.0.0.1:27018 --dir /tmp/ferret
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:27018", "loopback host:port to listen on")
	dir := flag.String("dir", "", "directory of the SQLite files (required)")
	flag.Parse()
	if err := run(*addr, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run(addr, dir string) error {
	if dir == "" {
		return fmt.Errorf("--dir is required")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: abs + "/"}).String(),
	})
	if err != nil {
		return err
	}
	go func() { fmt.Println(f.MongoDBURI()) }()
	f.Run(ctx)
	return nil
}
