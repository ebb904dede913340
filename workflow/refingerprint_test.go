package workflow_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// TestRefingerprintAfterUpgrade: an installation whose stored
// fingerprints were made under earlier rules (here "certificat intranet"
// where the rules now make another word of "certificate") gets them made
// again at the next start: the incidents of the window, their word
// index, the problem and the "#not-problem" pairs; a report after the
// upgrade then joins the problem the reports before it opened. A second
// start changes nothing.
func TestRefingerprintAfterUpgrade(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			cfg := strings.Replace(problemsConfig, "threshold = 3", "threshold = 2", 1)
			eng, st := newEngine(t, d, cfg)
			ctx := context.Background()
			ingest(t, eng, raw("ann@example.com", "Intranet certificate error", "a@x"))
			ingest(t, eng, raw("bob@example.com", "Certificate error on the intranet", "b@x"))
			if got := problemOf(t, st, "HD-2"); got != "PRB-1" {
				t.Fatalf("HD-2 in %q, want PRB-1", got)
			}
			now := workflow.NewFingerprint("Intranet certificate error", "", nil).String()
			const old = "certificat fail intranet"
			if now == old {
				t.Fatalf("the rules still make %q: the test needs an old form that differs", old)
			}
			db := st.DB()
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.Exec(db.Rebind(q), args...); err != nil {
					t.Fatal(err)
				}
			}
			// The state an earlier version left.
			exec(`UPDATE incidents SET fingerprint = ?`, old)
			exec(`UPDATE problems SET fingerprint = ?`, old)
			exec(`DELETE FROM incident_tokens`)
			for _, key := range []string{"HD-1", "HD-2"} {
				inc, err := st.IncidentByKey(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range strings.Fields(old) {
					exec(`INSERT INTO incident_tokens (token, created_at, incident_id) VALUES (?, ?, ?)`, w, inc.CreatedAt.UTC(), inc.ID)
				}
			}
			exec(`INSERT INTO problem_exclusions (fingerprint, other, actor, created_at) VALUES (?, ?, ?, ?)`, old, "printer toner", "it-lead@example.com", eng.Now().UTC())
			exec(`INSERT INTO settings (name, value) VALUES ('fingerprint_rules', 'an earlier version')`)

			n, err := eng.RefingerprintIfChanged(ctx)
			if err != nil || n != 2 {
				t.Fatalf("refingerprinted %d, %v; want 2", n, err)
			}
			for _, key := range []string{"HD-1", "HD-2"} {
				inc, _ := st.IncidentByKey(ctx, key)
				if want := workflow.NewFingerprint(inc.Subject, "", nil).String(); inc.Fingerprint != want {
					t.Errorf("%s: fingerprint %q, want %q", key, inc.Fingerprint, want)
				}
				var toks []string
				if err := db.Select(&toks, db.Rebind(`SELECT token FROM incident_tokens WHERE incident_id = ?`), inc.ID); err != nil {
					t.Fatal(err)
				}
				sort.Strings(toks)
				if strings.Join(toks, " ") != inc.Fingerprint {
					t.Errorf("%s: indexed words %q, fingerprint %q", key, toks, inc.Fingerprint)
				}
			}
			ps, _ := st.ListProblems(ctx)
			if len(ps) != 1 || ps[0].Fingerprint != now {
				t.Errorf("problem fingerprint: %+v, want %q", ps, now)
			}
			var pairs []string
			if err := db.Select(&pairs, `SELECT fingerprint || '/' || other FROM problem_exclusions`); err != nil {
				t.Fatal(err)
			}
			if len(pairs) != 1 || pairs[0] != now+"/printer toner" {
				t.Errorf("#not-problem pairs %q, want the renamed one", pairs)
			}
			if n, err := eng.RefingerprintIfChanged(ctx); err != nil || n != 0 {
				t.Errorf("second start refingerprinted %d, %v", n, err)
			}
			r := ingest(t, eng, raw("cay@example.com", "intranet: certificate error again", "c@x"))
			if got := problemOf(t, st, r[0].Incident); got != "PRB-1" {
				t.Errorf("%s after the upgrade in %q, want PRB-1 (%s)", r[0].Incident, got, r[0].Reason)
			}
		})
	}
}

// TestRefingerprintFreshInstall: a new installation has nothing to make
// again and keeps the rules at once.
func TestRefingerprintFreshInstall(t *testing.T) {
	eng, st := newEngine(t, "sqlite", problemsConfig)
	ctx := context.Background()
	if n, err := eng.RefingerprintIfChanged(ctx); err != nil || n != 0 {
		t.Fatalf("%d, %v", n, err)
	}
	if v, _ := st.Setting(ctx, "fingerprint_rules"); v != workflow.FingerprintRules(eng.Cfg) {
		t.Errorf("rules kept %q", v)
	}
}
