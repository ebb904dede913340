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

const problemsConfig = `
[[team]]
name = "it"
members = ["alice.admin@example.com"]
problem_contact = "it-lead@example.com"
[routing]
default_assignee = "it"
[problems]
window = "30d"
threshold = 3
similarity = 0.75
`

// TestRepeatsBecomeProblems: the third occurrence of an issue within the
// window (any requester) opens PRB-1 and links all three; a later one
// joins it; a different issue that shares a word does not; a resolved
// problem that recurs is opened again. The problem contact and the
// requester are told. Run message by message and as one batch.
func TestRepeatsBecomeProblems(t *testing.T) {
	mails := [][]byte{
		raw("carol@example.com", "Outlook crashes on start", "p1@x"),
		raw("dan@example.com", "outlook keeps crashing when starting", "p2@x"),
		raw("erin@example.com", "Re: Outlook crash at startup again", "p3@x"),
		raw("frank@example.com", "Outlook calendar not syncing", "p4@x"),
		raw("gina@example.com", "Outlook crashed on startup", "p5@x"),
	}
	for _, d := range testutil.Dialects {
		for _, oneBatch := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/batch=%v", d, oneBatch), func(t *testing.T) {
				eng, st := newEngine(t, d, "")
				withRouting(t, eng, problemsConfig)
				cfg := eng.Cfg
				_ = cfg
				var res []workflow.Result
				if oneBatch {
					res = ingest(t, eng, mails...)
				} else {
					for _, m := range mails {
						res = append(res, ingest(t, eng, m)...)
					}
				}
				ctx := context.Background()
				want := map[string]string{"HD-1": "PRB-1", "HD-2": "PRB-1", "HD-3": "PRB-1", "HD-4": "", "HD-5": "PRB-1"}
				for key, prb := range want {
					inc, err := st.IncidentByKey(ctx, key)
					if err != nil {
						t.Fatal(err)
					}
					got := ""
					if inc.ProblemID != nil {
						p, err := st.ProblemByID(ctx, *inc.ProblemID)
						if err != nil {
							t.Fatal(err)
						}
						got = p.Key
					}
					if got != prb {
						t.Errorf("%s (%s): problem %q, want %q", key, inc.Subject, got, prb)
					}
				}
				if !strings.Contains(res[2].Reason, "repeat: part of PRB-1") {
					t.Errorf("third occurrence: %s", res[2].Reason)
				}
				var notices []store.Outbox
				st.DB().Select(&notices, `SELECT * FROM outbox WHERE kind = 'problem_notice' ORDER BY id`)
				// One notice opens the problem; HD-5 waits for the
				// digest (TestProblemNoticeDigest).
				if len(notices) != 1 || notices[0].ToAddrs != "it-lead@example.com" || !strings.HasPrefix(notices[0].Subject, "[PRB-1]") ||
					!strings.Contains(notices[0].TextBody, "HD-1, HD-2 and HD-3 match") {
					t.Fatalf("problem notices: %+v", notices)
				}
				// The new incidents' requesters hear it in their
				// acknowledgement: one mail, not two.
				var toldInAck, separate int
				st.DB().Get(&toldInAck, `SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND text_body LIKE '%known problem%PRB-1%'`)
				st.DB().Get(&separate, `SELECT COUNT(*) FROM outbox WHERE kind = 'problem_requester'`)
				// The requesters of the earlier occurrences, still
				// open, are told once each (HD-1, HD-2).
				if toldInAck != 2 || separate != 2 {
					t.Errorf("%d acknowledgements name PRB-1 (want 2: HD-3, HD-5), %d separate notices (want 2: HD-1, HD-2)", toldInAck, separate)
				}

				// Resolved, then back: the same problem opens again.
				p, _ := st.ProblemByKey(ctx, "PRB-1")
				now := time.Now()
				p.Status, p.ResolvedAt, p.UpdatedAt = store.ProblemResolved, &now, now
				if err := st.UpdateProblem(ctx, p); err != nil {
					t.Fatal(err)
				}
				res = ingest(t, eng, raw("hal@example.com", "Outlook crashes at start", "p6@x"))
				if p, _ = st.ProblemByKey(ctx, "PRB-1"); p.Status != store.ProblemOpen || !strings.Contains(res[0].Reason, "PRB-1") {
					t.Errorf("after a recurrence: %s, %s", p.Status, res[0].Reason)
				}
				ps, _ := st.ListProblems(ctx)
				if len(ps) != 1 {
					t.Errorf("%d problems, want 1", len(ps))
				}
			})
		}
	}
}

// TestRepeatsOutsideTheWindowDoNotCount: occurrences older than the
// window are history, not a repeat.
func TestRepeatsOutsideTheWindowDoNotCount(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "")
	withRouting(t, eng, problemsConfig)
	clock := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	eng.Now = func() time.Time { clock = clock.Add(20 * 24 * time.Hour); return clock }
	ingest(t, eng, raw("a@example.com", "VPN authentication failed", "w1@x"))
	ingest(t, eng, raw("b@example.com", "VPN authentication failed", "w2@x"))
	ingest(t, eng, raw("c@example.com", "VPN authentication failed", "w3@x"))
	ps, _ := st.ListProblems(context.Background())
	if len(ps) != 0 {
		t.Fatalf("%d problems from occurrences 20 days apart with a 30-day window and threshold 3", len(ps))
	}
}
