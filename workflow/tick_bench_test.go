package workflow_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
)

// BenchmarkTick measures one tick of the escalation job with 100,000 and
// 1,000,000 open incidents of which 100 are due (their response target
// breached a minute ago): the due ones are read through the index on
// next_due_at, their clocks derived, level 1 of the chain recorded and
// queued, their next due time written. Before each tick the 100 are made
// due again and their escalations forgotten (not timed).
func BenchmarkTick(b *testing.B) {
	for _, d := range testutil.Dialects {
		for _, n := range []int{100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%d", d, n), func(b *testing.B) {
				eng, st := newEngine(b, d, `timezone = "Europe/Berlin"`)
				withRouting(b, eng, slaRouting)
				ctx := context.Background()
				created := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) // Monday 09:00 in Berlin
				now := created.Add(4*time.Hour + time.Minute)            // 4 business hours and a minute later
				eng.Now = func() time.Time { return now }
				t0 := time.Now()
				populateOpen(b, st, n, created, now.Add(30*24*time.Hour))
				b.Logf("%d open incidents stored in %s", n, time.Since(t0).Round(time.Second))
				db := st.DB()
				reset := func() {
					for _, q := range []string{`DELETE FROM events WHERE kind LIKE 'sla_%'`, `DELETE FROM outbox WHERE kind LIKE 'sla_%'`} {
						if _, err := db.Exec(q); err != nil {
							b.Fatal(err)
						}
					}
					if _, err := db.Exec(db.Rebind(`UPDATE incidents SET next_due_at = ?, escalation_level = 0 WHERE id <= 100`), now.Add(-time.Minute)); err != nil {
						b.Fatal(err)
					}
				}
				var sent int
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					reset()
					b.StartTimer()
					if _, err := eng.Tick(ctx); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					var k int
					db.Get(&k, `SELECT COUNT(*) FROM outbox WHERE kind = 'sla_level'`)
					sent += k
					b.StartTimer()
				}
				if sent != 100*b.N {
					b.Fatalf("%d escalations in %d ticks, want 100 each", sent, b.N)
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/tick")
			})
		}
	}
}

// populateOpen stores n open P3 incidents assigned to the it team, their
// clocks started at created; the first 100 are due (next_due_at before
// now), the others not before later.
func populateOpen(b *testing.B, st *store.Store, n int, created, later time.Time) {
	b.Helper()
	db := st.DB()
	var q string
	if st.Dialect() == store.SQLite {
		q = `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
INSERT INTO incidents (key, subject, norm_subject, status, priority, requester, assignee, created_at, updated_at, sla, clock_generation, next_due_at)
SELECT 'HD-' || i, 'Payroll share is gone', 'x', 'new', 'P3', 'u' || i || '@example.com', 'it', ?, ?, 'standard', 1, ? FROM s`
	} else {
		q = `INSERT INTO incidents (key, subject, norm_subject, status, priority, requester, assignee, created_at, updated_at, sla, clock_generation, next_due_at)
SELECT 'HD-' || i, 'Payroll share is gone', 'x', 'new', 'P3', 'u' || i || '@example.com', 'it', ?, ?, 'standard', 1, ?
FROM generate_series(1, ?) AS i`
	}
	args := []any{n, created, created, later}
	if st.Dialect() == store.Postgres {
		args = []any{created, created, later, n}
	}
	if _, err := db.Exec(db.Rebind(q), args...); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(db.Rebind(`INSERT INTO clock_events (incident_id, at, kind, party, policy, promise, priority)
SELECT id, ?, 'started', 'it', 'standard', 'standard', 'P3' FROM incidents WHERE id <= 100`), created); err != nil {
		b.Fatal(err)
	}
	if st.Dialect() == store.Postgres {
		for _, t := range []string{"incidents", "clock_events"} {
			if _, err := db.Exec(`VACUUM (ANALYZE) ` + t); err != nil {
				b.Fatal(err)
			}
		}
	}
}
