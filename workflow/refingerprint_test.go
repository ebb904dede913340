package workflow_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

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

// TestRefingerprintDropsSelfPairs: a "#not-problem" pair between two
// fingerprints that an ignore_words edit makes one would pair a
// fingerprint with itself and stop the problem catching reports of its
// own words: the pair goes, the parted incident stays apart.
func TestRefingerprintDropsSelfPairs(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			cfg := strings.Replace(problemsConfig, "threshold = 3", "threshold = 2", 1) + "notify_requester = false\n[commands]\ntrusted_authserv_ids = [\"mx.example.com\"]\n"
			eng, st := newEngine(t, d, cfg)
			ctx := context.Background()
			if _, err := eng.RefingerprintIfChanged(ctx); err != nil {
				t.Fatal(err)
			}
			ingest(t, eng, raw("carol@example.com", "Outlook crashes at start", "x1@x"))
			ingest(t, eng, raw("dan@example.com", "Outlook crashes at start in Teams", "x2@x"))
			if problemOf(t, st, "HD-2") != "PRB-1" {
				t.Fatalf("no PRB-1: %q", problemOf(t, st, "HD-2"))
			}
			ingest(t, eng, leadCommand("HD-2", "x3@x", "#not-problem"))
			eng.Cfg.Problems.IgnoreWords = []string{"teams"}
			if _, err := eng.RefingerprintIfChanged(ctx); err != nil {
				t.Fatal(err)
			}
			var self int
			st.DB().Get(&self, `SELECT COUNT(*) FROM problem_exclusions WHERE fingerprint = other`)
			if self != 0 {
				t.Errorf("%d pairs of a fingerprint with itself", self)
			}
			r := ingest(t, eng, raw("erin@example.com", "Outlook crashes at start", "x4@x"))
			if got := problemOf(t, st, r[0].Incident); got != "PRB-1" {
				t.Errorf("%s (the problem's own words) in %q, want PRB-1", r[0].Incident, got)
			}
			if got := problemOf(t, st, "HD-2"); got != "" {
				t.Errorf("the parted HD-2 back in %q", got)
			}
		})
	}
}

// TestRefingerprintInterrupted: a run stopped while renaming the
// "#not-problem" pairs (another session holds their table; PostgreSQL)
// changes nothing; the next start renames them and the incidents, and
// the parted report's like is not linked to the problem it was parted
// from.
func TestRefingerprintInterrupted(t *testing.T) {
	cfg := strings.Replace(problemsConfig, "threshold = 3", "threshold = 2", 1) + "notify_requester = false\n[commands]\ntrusted_authserv_ids = [\"mx.example.com\"]\n"
	eng, st := newEngine(t, "postgres", cfg)
	ctx := context.Background()
	if _, err := eng.RefingerprintIfChanged(ctx); err != nil {
		t.Fatal(err)
	}
	ingest(t, eng, raw("carol@example.com", "Outlook crashes at start", "x1@x"))
	ingest(t, eng, raw("dan@example.com", "Outlook crashes at start in Teams", "x2@x"))
	ingest(t, eng, leadCommand("HD-2", "x3@x", "#not-problem"))
	eng.Cfg.Problems.IgnoreWords = []string{"start"}
	lock, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(`LOCK TABLE problem_exclusions IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	if _, err := eng.RefingerprintIfChanged(cctx); err == nil {
		t.Fatal("the run was not interrupted")
	}
	cancel()
	lock.Rollback()
	if n, err := eng.RefingerprintIfChanged(ctx); err != nil || n != 2 {
		t.Fatalf("next start: %d, %v; want 2", n, err)
	}
	b := workflow.NewFingerprint("Outlook crashes at start in Teams", "", eng.Cfg.Problems.IgnoreWords).String()
	var n int
	st.DB().Get(&n, st.DB().Rebind(`SELECT COUNT(*) FROM problem_exclusions WHERE fingerprint = ? OR other = ?`), b, b)
	if n != 2 {
		t.Errorf("%d pairs hold the new form %q of the parted fingerprint, want 2", n, b)
	}
	r := ingest(t, eng, raw("erin@example.com", "Outlook crashes at start in Teams", "x4@x"))
	if got := problemOf(t, st, r[0].Incident); got == "PRB-1" {
		t.Errorf("a report like the parted HD-2 joined PRB-1")
	}
}

// TestRefingerprintKeepsTheProblemsWords: an ignore_words edit that
// changes one incident's fingerprint of a problem whose title and other
// incidents keep theirs leaves the problem's fingerprint as it was.
func TestRefingerprintKeepsTheProblemsWords(t *testing.T) {
	eng, st := newEngine(t, "sqlite", strings.Replace(problemsConfig, "threshold = 3", "threshold = 2", 1)+"ignore_words = [\"contoso\"]\nnotify_requester = false\n")
	ctx := context.Background()
	if _, err := eng.RefingerprintIfChanged(ctx); err != nil {
		t.Fatal(err)
	}
	ingest(t, eng, raw("carol@example.com", "Outlook crashes at start", "k1@x"))
	ingest(t, eng, raw("dan@example.com", "Outlook crashes at start", "k2@x"))
	ingest(t, eng, raw("erin@example.com", "Contoso: Outlook crashes at start", "k3@x"))
	if problemOf(t, st, "HD-3") != "PRB-1" {
		t.Fatalf("HD-3 in %q", problemOf(t, st, "HD-3"))
	}
	eng.Cfg.Problems.IgnoreWords = nil
	if n, err := eng.RefingerprintIfChanged(ctx); err != nil || n != 1 {
		t.Fatalf("%d, %v; want HD-3 alone made again", n, err)
	}
	if pr := problem(t, st, "PRB-1"); pr.Fingerprint != "crash outlook start" {
		t.Errorf("PRB-1's fingerprint %q, want its title's", pr.Fingerprint)
	}
}
