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

// pairEngine is an engine of the dialect d whose problems open at two
// occurrences, staff commands trusted from the border MTA; extra is
// more of [problems].
func pairEngine(t *testing.T, d, extra string) (*workflow.Engine, *store.Store) {
	t.Helper()
	eng, st := newEngine(t, d, "")
	withRouting(t, eng, strings.Replace(problemCommandsConfig, "threshold = 3", "threshold = 2\n"+extra, 1))
	return eng, st
}

// TestBurstOfWordingsOneProblem: one outage reported by 60 people in
// five wordings is one problem with one notice, however the burst shifts
// the word weights: a wording that joined the problem early still joins
// it late, and the same subject never ends up in two problems.
func TestBurstOfWordingsOneProblem(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, problemsConfig+"notify_every = \"4h\"\nnotify_requester = false\n")
			clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			eng.Now = func() time.Time { return clock }
			wordings := []string{"Teams crashes", "Teams crashing on my laptop", "Teams stürzt ständig ab", "Teams crash in meetings", "Microsoft Teams keeps crashing"}
			for i := range 60 {
				clock = clock.Add(time.Second)
				ingest(t, eng, raw(fmt.Sprintf("u%d@example.com", i), wordings[i%len(wordings)], fmt.Sprintf("w%d@x", i)))
			}
			ps, err := st.ListProblems(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != 1 || ps[0].IncidentCount != 60 {
				for _, p := range ps {
					t.Logf("%s %q: %d incidents", p.Key, p.Title, p.IncidentCount)
				}
				t.Fatalf("%d problems, want one of 60 incidents", len(ps))
			}
			if n := len(outboxOf(t, st, "problem_notice")); n != 1 {
				t.Errorf("%d notices, want 1", n)
			}
		})
	}
}

// TestNoChainWhenJoining: a new report that joins a problem brings along
// only the unlinked reports that are like the problem themselves; one
// like the new report but not the problem stays out, is not told it is
// part of the problem, and the link's reason does not name it.
func TestNoChainWhenJoining(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := pairEngine(t, d, "")
			ingest(t, eng, raw("carol@example.com", "Outlook crashes", "n1@x"), raw("dan@example.com", "Outlook crashes", "n2@x"))
			ingest(t, eng, raw("erin@example.com", "Outlook calendar not working", "n3@x"))
			if got := problemOf(t, st, "HD-3"); got != "" {
				t.Fatalf("HD-3 in %s before the report like both", got)
			}
			res := ingest(t, eng, raw("frank@example.com", "Outlook calendar crashes", "n4@x"))
			if got := problemOf(t, st, "HD-4"); got != "PRB-1" {
				t.Fatalf("HD-4: problem %q, want PRB-1 (%s)", got, res[0].Reason)
			}
			if got := problemOf(t, st, "HD-3"); got != "" {
				t.Errorf("HD-3 chained into %s through HD-4 (%s)", got, res[0].Reason)
			}
			for _, m := range outboxOf(t, st, "problem_requester") {
				if strings.Contains(m.ToAddrs, "erin@") {
					t.Errorf("erin told her incident is part of the problem: %q", m.Subject)
				}
			}
			hd4, err := st.IncidentByKey(context.Background(), "HD-4")
			if err != nil {
				t.Fatal(err)
			}
			evs, err := st.IncidentEvents(context.Background(), hd4.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Kind == "problem_linked" && strings.Contains(ev.Detail, "HD-3") {
					t.Errorf("the link names an incident not linked: %s", ev.Detail)
				}
			}
		})
	}
}

// TestSimilarAgreesAfterNotProblem: after "#not-problem" parts an
// incident whose words differ from the problem's, `similar` on its
// subject gives the verdict the intake then reaches for a new report of
// it.
func TestSimilarAgreesAfterNotProblem(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := pairEngine(t, d, "")
			ctx := context.Background()
			ingest(t, eng, raw("carol@example.com", "Printer on 3rd floor offline", "a1@x"), raw("dan@example.com", "Printer on 3rd floor offline", "a2@x"))
			ingest(t, eng, raw("erin@example.com", "Printer third floor not reachable", "a3@x"))
			if got := problemOf(t, st, "HD-3"); got != "PRB-1" {
				t.Fatalf("HD-3: problem %q, want PRB-1", got)
			}
			ingest(t, eng, leadCommand("HD-3", "a4@x", "#not-problem"))
			// The problem's trail says which words were paired too.
			evs, err := st.ProblemEvents(ctx, problem(t, st, "PRB-1").ID)
			if err != nil || !hasEvent(evs, "incident_unlinked", "will not be linked with") {
				t.Errorf("the problem's trail does not name the paired words: %+v %v", evs, err)
			}
			subject := "Printer third floor not reachable"
			v, err := workflow.Similar(ctx, st.Reader, eng.Cfg, eng.Now(), subject, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			res := ingest(t, eng, raw("frank@example.com", subject, "a5@x"))
			got := problemOf(t, st, res[0].Incident)
			switch v.Verdict {
			case "join", "reopen":
				if got != v.Problem {
					t.Errorf("similar: %s %s (%s); the intake: %q (%s)", v.Verdict, v.Problem, v.Why, got, res[0].Reason)
				}
			case "open":
				if got == "" || got == "PRB-1" {
					t.Errorf("similar: open (%s); the intake: %q (%s)", v.Why, got, res[0].Reason)
				}
			default:
				if got != "" {
					t.Errorf("similar: %s (%s); the intake: %q (%s)", v.Verdict, v.Why, got, res[0].Reason)
				}
			}
			if got == "PRB-1" {
				t.Errorf("a report like the parted one joined PRB-1 (%s)", res[0].Reason)
			}
		})
	}
}

// TestLinksByHandNotInDigest: a digest lists the occurrences repeat
// detection found, not incidents staff linked by command (their own
// notice told the other contacts, and the one who linked it knows); a
// problem the contact opens by command on one incident is not mailed
// back to it, and the requester is not told that others reported it.
func TestLinksByHandNotInDigest(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := pairEngine(t, d, "notify_every = \"4h\"\n")
			ctx := context.Background()
			clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			eng.Now = func() time.Time { return clock }
			contact := func(key, id, body string) []byte {
				return []byte("From: it-lead@example.com\r\nTo: support@example.com\r\nSubject: Re: [" + key + "] x\r\n" +
					"Message-ID: <" + id + ">\r\n" + leadAR + "\r\n\r\n" + body + "\r\n")
			}
			ingest(t, eng, raw("carol@example.com", "VPN drops on laptop", "d1@x"), raw("dan@example.com", "VPN drops on laptop", "d2@x"))
			ingest(t, eng, raw("erin@example.com", "Scanner offline", "d3@x"))
			if n := len(outboxOf(t, st, "problem_notice")); n != 1 {
				t.Fatalf("%d notices, want the one of PRB-1", n)
			}
			clock = clock.Add(time.Hour)
			ingest(t, eng, contact("HD-3", "d4@x", "#problem PRB-1"))
			if got := problemOf(t, st, "HD-3"); got != "PRB-1" {
				t.Fatalf("HD-3 in %q after #problem PRB-1", got)
			}
			clock = clock.Add(4 * time.Hour)
			if _, err := eng.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			for _, dg := range outboxOf(t, st, "problem_digest") {
				t.Errorf("digest of a link by hand to %s:\n%s", dg.ToAddrs, dg.TextBody)
			}
			// The contact opens a problem on one incident by hand.
			ingest(t, eng, raw("frank@example.com", "Badge reader at the door dead", "d5@x"))
			before := len(outboxOf(t, st, "problem_notice"))
			ingest(t, eng, contact("HD-4", "d6@x", "#problem"))
			if got := problemOf(t, st, "HD-4"); got != "PRB-2" {
				t.Fatalf("HD-4 in %q after #problem, want PRB-2", got)
			}
			if n := len(outboxOf(t, st, "problem_notice")); n != before {
				t.Errorf("the contact's own new problem was mailed back to it (%d notices, had %d)", n, before)
			}
			for _, m := range outboxOf(t, st, "problem_requester") {
				if strings.Contains(m.ToAddrs, "frank@") && strings.Contains(m.TextBody, "others have reported") {
					t.Errorf("frank, alone in PRB-2, told others reported it:\n%s", m.TextBody)
				}
			}
		})
	}
}

// TestNotNotifiedPerParty: a party that holds incidents of a new problem
// but has no problem contact and no chain is on record as not told, even
// when another party's contact is told.
func TestNotNotifiedPerParty(t *testing.T) {
	eng, st := newEngine(t, "sqlite", `[[team]]
name = "it"
members = ["alice.admin@example.com"]
problem_contact = "it-lead@example.com"
[[team]]
name = "facilities"
members = ["fm@example.com"]
[[route]]
name = "rooms"
keywords = ["projector"]
assign = "facilities"
[routing]
default_assignee = "it"
[problems]
threshold = 2
`)
	ingest(t, eng, raw("ann@example.com", "Projector in room A not working", "pp1@x"))
	ingest(t, eng, raw("bob@example.com", "Beamer in room A not working", "pp2@x"))
	ingest(t, eng, raw("cid@example.com", "Room A screen not working", "pp3@x"))
	ps, err := st.ListProblems(context.Background())
	if err != nil || len(ps) != 1 {
		t.Fatalf("problems %+v %v", ps, err)
	}
	evs, _ := st.ProblemEvents(context.Background(), ps[0].ID)
	if !hasEvent(evs, "not_notified", "facilities has no problem_contact and no chain") {
		t.Errorf("no not_notified event for facilities: %+v", evs)
	}
}

// TestNoChainWhenOpening: a report like two earlier ones that are not
// alike opens a problem titled after the plainest, and the other stays
// out; later reports like it do not join through the new one.
func TestNoChainWhenOpening(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := pairEngine(t, d, "")
			ingest(t, eng, raw("erin@example.com", "Outlook calendar not working", "o1@x"))
			ingest(t, eng, raw("carol@example.com", "Outlook crashes", "o2@x"))
			if got := problemOf(t, st, "HD-2"); got != "" {
				t.Fatalf("HD-2 in %s: the first two are not alike", got)
			}
			res := ingest(t, eng, raw("frank@example.com", "Outlook calendar crashes", "o3@x"))
			if got := problemOf(t, st, "HD-3"); got != "PRB-1" {
				t.Fatalf("HD-3: problem %q, want PRB-1 (%s)", got, res[0].Reason)
			}
			if p := problem(t, st, "PRB-1"); p.Title != "Outlook crashes" {
				t.Errorf("PRB-1 titled %q", p.Title)
			}
			if got := problemOf(t, st, "HD-1"); got != "" {
				t.Errorf("HD-1 (calendar not working) chained into %s (%s)", got, res[0].Reason)
			}
			for i, who := range []string{"gina@example.com", "hal@example.com"} {
				r := ingest(t, eng, raw(who, "Outlook calendar not working", fmt.Sprintf("o%d@x", 4+i)))
				if got := problemOf(t, st, r[0].Incident); got == "PRB-1" {
					t.Errorf("%s (calendar not working) joined the crash problem (%s)", r[0].Incident, r[0].Reason)
				}
			}
		})
	}
}

// TestDigestAfterLinkByHand: the notice of a link by hand does not
// swallow what detection found before it: the next digest lists it.
func TestDigestAfterLinkByHand(t *testing.T) {
	eng, st := pairEngine(t, "sqlite", "notify_every = \"4h\"\n")
	ctx := context.Background()
	clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	eng.Now = func() time.Time { return clock }
	ingest(t, eng, raw("carol@example.com", "VPN drops on laptop", "g1@x"), raw("dan@example.com", "VPN drops on laptop", "g2@x"))
	clock = clock.Add(30 * time.Minute)
	ingest(t, eng, raw("erin@example.com", "VPN drops on laptop", "g3@x"))
	ingest(t, eng, raw("frank@example.com", "Scanner offline", "g4@x"))
	clock = clock.Add(30 * time.Minute)
	ingest(t, eng, leadCommand("HD-4", "g5@x", "#problem PRB-1"))
	if n := len(outboxOf(t, st, "problem_notice")); n != 2 {
		t.Fatalf("%d notices, want the new problem's and the link's", n)
	}
	for range 3 {
		clock = clock.Add(4 * time.Hour)
		if _, err := eng.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	dg := outboxOf(t, st, "problem_digest")
	if len(dg) != 1 || !strings.Contains(dg[0].TextBody, "HD-3") || !strings.Contains(dg[0].TextBody, "1 new occurrence") {
		for _, m := range dg {
			t.Logf("digest:\n%s", m.TextBody)
		}
		t.Fatalf("%d digests, want one listing HD-3 alone", len(dg))
	}
}
