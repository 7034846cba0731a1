package main

// FerretDB 1.24's SQLite backend pushes an `_id` equality filter down as
// `WHERE _ferretdb_sjson->'$._id' = ?`, but it indexes `_id` as `_ferretdb_sjson->"_id"`.
// SQLite only uses an expression index whose expression matches the query's, so every lookup by
// `_id` scans the whole collection (checked with EXPLAIN QUERY PLAN). This keeps an index on the
// exact expression the pushdown uses for every collection, which turns those lookups from O(n)
// into O(log n). It changes no data and no FerretDB code; dropping the index is always safe.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the same pure-Go SQLite driver FerretDB uses
)

const idIndexSuffix = "__id_pushdown"

func keepIDIndexes(ctx context.Context, dir string, every time.Duration, logger *slog.Logger) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			if err := indexDatabase(ctx, file, logger); err != nil {
				logger.Debug("id index pass failed; will retry", "file", filepath.Base(file), "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func indexDatabase(ctx context.Context, file string, logger *slog.Logger) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var table string
		if err := rows.Scan(&table); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, table)
	}
	rows.Close()
	for _, table := range tables {
		if strings.ContainsRune(table, '"') {
			continue
		}
		// Looked up every pass rather than remembered: a dropped and recreated collection loses it.
		var existing int
		err := db.QueryRowContext(
			ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, table+idIndexSuffix,
		).Scan(&existing)
		if err != nil {
			return err
		}
		if existing > 0 {
			continue
		}
		q := fmt.Sprintf(
			`CREATE INDEX IF NOT EXISTS "%s%s" ON "%s" (_ferretdb_sjson->'$._id')`, table, idIndexSuffix, table,
		)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
		logger.Info("id pushdown index ensured", "file", filepath.Base(file), "table", table)
	}
	return nil
}
