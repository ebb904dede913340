package workflow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// BenchmarkRepeatDecision measures the repeat decision for one new
// incident (the index lookup of earlier incidents of the 30-day window
// that share a fingerprint word, less those "#not-problem" parted from
// it, and the TF-IDF similarity of each) with 1k,
// 100k and 1M incidents in the store, spread over a year, their
// fingerprints three words of a 2,000-word vocabulary.
func BenchmarkRepeatDecision(b *testing.B) {
	for _, d := range testutil.Dialects {
		for _, n := range []int{1_000, 100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%d", d, n), func(b *testing.B) {
				st := testutil.OpenURL(b, testutil.URL(b, d))
				ctx := context.Background()
				t0 := time.Now()
				populate(b, st, n)
				b.Logf("%d incidents stored in %s", n, time.Since(t0).Round(time.Second))
				// Fingerprints here are synthetic words ("w5"), which
				// NewFingerprint would mask as numbers: built directly.
				fp := workflow.Fingerprint{Tokens: []string{"w35", "w5", "w65"}}
				// The word frequencies, as the problems-df job counts
				// them (hourly, not per decision).
				t1 := time.Now()
				dn, counts, err := st.TokenDF(ctx)
				if err != nil {
					b.Fatal(err)
				}
				df := &workflow.DF{N: dn, Count: counts}
				b.Logf("word frequencies of %d incidents counted in %s", dn, time.Since(t1).Round(time.Millisecond))
				since := time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC)
				b.ResetTimer()
				var matched, compared int
				for range b.N {
					// In the daemon this runs inside the batch's
					// transaction; here on the pool, per decision.
					cands, err := st.RepeatCandidates(ctx, fp.String(), since, 2000)
					if err != nil {
						b.Fatal(err)
					}
					for _, c := range cands {
						if df.Similarity(fp, workflow.Fingerprint{Tokens: strings.Fields(c.Fingerprint)}) >= 0.75 {
							matched++
						}
					}
					compared += len(cands)
				}
				b.ReportMetric(float64(compared)/float64(b.N), "candidates/op")
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
				_ = matched
			})
		}
	}
}

// populate stores n closed incidents and their fingerprint words with a
// few statements on the database's side.
func populate(b *testing.B, st *store.Store, n int) {
	b.Helper()
	var q []string
	if st.Dialect() == store.SQLite {
		q = []string{
			`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
INSERT INTO incidents (key, subject, norm_subject, status, priority, requester, created_at, updated_at, fingerprint)
SELECT 'HD-' || i, 'x', 'x', 'closed', 'P3', 'u@x', strftime('%Y-%m-%d %H:%M:%S', '2026-11-23', '-' || (i % 365) || ' days'),
 '2026-11-23 00:00:00', 'w' || (i % 2000) || ' w' || ((i * 7) % 2000) || ' w' || ((i * 13) % 2000) FROM s`,
		}
	} else {
		q = []string{
			`INSERT INTO incidents (key, subject, norm_subject, status, priority, requester, created_at, updated_at, fingerprint)
SELECT 'HD-' || i, 'x', 'x', 'closed', 'P3', 'u@x', TIMESTAMPTZ '2026-11-23 00:00:00+00' - (i % 365) * INTERVAL '1 day',
 TIMESTAMPTZ '2026-11-23 00:00:00+00', 'w' || (i % 2000) || ' w' || ((i * 7) % 2000) || ' w' || ((i * 13) % 2000)
FROM generate_series(1, ?) AS i`,
		}
	}
	db := st.DB()
	if _, err := db.Exec(db.Rebind(q[0]), n); err != nil {
		b.Fatal(err)
	}
	for _, k := range []string{"1", "7", "13"} {
		expr := "'w' || ((id * " + k + ") % 2000)"
		if _, err := db.Exec(`INSERT INTO incident_tokens (token, created_at, incident_id)
SELECT ` + expr + `, created_at, id FROM incidents WHERE true ON CONFLICT DO NOTHING`); err != nil {
			b.Fatal(err)
		}
	}
	if st.Dialect() == store.Postgres {
		// Steady state, as autovacuum leaves a database that has grown
		// to this size: visibility map set, hint bits written,
		// statistics fresh. Without it the first reads of the bulk load
		// write hint bits, and autovacuum runs during the measurement.
		for _, t := range []string{"incidents", "incident_tokens"} {
			if _, err := db.Exec(`VACUUM (ANALYZE) ` + t); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkNewFingerprint measures making one incident's fingerprint
// (masking, lexicon, stemmers, compounds) from a subject of everyday
// length and a first line.
func BenchmarkNewFingerprint(b *testing.B) {
	subjects := []string{
		"Re: [HD-12] Drucker 3. OG Papierstau seit heute morgen",
		"Outlook keeps asking for password after the update on fileserver01.corp.example.com",
		"Besprechungsraum Rhein: Bildschirm bleibt schwarz, Dockingstation erkennt nichts",
		"VPN certificate expired - cannot connect from home office",
	}
	b.ReportAllocs()
	for i := range b.N {
		workflow.NewFingerprint(subjects[i%len(subjects)], "Hello, since this morning nothing works.", nil)
	}
}
