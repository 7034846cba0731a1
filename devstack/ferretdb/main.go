// Command ferretdb runs an embedded FerretDB v1 (SQLite backend) for the MRC local dev stack.
//
// The upstream cmd/ferretdb binary cannot be used via `go install`: it panics because
// build/version/version.txt is only generated at release time. The embeddable package
// github.com/FerretDB/FerretDB/ferretdb has no such requirement, so this tiny wrapper is built instead.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqliteDir := flag.String("sqlite-dir", "data", "directory holding the SQLite databases")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)

	if err := os.MkdirAll(*sqliteDir, 0o755); err != nil {
		logger.Error("cannot create SQLite directory", "dir", *sqliteDir, "error", err)
		os.Exit(1)
	}

	// FerretDB itself listens on a private Unix socket; clients reach it through the proxy that
	// makes its read-modify-write commands atomic (atomic_writes.go).
	socketDir, err := os.MkdirTemp("", "mrc-ferretdb-")
	if err != nil {
		logger.Error("cannot create socket directory", "error", err)
		os.Exit(1)
	}
	defer os.RemoveAll(socketDir)
	socket := filepath.Join(socketDir, "ferretdb.sock")

	listener, err := net.Listen("tcp", *listenAddr)
	if err != nil {
		logger.Error("cannot listen", "listen_addr", *listenAddr, "error", err)
		os.Exit(1)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + strings.TrimSuffix(*sqliteDir, "/") + "/",
	})
	if err != nil {
		logger.Error("cannot create FerretDB", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	go keepIDIndexes(ctx, *sqliteDir, 2*time.Second, logger)
	go serveAtomicWrites(ctx, listener, socket, logger)

	logger.Info("FerretDB starting", "listen_addr", *listenAddr, "sqlite_dir", *sqliteDir)
	if err := f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped with error", "error", err)
		os.RemoveAll(socketDir)
		os.Exit(1)
	}
	logger.Info("FerretDB stopped")
}
