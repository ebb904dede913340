package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
)

// BenchmarkRegisterCSV exports the register of HELPDESKD_BENCH_REGISTER_ROWS
// incidents (default 100,000; the README's figures are for 1,000,000) as
// CSV from a child helpdeskd process, and reports its rows per second and
// its peak resident memory (VmHWM): constant memory means
// the same peak for 100,000 and 1,000,000 rows.
//
//	HELPDESKD_BENCH_REGISTER_ROWS=1000000 go test -run '^$' -bench BenchmarkRegisterCSV -benchtime 1x ./cmd/helpdeskd/
func BenchmarkRegisterCSV(b *testing.B) {
	n := 100000
	if s := os.Getenv("HELPDESKD_BENCH_REGISTER_ROWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("HELPDESKD_BENCH_REGISTER_ROWS=%q: want a positive number", s)
		}
		n = v
	}
	for _, d := range testutil.Dialects {
		b.Run(d, func(b *testing.B) {
			u := testutil.URL(b, d)
			st := testutil.OpenURL(b, u)
			start := time.Now()
			populateRegister(b, st, n)
			b.Logf("%s: %d incidents stored in %v", d, n, time.Since(start).Round(time.Millisecond))
			cfg := filepath.Join(b.TempDir(), "helpdeskd.toml")
			if err := os.WriteFile(cfg, []byte(strings.Replace(registerConfig, "DBURL", u, 1)), 0o600); err != nil {
				b.Fatal(err)
			}
			var rss int64
			b.ResetTimer()
			for b.Loop() {
				var lines lineCounter
				var stderr bytes.Buffer
				cmd := exec.Command(os.Args[0], "-config", cfg, "register", "--format", "csv")
				cmd.Env = append(os.Environ(), "HELPDESKD_TEST_AS_MAIN=1")
				cmd.Stdout, cmd.Stderr = &lines, &stderr
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				done := make(chan struct{})
				hwm := make(chan int64)
				go func() { hwm <- watchHWM(cmd.Process.Pid, done) }()
				err := cmd.Wait()
				close(done)
				rss = max(rss, <-hwm)
				if err != nil {
					b.Fatalf("register: %v\n%s", err, stderr.String())
				}
				if lines.n != n+1 {
					b.Fatalf("register wrote %d lines, want %d", lines.n, n+1)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
		})
	}
}

// watchHWM samples the child's VmHWM (its peak resident memory, KiB)
// from /proc every 10 ms until done, and returns the last value read.
// getrusage's ru_maxrss is not used: Linux carries the parent's peak
// over into a child that was started with vfork and exec, as Go starts
// them, so it would report the benchmark's own memory.
func watchHWM(pid int, done <-chan struct{}) int64 {
	var peak int64
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	for {
		if data, err := os.ReadFile(path); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
						peak = max(peak, kb)
					}
				}
			}
		}
		select {
		case <-done:
			return peak
		case <-time.After(10 * time.Millisecond):
		}
	}
}

type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// populateRegister stores 1,000 problems and n incidents with SLA
// figures (one in ten linked to a problem, so "repeat of" is looked up)
// with a few statements on the database's side.
func populateRegister(b *testing.B, st *store.Store, n int) {
	b.Helper()
	db := st.DB()
	var q []string
	if st.Dialect() == store.SQLite {
		t := func(base, offset string) string {
			return "strftime('%Y-%m-%d %H:%M:%S', " + base + ", " + offset + ")"
		}
		created := t("'2026-11-23'", "'-' || (i % 365) || ' days'")
		q = []string{
			`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000)
INSERT INTO problems (key, title, status, fingerprint, created_at, updated_at)
SELECT 'PRB-' || i, 'problem ' || i, 'open', 'w' || i, '2025-01-01 00:00:00', '2025-01-01 00:00:00' FROM s`,
			`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
INSERT INTO incidents (key, subject, norm_subject, status, priority, requester, assignee, category, created_at, updated_at,
    first_response_at, resolved_at, closed_at, response_due, resolution_due, sla, escalation_level, problem_id)
SELECT 'HD-' || i, 'Printer on floor ' || (i % 7) || ' jams', 'x', 'closed', 'P3', 'user' || (i % 500) || '@example.com', 'it', 'hardware',
 ` + created + `, ` + created + `,
 ` + t(created, "'+' || (i % 300) || ' minutes'") + `, ` + t(created, "'+' || (i % 5000) || ' minutes'") + `,
 ` + t(created, "'+3 days'") + `, ` + t(created, "'+240 minutes'") + `, ` + t(created, "'+4320 minutes'") + `,
 'standard', i % 3, CASE WHEN i % 10 = 0 THEN 1 + (i / 10) % 1000 END FROM s`,
		}
	} else {
		q = []string{
			`INSERT INTO problems (key, title, status, fingerprint, created_at, updated_at)
SELECT 'PRB-' || i, 'problem ' || i, 'open', 'w' || i, TIMESTAMPTZ '2025-01-01 00:00:00+00', TIMESTAMPTZ '2025-01-01 00:00:00+00'
FROM generate_series(1, 1000) AS i`,
			`INSERT INTO incidents (key, subject, norm_subject, status, priority, requester, assignee, category, created_at, updated_at,
    first_response_at, resolved_at, closed_at, response_due, resolution_due, sla, escalation_level, problem_id)
SELECT 'HD-' || i, 'Printer on floor ' || (i % 7) || ' jams', 'x', 'closed', 'P3', 'user' || (i % 500) || '@example.com', 'it', 'hardware',
 c, c, c + (i % 300) * INTERVAL '1 minute', c + (i % 5000) * INTERVAL '1 minute', c + INTERVAL '3 days',
 c + INTERVAL '240 minutes', c + INTERVAL '4320 minutes', 'standard', i % 3, CASE WHEN i % 10 = 0 THEN 1 + (i / 10) % 1000 END
FROM (SELECT i, TIMESTAMPTZ '2026-11-23 00:00:00+00' - (i % 365) * INTERVAL '1 day' AS c FROM generate_series(1, ?) AS i) AS g`,
		}
	}
	if _, err := db.Exec(q[0]); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(db.Rebind(q[1]), n); err != nil {
		b.Fatal(err)
	}
	if st.Dialect() == store.Postgres {
		// Steady state, as autovacuum leaves a table of this size.
		for _, t := range []string{"incidents", "problems"} {
			if _, err := db.Exec(`VACUUM (ANALYZE) ` + t); err != nil {
				b.Fatal(err)
			}
		}
	}
}
