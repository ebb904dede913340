// Package store keeps helpdeskd's records: raw and parsed messages,
// incidents and their events, the outbox, mailbox checkpoints and the
// quarantine. It speaks two dialects through sqlx: SQLite
// (modernc.org/sqlite, the embedded default for one instance) and
// PostgreSQL (github.com/lib/pq, for production and several instances).
//
// SQL lives in embedded files: queries/queries.sql where both dialects
// agree (? placeholders, rebound for PostgreSQL; ON CONFLICT; RETURNING),
// queries/sqlite.sql and queries/postgres.sql for the few statements that
// differ (outbox claims, locks). Nothing is built by rewriting SQL text.
// Every query is prepared once by Ready, so a typo stops the boot.
//
// Duplicates are prevented by unique keys, never by check-then-insert:
// an insert that conflicts returns ErrDuplicate (or "no row") and the
// caller takes that as "seen before".
//
// Migrations are numbered files under migrations/DIALECT, embedded, each
// applied in one transaction together with its row in schema_migrations;
// on PostgreSQL under an advisory lock. A database whose schema is newer
// than this program is refused.
//
// # SQLite
//
// The DSN sets WAL, busy_timeout, foreign_keys, synchronous=NORMAL and a
// 16 MB page cache (a batch of a few hundred messages fits, instead of
// spilling pages to the file before commit) for every pooled connection (pragmas in the DSN, not Exec, which would set
// only one connection) and _txlock=immediate, so that a transaction takes
// the write lock when it begins instead of failing with SQLITE_BUSY when
// it first writes.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"    // driver "postgres"
	_ "modernc.org/sqlite" // driver "sqlite"
)

//go:embed migrations queries
var files embed.FS

// Dialect names the database engine.
type Dialect string

// The dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrDuplicate is returned when a unique key says the record exists.
var ErrDuplicate = errors.New("store: duplicate")

// ErrSchema is returned when the database schema does not match this
// program (older: run migrate; newer: upgrade helpdeskd).
var ErrSchema = errors.New("store: schema version mismatch")

func init() {
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// Store is an open database.
type Store struct {
	Reader  // operations on the pool; Tx has the same inside a transaction
	db      *sqlx.DB
	dialect Dialect
	// sqlitePath is the database file (SQLite), beside which lock files
	// live.
	sqlitePath string
	queries    map[string]string
	// stopCheckpointer ends the SQLite checkpoint goroutine.
	stopCheckpointer func()
	known            map[string]struct{} // the texts of queries, for txExt
}

// createPrivate creates an absent SQLite database file with mode 0600
// (owner only, whatever the umask), so that mail and incidents are not
// readable by other local users. SQLite gives the -wal and -shm files it
// creates beside it the database file's mode. An existing file is left as
// it is. A "file:" path or a ":memory:"/query form is not touched.
func createPrivate(path string) error {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") || strings.ContainsAny(path, "?") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create the database file: %w", err)
	}
	return f.Close()
}

// Open connects to the database named by a helpdeskd URL: "sqlite:PATH"
// or "postgres://…". It does not migrate. A new SQLite file is created
// with mode 0600 (createPrivate). A postgres URL that does not parse is
// an error that does not quote it.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	var (
		driver, dsn string
		dialect     Dialect
	)
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		p := strings.TrimPrefix(rawURL, "sqlite:")
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return nil, errors.New("store: sqlite: needs a file path")
		}
		if err := checkSQLiteDir(p); err != nil {
			return nil, err
		}
		driver, dialect = "sqlite", SQLite
		if err := createPrivate(p); err != nil {
			return nil, err
		}
		dsn = "file:" + p + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-16000)" +
			"&_pragma=wal_autocheckpoint(0)&_txlock=immediate"
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		driver, dialect, dsn = "postgres", Postgres, rawURL
		u, err := url.Parse(rawURL)
		if err != nil {
			// lib/pq would quote the whole URL, password and all.
			return nil, errors.New("store: the postgres URL does not parse (not shown: it may hold a password)")
		}
		q := u.Query()
		if q.Get("sslmode") == "" {
			// lib/pq's default sslmode has changed between versions; say it.
			q.Set("sslmode", "prefer")
		}
		if q.Get("binary_parameters") == "" {
			// Raw mail ([]byte) goes over the wire as it is instead
			// of hex-encoded text, and an unprepared statement (the
			// multi-row inserts of a batch) takes one round trip
			// instead of two.
			q.Set("binary_parameters", "yes")
		}
		u.RawQuery = q.Encode()
		dsn = u.String()
	default:
		return nil, fmt.Errorf("store: unsupported database url (want sqlite:PATH or postgres://…)")
	}
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, err)
	}
	if dialect == SQLite {
		// One writer at a time anyway; a small pool keeps readers concurrent.
		db.SetMaxOpenConns(4)
	} else {
		db.SetMaxOpenConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	s := &Store{db: db, dialect: dialect}
	if dialect == SQLite {
		s.sqlitePath = strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
	}
	s.Reader = Reader{x: db, s: s}
	if err := s.loadQueries(); err != nil {
		db.Close()
		return nil, err
	}
	if err := ping(ctx, db, dialect); err != nil {
		db.Close()
		if dialect == SQLite {
			return nil, fmt.Errorf("store: open sqlite database %s: %w", s.sqlitePath, err)
		}
		return nil, fmt.Errorf("store: connect to %s: %w", dialect, err)
	}
	if dialect == SQLite {
		s.startCheckpointer()
	}
	return s, nil
}

// checkSQLiteDir says, naming the files, why SQLite could not open the
// database at path: its directory is missing or not writable by this
// process's user (SQLite creates the -wal and -shm files, and helpdeskd
// its lock files, beside it). SQLite itself only says "unable to open
// database file (14)".
func checkSQLiteDir(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("store: sqlite database %s: its directory: %w", path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("store: sqlite database %s: %s is not a directory", path, dir)
	}
	if err := syscall.Access(dir, 2 /* W_OK */); err != nil {
		return fmt.Errorf("store: sqlite database %s: directory %s is not writable by uid %d: %w (SQLite creates its -wal and -shm files there)",
			path, dir, os.Getuid(), err)
	}
	return nil
}

// ping checks the connection. A new SQLite connection sets its pragmas
// (journal_mode among them) as it opens, which another process opening
// the same file at that moment can make fail with SQLITE_BUSY before the
// busy timeout applies; that is retried for a while.
func ping(ctx context.Context, db *sqlx.DB, dialect Dialect) error {
	var err error
	for wait := 20 * time.Millisecond; ; wait *= 2 {
		err = db.PingContext(ctx)
		if err == nil || dialect != SQLite || !IsTransient(err) || wait > 3*time.Second {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// startCheckpointer copies the SQLite write-ahead log into the database
// file from a goroutine of its own, every half second, instead of letting
// the committing connection do it (automatic checkpoints are off in the
// DSN): intake's commits do not wait for it, and on a machine with a
// second core it runs beside them. The last connection to close
// checkpoints and removes the log, as SQLite always does; a process that
// dies leaves the log to the next one, which is how SQLite recovers
// anyway.
func (s *Store) startCheckpointer() {
	stop, done := make(chan struct{}), make(chan struct{})
	s.stopCheckpointer = func() {
		close(stop)
		<-done
		// The last connection to close checkpoints and removes the log
		// itself; this catches up when other processes keep it open.
		s.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	}
	go func() {
		defer close(done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				// PASSIVE: never waits for, or blocks, readers and writers.
				s.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
}

// Close closes the pool.
func (s *Store) Close() error {
	if s.stopCheckpointer != nil {
		s.stopCheckpointer()
	}
	return s.db.Close()
}

// Dialect is the engine in use.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the pool to tests and benchmarks of this module.
func (s *Store) DB() *sqlx.DB { return s.db }

// Ping checks that the database answers (systemd watchdog, health).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *Store) loadQueries() error {
	s.queries = map[string]string{}
	for _, name := range []string{"queries/queries.sql", "queries/" + string(s.dialect) + ".sql"} {
		b, err := files.ReadFile(name)
		if err != nil {
			return fmt.Errorf("store: %s: %w", name, err)
		}
		parsed, err := parseNamed(string(b))
		if err != nil {
			return fmt.Errorf("store: %s: %w", name, err)
		}
		for k, v := range parsed {
			s.queries[k] = s.db.Rebind(v)
		}
	}
	s.known = map[string]struct{}{}
	for _, q := range s.queries {
		s.known[q] = struct{}{}
	}
	return nil
}

// parseNamed splits a file of "-- name: X" sections.
func parseNamed(text string) (map[string]string, error) {
	out := map[string]string{}
	var name string
	var body strings.Builder
	flush := func() error {
		if name == "" {
			return nil
		}
		q := strings.TrimSpace(body.String())
		q = strings.TrimSuffix(q, ";")
		if q == "" {
			return fmt.Errorf("query %q is empty", name)
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("query %q defined twice", name)
		}
		out[name] = q
		return nil
	}
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "-- name:") {
			if err := flush(); err != nil {
				return nil, err
			}
			name = strings.TrimSpace(strings.TrimPrefix(t, "-- name:"))
			body.Reset()
			continue
		}
		if strings.HasPrefix(t, "--") {
			continue
		}
		if name != "" {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// q returns a named query; a missing name is a programming error caught by
// TestQueriesPrepare and by Ready.
func (s *Store) q(name string) string {
	v, ok := s.queries[name]
	if !ok {
		panic("store: no query named " + name)
	}
	return v
}

// QueryNames lists the loaded queries (for tests).
func (s *Store) QueryNames() []string {
	names := make([]string, 0, len(s.queries))
	for k := range s.queries {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	dir := "migrations/" + string(s.dialect)
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		n := e.Name()
		if !strings.HasSuffix(n, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_what.sql", n)
		}
		b, err := files.ReadFile(path.Join(dir, n))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: n, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migrations must be numbered 1, 2, 3…; %s is out of order", m.name)
		}
	}
	return out, nil
}

// LatestVersion is the schema version this program writes.
func (s *Store) LatestVersion() int {
	ms, err := s.migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

const migrationLockKey = 7342_0001 // pg advisory lock for migrations

// Migrate applies the migrations the database lacks, each in its own
// transaction. It returns how many were applied.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	ms, err := s.migrations()
	if err != nil {
		return 0, err
	}
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
			return 0, fmt.Errorf("store: migrate: lock: %w", err)
		}
		// Unlock explicitly: closing a pooled connection does not end the
		// session, and a session-level advisory lock would leak.
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
	}
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`
	if _, err := conn.ExecContext(ctx, create); err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	latest := ms[len(ms)-1].version
	applied := 0
	for _, m := range ms {
		done, err := func() (bool, error) {
			tx, err := conn.BeginTxx(ctx, nil)
			if err != nil {
				return false, err
			}
			defer tx.Rollback()
			var cur int
			if err := tx.GetContext(ctx, &cur, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`); err != nil {
				return false, err
			}
			if cur > latest {
				return false, fmt.Errorf("%w: the database is at version %d, newer than this helpdeskd (%d): upgrade helpdeskd", ErrSchema, cur, latest)
			}
			if cur >= m.version {
				return false, nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return false, fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, time.Now().UTC().Format(time.RFC3339)); err != nil {
				return false, fmt.Errorf("%s: %w", m.name, err)
			}
			return true, tx.Commit()
		}()
		if err != nil {
			return applied, fmt.Errorf("store: migrate: %w", err)
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// SchemaVersion is the version recorded in the database (0: none).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.GetContext(ctx, &v, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`)
	if err != nil {
		if isMissingTable(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

func isMissingTable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist")
}

// Ready checks the schema version and prepares every query once. Commands
// that use the database call it after Open (and after Migrate if they
// migrate).
func (s *Store) Ready(ctx context.Context) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	latest := s.LatestVersion()
	switch {
	case v > latest:
		return fmt.Errorf("%w: the database is at version %d, newer than this helpdeskd (%d): upgrade helpdeskd", ErrSchema, v, latest)
	case v < latest:
		return fmt.Errorf("%w: the database is at version %d, this helpdeskd needs %d: run helpdeskd migrate", ErrSchema, v, latest)
	}
	for _, name := range s.QueryNames() {
		st, err := s.db.PreparexContext(ctx, s.queries[name])
		if err != nil {
			return fmt.Errorf("store: query %s: %w", name, err)
		}
		st.Close()
	}
	if _, err := s.db.ExecContext(ctx, s.q("init-counter"), "incident"); err != nil {
		return fmt.Errorf("store: init counter: %w", err)
	}
	return nil
}

// IsTransient reports whether err is a database condition that passes by
// itself (a deadlock, a serialization failure, a lock that could not be
// had in time, a database that is busy or gone): the work is to be
// retried later as a whole, not blamed on the message being processed.
func IsTransient(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40P01", "40001", "55P03", "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(string(pe.Code), "08") // connection exceptions
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked") ||
		strings.Contains(msg, "connection refused") || strings.Contains(msg, "broken pipe")
}

// noRows maps sql.ErrNoRows to ErrNotFound.
func noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
