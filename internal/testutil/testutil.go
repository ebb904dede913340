// Package testutil opens fresh databases for tests: SQLite in a temporary
// directory always, and PostgreSQL when HELPDESKD_TEST_POSTGRES holds a
// URL (each test gets its own schema, dropped afterwards). With
// HELPDESKD_REQUIRE_POSTGRES=1 (set by CI) a missing PostgreSQL fails the
// test instead of skipping it.
package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/helpdeskd/helpdeskd/store"
)

// Dialects are the stores a suite runs on.
var Dialects = []string{"sqlite", "postgres"}

// URL returns a database URL for a fresh, empty database of the dialect,
// or skips the test.
func URL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "helpdeskd.db")
	case "postgres":
		base := os.Getenv("HELPDESKD_TEST_POSTGRES")
		if base == "" {
			if os.Getenv("HELPDESKD_REQUIRE_POSTGRES") == "1" {
				t.Fatal("HELPDESKD_TEST_POSTGRES is not set but HELPDESKD_REQUIRE_POSTGRES=1")
			}
			t.Skip("PostgreSQL tests skipped: set HELPDESKD_TEST_POSTGRES=postgres://user@127.0.0.1/db?sslmode=disable to run them")
		}
		b := make([]byte, 6)
		rand.Read(b)
		schema := "hdtest_" + hex.EncodeToString(b)
		admin, err := sql.Open("postgres", base)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatalf("postgres: create schema: %v (is PostgreSQL running? HELPDESKD_TEST_POSTGRES=%s)", err, base)
		}
		t.Cleanup(func() {
			db, err := sql.Open("postgres", base)
			if err == nil {
				db.Exec("DROP SCHEMA " + schema + " CASCADE")
				db.Close()
			}
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	t.Fatalf("unknown dialect %q", dialect)
	return ""
}

// Open returns a migrated, ready store of the dialect, closed at cleanup.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	return OpenURL(t, URL(t, dialect))
}

// OpenURL opens, migrates and readies the store at url.
func OpenURL(t testing.TB, u string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}
