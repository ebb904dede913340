package workflow_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/templates"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// TestProblemNoticeDigest: a burst of 60 similar mails in one minute makes
// one problem and one notice to the problem contact, which reads as a new
// problem; the problem-digest tick job then sends one digest listing the
// other occurrences once [problems] notify_every has passed, and only
// once however often the tick runs.
func TestProblemNoticeDigest(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, problemsConfig+"notify_every = \"4h\"\nnotify_requester = false\n")
			ctx := context.Background()
			clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			eng.Now = func() time.Time { return clock }
			reportEach(t, eng, &clock, 60, "Shared drive S: missing after login")
			ps, err := st.ListProblems(ctx)
			if err != nil || len(ps) != 1 || ps[0].IncidentCount != 60 {
				t.Fatalf("problems: %+v %v", ps, err)
			}
			notices := outboxOf(t, st, "problem_notice")
			if len(notices) != 1 {
				t.Fatalf("%d notices to the problem contact, want 1", len(notices))
			}
			if n := notices[0]; !strings.Contains(n.Subject, "New problem") || !strings.HasPrefix(n.TextBody, "New problem PRB-1") ||
				strings.Contains(n.TextBody, "another occurrence") {
				t.Errorf("the first notice does not read as a new problem: %q\n%s", n.Subject, n.TextBody)
			}
			tick := func() {
				t.Helper()
				if _, err := eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			clock = clock.Add(time.Hour)
			tick()
			if n := len(outboxOf(t, st, "problem_digest")); n != 0 {
				t.Fatalf("%d digests one hour after the notice, want none before notify_every", n)
			}
			clock = clock.Add(3 * time.Hour)
			tick()
			tick()
			clock = clock.Add(time.Minute)
			tick()
			digests := outboxOf(t, st, "problem_digest")
			if len(digests) != 1 {
				t.Fatalf("%d digests, want 1", len(digests))
			}
			dg := digests[0]
			if dg.ToAddrs != "it-lead@example.com" || !strings.Contains(dg.TextBody, "57 new occurrences of PRB-1") ||
				!strings.Contains(dg.TextBody, "HD-60") || strings.Contains(dg.TextBody, "HD-3 ") {
				t.Errorf("digest to %s:\n%s", dg.ToAddrs, dg.TextBody)
			}
			// Nothing new since: no further digest, however late.
			clock = clock.Add(24 * time.Hour)
			tick()
			if n := len(outboxOf(t, st, "problem_digest")); n != 1 {
				t.Fatalf("%d digests with nothing new, want 1", n)
			}
			// A new occurrence: the next digest lists only it.
			ingest(t, eng, raw("late@example.com", "shared drive S: missing after login", "late@x"))
			if n := len(outboxOf(t, st, "problem_notice")); n != 1 {
				t.Fatalf("%d notices after a later occurrence, want still 1", n)
			}
			clock = clock.Add(time.Minute)
			tick()
			digests = outboxOf(t, st, "problem_digest")
			if len(digests) != 2 || !strings.Contains(digests[1].TextBody, "1 new occurrence of") || !strings.Contains(digests[1].TextBody, "HD-61") {
				t.Fatalf("second digest: %d digests; %+v", len(digests), digests[len(digests)-1].TextBody)
			}
		})
	}
}

// TestProblemDigestOneBatch: the same burst fetched in one intake cycle
// (one batch, one time): the notice lists what opened the problem, the
// digest every occurrence linked after it in the batch.
func TestProblemDigestOneBatch(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, problemsConfig+"notify_every = \"4h\"\nnotify_requester = false\n")
			ctx := context.Background()
			clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			eng.Now = func() time.Time { return clock }
			var mails [][]byte
			for i := range 60 {
				mails = append(mails, raw(fmt.Sprintf("user%d@example.com", i), "WLAN im Gebäude B ausgefallen", fmt.Sprintf("ob%d@x", i)))
			}
			ingest(t, eng, mails...)
			if ps, err := st.ListProblems(ctx); err != nil || len(ps) != 1 || ps[0].IncidentCount != 60 {
				t.Fatalf("problems: %+v %v", ps, err)
			}
			notices := outboxOf(t, st, "problem_notice")
			if len(notices) != 1 || !strings.Contains(notices[0].TextBody, "HD-3") || strings.Contains(notices[0].TextBody, "HD-4") {
				t.Fatalf("%d notices; %s", len(notices), notices[0].TextBody)
			}
			clock = clock.Add(4*time.Hour + time.Minute)
			if _, err := eng.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			digests := outboxOf(t, st, "problem_digest")
			if len(digests) != 1 || !strings.Contains(digests[0].TextBody, "57 new occurrences of PRB-1") ||
				!strings.Contains(digests[0].TextBody, "HD-4 ") || !strings.Contains(digests[0].TextBody, "HD-60") || strings.Contains(digests[0].TextBody, "HD-3 ") {
				t.Fatalf("%d digests; %+v", len(digests), digests)
			}
		})
	}
}

// TestProblemDigestTwoDaemons: two engines on one PostgreSQL database tick
// at the same moments; the digest is queued once.
func TestProblemDigestTwoDaemons(t *testing.T) {
	u := testutil.URL(t, "postgres")
	tmpl, err := templates.Load()
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var engines []*workflow.Engine
	for range 2 {
		eng, _ := newEngine(t, "sqlite", problemsConfig+"notify_requester = false\n")
		cfg := *eng.Cfg
		st := testutil.OpenURL(t, u)
		e := workflow.NewEngine(st, &cfg, tmpl, nil)
		e.Now = func() time.Time { return clock }
		engines = append(engines, e)
	}
	for i := range 5 {
		clock = clock.Add(time.Second)
		ingest(t, engines[i%2], raw(fmt.Sprintf("u%d@example.com", i), "Shared drive S: missing after login", fmt.Sprintf("t%d@x", i)))
	}
	clock = clock.Add(4*time.Hour + time.Minute)
	for range 3 {
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Add(1)
			go func(e *workflow.Engine) {
				defer wg.Done()
				if _, err := e.Tick(context.Background()); err != nil {
					t.Error(err)
				}
			}(e)
		}
		wg.Wait()
		clock = clock.Add(time.Minute)
	}
	st := testutil.OpenURL(t, u)
	if n := len(outboxOf(t, st, "problem_digest")); n != 1 {
		t.Fatalf("%d digests from two daemons, want 1", n)
	}
}

// TestSameRequesterFollowUp: one requester sending the same request three
// times while the first is open gets one incident, the later mails
// threaded into it as follow-ups (acknowledged as such, a stored reason),
// and no problem; once it is resolved, the same report again is a new
// incident and counts as an occurrence.
func TestSameRequesterFollowUp(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, problemsConfig+"notify_requester = true\n[commands]\ntrusted_authserv_ids = [\"mx.example.com\"]\n")
			ctx := context.Background()
			mail := func(subject, id string) []byte {
				return raw("sam@example.com", subject, id, leadAR)
			}
			var res []workflow.Result
			for i, subj := range []string{"shared drive S: missing", "shared drive S: missing (2)", "Re: shared drive S: missing 3"} {
				res = append(res, ingest(t, eng, mail(subj, fmt.Sprintf("f%d@x", i)))...)
			}
			if res[0].Outcome != workflow.OutcomeNewIncident || res[1].Outcome != workflow.OutcomeThreaded || res[2].Outcome != workflow.OutcomeThreaded ||
				res[1].Incident != "HD-1" || !strings.Contains(res[1].Reason, "follow-up") {
				t.Fatalf("results: %+v", res)
			}
			if ps, _ := st.ListProblems(ctx); len(ps) != 0 {
				t.Fatalf("a requester's own repeats opened %d problem(s)", len(ps))
			}
			acks := outboxOf(t, st, "ack")
			if len(acks) != 3 || !strings.Contains(acks[1].TextBody, "added to your open request HD-1") ||
				strings.Contains(acks[1].TextBody, "Others have reported") {
				t.Fatalf("acknowledgements: %d; %+v", len(acks), acks)
			}
			if !hasEvent(eventsOf(t, st, "HD-1"), "follow_up", "follow-up: sam@example.com's open HD-1") {
				t.Errorf("no stored reason on HD-1: %+v", eventsOf(t, st, "HD-1"))
			}
			// Resolved: the next report is a recurrence.
			inc, _ := st.IncidentByKey(ctx, "HD-1")
			if _, err := st.DB().Exec(st.DB().Rebind(`UPDATE incidents SET status = 'resolved' WHERE id = ?`), inc.ID); err != nil {
				t.Fatal(err)
			}
			r := ingest(t, eng, mail("shared drive S: missing", "f9@x"))
			if r[0].Outcome != workflow.OutcomeNewIncident || r[0].Incident != "HD-2" {
				t.Fatalf("after resolution: %+v", r[0])
			}
			r = ingest(t, eng, raw("tom@example.com", "Shared drive S: missing", "f10@x"))
			if got := problemOf(t, st, r[0].Incident); got != "PRB-1" {
				t.Errorf("%s: problem %q with HD-1, HD-2 and it, want PRB-1 (%s)", r[0].Incident, got, r[0].Reason)
			}
		})
	}
}

// TestSameRequesterUnauthenticated: mail that cannot be authenticated is
// not threaded as a follow-up (its From is easily forged), but the same
// requester's resends still do not open a problem while the first is
// open; once it is resolved, the same report again is a recurrence, told
// as the requester's own, and a report by someone else as others'.
func TestSameRequesterUnauthenticated(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, strings.Replace(problemsConfig, "threshold = 3", "threshold = 2", 1)+"notify_requester = true\n")
			ctx := context.Background()
			var res []workflow.Result
			for i := range 3 {
				res = append(res, ingest(t, eng, raw("sam@example.com", "VPN certificate expired", fmt.Sprintf("u%d@x", i)))...)
			}
			for i, r := range res {
				if r.Outcome != workflow.OutcomeNewIncident || strings.Contains(r.Reason, "follow-up") {
					t.Fatalf("mail %d: %+v (unauthenticated mail must not be threaded by its From)", i, r)
				}
			}
			if ps, _ := st.ListProblems(ctx); len(ps) != 0 {
				t.Fatalf("one requester's open resends opened %d problem(s)", len(ps))
			}
			for _, a := range outboxOf(t, st, "ack") {
				if strings.Contains(a.TextBody, "reported this issue") {
					t.Errorf("acknowledgement speaks of a problem: %s", a.TextBody)
				}
			}
			if _, err := st.DB().Exec(`UPDATE incidents SET status = 'resolved'`); err != nil {
				t.Fatal(err)
			}
			r := ingest(t, eng, raw("sam@example.com", "VPN certificate expired", "u9@x"))
			if got := problemOf(t, st, r[0].Incident); got != "PRB-1" {
				t.Fatalf("the recurrence after resolution: problem %q", got)
			}
			acks := outboxOf(t, st, "ack")
			if last := acks[len(acks)-1].TextBody; !strings.Contains(last, "You have reported this issue before") || strings.Contains(last, "Others have reported") {
				t.Errorf("the recurrence's acknowledgement:\n%s", last)
			}
			r = ingest(t, eng, raw("tom@example.com", "VPN certificate has expired", "t1@x"))
			if got := problemOf(t, st, r[0].Incident); got != "PRB-1" {
				t.Fatalf("another requester's report: problem %q", got)
			}
			acks = outboxOf(t, st, "ack")
			if last := acks[len(acks)-1].TextBody; !strings.Contains(last, "Others have reported this issue too") {
				t.Errorf("another requester's acknowledgement:\n%s", last)
			}
		})
	}
}

// TestProblemNoticeWithoutContact: a party without a problem contact has
// its problem notices sent to level 1 of its chain; with no chain either,
// the problem records that nobody was told.
func TestProblemNoticeWithoutContact(t *testing.T) {
	for _, tc := range []struct{ team, want string }{
		{"[[team]]\nname = \"it\"\nmembers = [\"alice.admin@example.com\"]\nchain = [\"it-lead@example.com\", \"cio@example.com\"]\n", "it-lead@example.com"},
		{"[[team]]\nname = \"it\"\nmembers = [\"alice.admin@example.com\"]\n", ""},
	} {
		eng, st := newEngine(t, "sqlite", tc.team+"[routing]\ndefault_assignee = \"it\"\n[problems]\nthreshold = 2\n")
		for i, who := range []string{"ann@example.com", "bob@example.com"} {
			ingest(t, eng, raw(who, "Printer 1st floor offline", fmt.Sprintf("nc%d@x", i)))
		}
		notices := outboxOf(t, st, "problem_notice")
		if tc.want != "" {
			if len(notices) != 1 || notices[0].ToAddrs != tc.want {
				t.Errorf("notices %+v, want one to %s", notices, tc.want)
			}
			continue
		}
		if len(notices) != 0 {
			t.Errorf("notices %+v, want none", notices)
		}
		pr := problem(t, st, "PRB-1")
		evs, _ := st.ProblemEvents(context.Background(), pr.ID)
		if !hasEvent(evs, "not_notified", "it has no problem_contact and no chain") {
			t.Errorf("no not_notified event: %+v", evs)
		}
	}
}

// TestNoProblemChains: a report like one member of a problem (linked there
// by hand) but not like the problem itself does not join it, nor pull
// other reports in: its own issue becomes a problem of its own.
func TestNoProblemChains(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, problemCommandsConfig)
			ingest(t, eng,
				raw("carol@example.com", "Outlook crashes on start", "c1@x"),
				raw("dan@example.com", "outlook keeps crashing when starting", "c2@x"),
				raw("erin@example.com", "Outlook crash at startup", "c3@x"),
				raw("frank@example.com", "Printer on 3rd floor jams", "c4@x"))
			ingest(t, eng, leadCommand("HD-4", "c5@x", "#problem PRB-1"))
			if got := problemOf(t, st, "HD-4"); got != "PRB-1" {
				t.Fatalf("HD-4 in %q after #problem PRB-1", got)
			}
			ingest(t, eng, raw("gina@example.com", "Printer on 3rd floor jams", "c6@x"))
			res := ingest(t, eng, raw("hal@example.com", "printer on the 3rd floor jams again", "c7@x"))
			for _, hd := range []string{"HD-5", "HD-6"} {
				if got := problemOf(t, st, hd); got == "PRB-1" {
					t.Errorf("%s chained into PRB-1 through HD-4 (%s)", hd, res[0].Reason)
				}
			}
			if got := problemOf(t, st, "HD-6"); got != "PRB-2" {
				t.Errorf("HD-6: problem %q, want PRB-2 of its own (%s)", got, res[0].Reason)
			}
		})
	}
}

// TestProblemTellsOpenRequesters: with notify_requester, when a problem
// opens, the requesters of the earlier occurrences that are still open
// are told once; the requester of a resolved one is not mailed; the new
// incident's requester hears it in the acknowledgement.
func TestProblemTellsOpenRequesters(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, problemCommandsConfig)
			ctx := context.Background()
			ingest(t, eng, raw("carol@example.com", "Scanner offline", "o1@x"), raw("dan@example.com", "Scanner offline", "o2@x"))
			inc, _ := st.IncidentByKey(ctx, "HD-2")
			if _, err := st.DB().Exec(st.DB().Rebind(`UPDATE incidents SET status = 'resolved' WHERE id = ?`), inc.ID); err != nil {
				t.Fatal(err)
			}
			ingest(t, eng, raw("erin@example.com", "scanner is offline", "o3@x"))
			ingest(t, eng, raw("frank@example.com", "Scanner offline", "o4@x"))
			if got := problemOf(t, st, "HD-4"); got != "PRB-1" {
				t.Fatalf("HD-4: problem %q", got)
			}
			told := map[string]int{}
			for _, o := range outboxOf(t, st, "problem_requester") {
				told[o.ToAddrs]++
			}
			if told["carol@example.com"] != 1 || told["dan@example.com"] != 0 || len(told) != 1 {
				t.Errorf("requesters told: %v, want carol@example.com once only", told)
			}
		})
	}
}

// TestProblemTellsRequesterOnce: a requester with several open incidents
// linked to one problem (her own resends, not authenticated, linked by
// staff with "#problem PRB-1") is told once, not once an incident.
func TestProblemTellsRequesterOnce(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, problemCommandsConfig)
			ingest(t, eng, raw("ida@example.com", "Scanner offline", "i1@x"))
			ingest(t, eng, raw("ida@example.com", "Scanner offline", "i2@x"))
			ingest(t, eng, raw("ida@example.com", "Scanner offline", "i3@x"))
			ingest(t, eng, raw("jan@example.com", "Scanner offline", "i4@x"), raw("kim@example.com", "Scanner offline", "i5@x"))
			for _, hd := range []string{"HD-1", "HD-4", "HD-5"} {
				if got := problemOf(t, st, hd); got != "PRB-1" {
					t.Fatalf("%s: problem %q, want PRB-1", hd, got)
				}
			}
			ingest(t, eng, leadCommand("HD-2", "i6@x", "#problem PRB-1"))
			ingest(t, eng, leadCommand("HD-3", "i7@x", "#problem PRB-1"))
			if problemOf(t, st, "HD-2") != "PRB-1" || problemOf(t, st, "HD-3") != "PRB-1" {
				t.Fatal("the lead's links did not take")
			}
			told := map[string]int{}
			for _, o := range outboxOf(t, st, "problem_requester") {
				told[o.ToAddrs]++
			}
			if told["ida@example.com"] != 1 {
				t.Errorf("requesters told: %v, want ida@example.com once", told)
			}
		})
	}
}

// TestProblemRecurrenceOneBatch: a resolved problem that recurs in a
// burst fetched as one batch gets one "Repeat problem" notice, not one a
// report; the rest of the burst is in the next digest.
func TestProblemRecurrenceOneBatch(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, problemCommandsConfig)
			ctx := context.Background()
			clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			eng.Now = func() time.Time { return clock }
			ingest(t, eng, raw("u1@example.com", "VPN keeps disconnecting", "rb1@x"), raw("u2@example.com", "VPN keeps disconnecting", "rb2@x"),
				raw("u3@example.com", "VPN keeps disconnecting", "rb3@x"))
			ingest(t, eng, leadCommand("PRB-1", "rb4@x", "#resolve new firmware"))
			if pr := problem(t, st, "PRB-1"); pr.Status != "resolved" {
				t.Fatalf("PRB-1 %s after #resolve", pr.Status)
			}
			before := len(outboxOf(t, st, "problem_notice"))
			clock = clock.Add(24 * time.Hour)
			var mails [][]byte
			for i := range 20 {
				mails = append(mails, raw(fmt.Sprintf("r%d@example.com", i), "VPN keeps disconnecting", fmt.Sprintf("rb-%d@x", i)))
			}
			ingest(t, eng, mails...)
			notices := outboxOf(t, st, "problem_notice")[before:]
			if len(notices) != 1 || !strings.Contains(notices[0].Subject, "Repeat problem") {
				t.Fatalf("%d notices after the recurrence, want one Repeat problem: %+v", len(notices), notices)
			}
			clock = clock.Add(4*time.Hour + time.Minute)
			if _, err := eng.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if digests := outboxOf(t, st, "problem_digest"); len(digests) != 1 || !strings.Contains(digests[0].TextBody, "19 new occurrences of PRB-1") {
				t.Fatalf("%d digests; %+v", len(digests), digests)
			}
		})
	}
}
