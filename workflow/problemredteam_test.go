package workflow_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// Attacks on repeat detection and problem mail, each a test that fails
// when the defence is gone.

// TestFingerprintBoundedWork: a subject made to blow up the compound
// splitter or the stemmers (a compound that splits two ways, repeated;
// one enormous word) is fingerprinted in bounded time inside the
// batch's transaction.
func TestFingerprintBoundedWork(t *testing.T) {
	eng, _ := newEngine(t, "sqlite", problemsConfig)
	for i, subj := range []string{
		strings.Repeat("Dockingstation", 60) + "x",
		strings.Repeat("adminrechte ", 2000),
		strings.Repeat("x", 1<<20),
	} {
		start := time.Now()
		ingest(t, eng, raw("mallory@evil.example", subj, fmt.Sprintf("dos%d@x", i)))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("subject %d (%d bytes): ingest took %v", i, len(subj), d)
		}
	}
}

// TestFollowUpOnlyIntoOwnAuthenticatedIncident: an unauthenticated
// outsider opens an incident "for" sam (X-Original-From); sam's own,
// authenticated report of the same issue is not threaded into it as a
// follow-up.
func TestFollowUpOnlyIntoOwnAuthenticatedIncident(t *testing.T) {
	eng, st := newEngine(t, "sqlite", problemsConfig+"notify_requester = true\n[commands]\ntrusted_authserv_ids = [\"mx.example.com\"]\n")
	r := ingest(t, eng, []byte("From: mallory@evil.example\r\nX-Original-From: sam@example.com\r\nTo: support@example.com\r\n"+
		"Subject: VPN not working\r\nMessage-ID: <m1@evil>\r\n\r\nPlease send the VPN config to mallory@evil.example.\r\n"))
	if inc, _ := st.IncidentByKey(context.Background(), r[0].Incident); inc.Requester != "sam@example.com" {
		t.Fatalf("the setup needs the forged requester: %q", inc.Requester)
	}
	r2 := ingest(t, eng, raw("sam@example.com", "VPN not working", "s1@x", leadAR))
	if r2[0].Incident == r[0].Incident || r2[0].Outcome != workflow.OutcomeNewIncident {
		t.Errorf("sam's authenticated report went into %s, opened by an unauthenticated outsider: %+v", r[0].Incident, r2[0])
	}
	// Sam's own authenticated incident does take his follow-up.
	r3 := ingest(t, eng, raw("sam@example.com", "VPN still not working", "s2@x", leadAR))
	if r3[0].Incident != r2[0].Incident || !strings.Contains(r3[0].Reason, "follow-up") {
		t.Errorf("follow-up to sam's own incident: %+v", r3[0])
	}
}

// partiesConfig adds a printing provider with its own problem contact.
// TestFollowUpNotAcrossAssets: one sender's reports about different
// machines are not follow-ups of each other, however alike once hosts
// and numbers are masked; and a sender exempt from the new-incident
// limit (monitoring, a web form) never has follow-ups.
func TestFollowUpNotAcrossAssets(t *testing.T) {
	eng, st := newEngine(t, "sqlite", problemsConfig+"[commands]\ntrusted_authserv_ids = [\"mx.example.com\"]\n")
	eng.Cfg.Helpdesk.NewIncidentLimitExempt = []string{"forms@example.com"}
	a := ingest(t, eng, raw("sam@example.com", "CRITICAL: disk full on srv01.example.com", "as1@x", leadAR))
	b := ingest(t, eng, raw("sam@example.com", "CRITICAL: disk full on srv02.example.com", "as2@x", leadAR))
	if b[0].Outcome != workflow.OutcomeNewIncident || b[0].Incident == a[0].Incident {
		t.Errorf("srv02's report went into srv01's %s: %+v", a[0].Incident, b[0])
	}
	c := ingest(t, eng, raw("sam@example.com", "still: disk full on srv01.example.com", "as3@x", leadAR))
	if c[0].Incident != a[0].Incident {
		t.Errorf("the same machine again: %+v, want a follow-up to %s", c[0], a[0].Incident)
	}
	d := ingest(t, eng, raw("forms@example.com", "Backup job HR-DB failed", "fm1@x", leadAR))
	e := ingest(t, eng, raw("forms@example.com", "Backup job FIN-DB failed", "fm2@x", leadAR))
	if e[0].Outcome != workflow.OutcomeNewIncident || e[0].Incident == d[0].Incident {
		t.Errorf("an exempt sender's second report went into %s: %+v", d[0].Incident, e[0])
	}
	// An exempt sender's repeated alert is a recurrence: with the
	// threshold (3) reached by its own alerts, a problem opens.
	f := ingest(t, eng, raw("forms@example.com", "Backup job HR-DB failed", "fm3@x", leadAR))
	if got := problemOf(t, st, f[0].Incident); got == "" {
		t.Errorf("three alerts of one monitoring sender opened no problem: %+v", f[0])
	}
}

// TestAcknowledgementNoOracle: an outsider naming someone else in
// X-Original-From is not told whether that person reported the issue
// before, nor the problem's title (another requester's subject).
func TestAcknowledgementNoOracle(t *testing.T) {
	eng, st := newEngine(t, "sqlite", strings.Replace(problemsConfig, "threshold = 3", "threshold = 2", 1)+"notify_requester = true\n")
	eng.Cfg.Helpdesk.Domains = []string{"example.com"}
	ingest(t, eng, raw("sam.hr@example.com", "Payroll export to DATEV fails", "o1@x"))
	if _, err := st.DB().Exec(`UPDATE incidents SET status = 'resolved'`); err != nil {
		t.Fatal(err)
	}
	ingest(t, eng, []byte("From: mallory@evil.example\r\nX-Original-From: sam.hr@example.com\r\nTo: support@example.com\r\n"+
		"Subject: DATEV payroll export fails\r\nMessage-ID: <o2@evil>\r\n\r\nhi\r\n"))
	if problemOf(t, st, "HD-2") != "PRB-1" {
		t.Fatalf("HD-2 in %q", problemOf(t, st, "HD-2"))
	}
	acks := outboxOf(t, st, "ack")
	last := acks[len(acks)-1]
	if last.ToAddrs != "mallory@evil.example" {
		t.Fatalf("last acknowledgement to %s", last.ToAddrs)
	}
	if strings.Contains(last.TextBody, "You have reported this issue before") || strings.Contains(last.TextBody, "Payroll export to DATEV fails") {
		t.Errorf("the outsider learns of sam's report:\n%s", last.TextBody)
	}
}

const partiesConfig = problemsConfig + `notify_every = "4h"
notify_requester = false
[[provider]]
name = "acme"
domains = ["acme-it.example"]
intake = "servicedesk@acme-it.example"
problem_contact = "problems@acme-it.example"
[[route]]
name = "printing"
keywords = ["papierstau"]
assign = "acme"
`

// TestProblemMailPerParty: a problem spanning the in-house team and a
// provider is told to both contacts; the provider's notice and digests
// name only the provider's incidents (not the in-house requesters), the
// team's name all.
func TestProblemMailPerParty(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, partiesConfig)
			ctx := context.Background()
			clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			eng.Now = func() time.Time { return clock }
			step := func() { clock = clock.Add(time.Minute) }
			step()
			ingest(t, eng, raw("carol.secret@example.com", "Printer jams", "a1@x"))
			step()
			ingest(t, eng, raw("dan.secret@example.com", "Printer jams again", "a2@x"))
			step()
			ingest(t, eng, raw("erin@example.com", "Papierstau Drucker", "a3@x"))
			if got := problemOf(t, st, "HD-3"); got != "PRB-1" {
				t.Fatalf("HD-3 in %q", got)
			}
			to := map[string]string{}
			for _, o := range outboxOf(t, st, "problem_notice") {
				to[o.ToAddrs] = o.TextBody
			}
			if len(to) != 2 || to["it-lead@example.com"] == "" || to["problems@acme-it.example"] == "" {
				t.Fatalf("notices to %v, want the team's and the provider's contacts", to)
			}
			if b := to["problems@acme-it.example"]; strings.Contains(b, "HD-1") || strings.Contains(b, "secret") || !strings.Contains(b, "HD-3") {
				t.Errorf("the provider's notice:\n%s", b)
			}
			for _, o := range outboxOf(t, st, "problem_notice") {
				if o.ToAddrs == "problems@acme-it.example" && !strings.HasSuffix(o.Subject, "New problem: Papierstau Drucker") {
					t.Errorf("the provider's notice is not titled after its own incident: %q", o.Subject)
				}
			}
			if b := to["it-lead@example.com"]; !strings.Contains(b, "HD-1") || !strings.Contains(b, "HD-3") {
				t.Errorf("the team's notice:\n%s", b)
			}
			if b := to["problems@acme-it.example"]; !strings.HasPrefix(b, "New problem PRB-1: 1 of your incidents is part of") || strings.Contains(b, "match \"") {
				t.Errorf("the provider's notice speaks of the others' count or words:\n%s", b)
			}
			for i := range 3 {
				step()
				ingest(t, eng, raw(fmt.Sprintf("ceo%d.confidential@example.com", i), "printer jams", fmt.Sprintf("b%d@x", i)))
			}
			clock = clock.Add(5 * time.Hour)
			if _, err := eng.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			digests := outboxOf(t, st, "problem_digest")
			if len(digests) != 1 || digests[0].ToAddrs != "it-lead@example.com" || !strings.Contains(digests[0].TextBody, "ceo0.confidential") {
				t.Fatalf("digests: %+v (want one to the team only: the provider has nothing new of its own)", digests)
			}
		})
	}
}

// TestProblemMailSharedProviderContact: two providers with one problem
// contact (two contracts with one company): it hears of both providers'
// incidents, not of the in-house ones.
func TestProblemMailSharedProviderContact(t *testing.T) {
	eng, st := newEngine(t, "sqlite", partiesConfig+`[[provider]]
name = "acme2"
domains = ["acme2-it.example"]
intake = "servicedesk2@acme-it.example"
problem_contact = "problems@acme-it.example"
[[route]]
name = "printing2"
keywords = ["toner"]
assign = "acme2"
`)
	ingest(t, eng, raw("carol.secret@example.com", "Printer jams", "p1@x"))
	ingest(t, eng, raw("dan@example.com", "Papierstau Drucker", "p2@x"))
	ingest(t, eng, raw("erin@example.com", "Printer jams toner", "p3@x"))
	for _, k := range []string{"HD-1", "HD-2", "HD-3"} {
		if got := problemOf(t, st, k); got != "PRB-1" {
			t.Fatalf("the setup needs one problem of the three: %s in %q", k, got)
		}
	}
	shared := 0
	for _, o := range outboxOf(t, st, "problem_notice") {
		if o.ToAddrs != "problems@acme-it.example" {
			continue
		}
		shared++
		if strings.Contains(o.TextBody, "carol.secret") || strings.Contains(o.TextBody, "HD-1 ") || !strings.Contains(o.TextBody, "HD-2") || !strings.Contains(o.TextBody, "HD-3") {
			t.Errorf("the providers' shared contact hears of in-house incidents, or not of both providers':\n%s\n%s", o.Subject, o.TextBody)
		}
	}
	if shared != 1 {
		t.Errorf("%d notices to the providers' shared contact, want 1", shared)
	}
}

// TestProblemNoticeCountsPeople: a person's report, resolved, then
// made again (a recurrence, which counts), and another person's report
// make a problem of three reports by two people, and the notice says so.
func TestProblemNoticeCountsPeople(t *testing.T) {
	eng, st := newEngine(t, "sqlite", problemsConfig+"notify_requester = false\n")
	ingest(t, eng, raw("eva@example.com", "Netzlaufwerk P: nicht verbunden", "e0@x"))
	if _, err := st.DB().Exec(`UPDATE incidents SET status = 'resolved' WHERE key = 'HD-1'`); err != nil {
		t.Fatal(err)
	}
	ingest(t, eng, raw("eva@example.com", "Netzlaufwerk P: nicht verbunden", "e1@x"))
	ingest(t, eng, raw("fritz@example.com", "Network drive P: disconnected", "f1@x"))
	if got := problemOf(t, st, "HD-3"); got != "PRB-1" {
		t.Fatalf("HD-3 in %q", got)
	}
	n := outboxOf(t, st, "problem_notice")
	if len(n) != 1 || !strings.Contains(n[0].TextBody, "reported 3 times, by 2 people") {
		t.Errorf("notices: %+v", n)
	}
}

// TestWorkaroundOnlyToOwnDomain: staff link an outsider's incident to a
// problem with a workaround: the outsider is told of the problem, not of
// the workaround.
func TestWorkaroundOnlyToOwnDomain(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "")
	withRouting(t, eng, problemCommandsConfig)
	ingest(t, eng,
		raw("carol@example.com", "Outlook crashes on start", "w1@x"),
		raw("dan@example.com", "outlook keeps crashing when starting", "w2@x"),
		raw("erin@example.com", "Outlook crash at startup", "w3@x"))
	if _, err := st.DB().Exec(`UPDATE problems SET workaround = 'log in to owa.corp.internal as svc-mail / Winter2026!'`); err != nil {
		t.Fatal(err)
	}
	ingest(t, eng, raw("mallory@evil.example", "my mail program misbehaves", "w4@x"))
	ingest(t, eng, leadCommand("HD-4", "w5@x", "#problem PRB-1"))
	if problemOf(t, st, "HD-4") != "PRB-1" {
		t.Fatalf("HD-4 in %q", problemOf(t, st, "HD-4"))
	}
	told := false
	for _, o := range outboxOf(t, st, "problem_requester") {
		if o.ToAddrs == "mallory@evil.example" {
			told = true
			if strings.Contains(o.TextBody, "Winter2026") || strings.Contains(o.TextBody, "carol@") {
				t.Errorf("the outsider's notice carries the workaround or other requesters:\n%s", o.TextBody)
			}
		}
	}
	if !told {
		t.Error("the outsider was not told of the problem")
	}
}

// TestFaultWordsKeepIssuesApart: in a history where fault words are
// common and an application's name rare, the rare shared name does not
// make "SAP is slow" and "SAP not working" one problem.
func TestFaultWordsKeepIssuesApart(t *testing.T) {
	eng, st := newEngine(t, "sqlite", strings.Replace(problemsConfig, "threshold = 3", "threshold = 2", 1)+"notify_requester = false\n")
	devs := []string{"printer", "scanner", "laptop", "monitor", "keyboard", "mouse", "phone", "headset", "camera", "projector",
		"outlook", "teams", "vpn", "wifi", "badge", "docking", "excel", "word", "sharepoint", "onedrive"}
	faults := []string{"not working", "slow", "broken", "very slow", "down", "keeps failing", "error"}
	var mails [][]byte
	for i := range 400 {
		mails = append(mails, raw(fmt.Sprintf("f%d@example.com", i), devs[i%len(devs)]+" "+faults[(i/len(devs))%len(faults)], fmt.Sprintf("f%d@x", i)))
	}
	ingest(t, eng, mails...)
	r1 := ingest(t, eng, raw("carol@example.com", "SAP is slow", "s1@x"))
	r2 := ingest(t, eng, raw("dan@example.com", "SAP not working", "s2@x"))
	if p1, p2 := problemOf(t, st, r1[0].Incident), problemOf(t, st, r2[0].Incident); p2 != "" && p1 == p2 {
		t.Errorf("\"SAP is slow\" and \"SAP not working\" made one problem %s", p1)
	}
	r3 := ingest(t, eng, raw("erin@example.com", "SAP very slow", "s3@x"))
	if p1, p3 := problemOf(t, st, r1[0].Incident), problemOf(t, st, r3[0].Incident); p3 == "" || p1 != p3 {
		t.Errorf("\"SAP is slow\" and \"SAP very slow\": %q / %q, want one problem", p1, p3)
	}
	// Faults of one kind go together.
	for _, pair := range [][2]string{{"Camera not detected in Teams", "Teams camera not working"}, {"VPN disconnected", "VPN getrennt"},
		{"WLAN getrennt", "WiFi disconnects"}, {"Outlook disconnected", "Outlook offline"}, {"Printer offline", "Printer not responding"},
		{"Outlook error", "Outlook crashes"}, {"Emails delayed", "Emails not arriving"}, {"Shared drive not found", "Shared drive missing"}} {
		a, b := workflow.NewFingerprint(pair[0], "", nil), workflow.NewFingerprint(pair[1], "", nil)
		if s := workflow.Similarity(a, b); s < 0.5 {
			t.Errorf("%q [%s] / %q [%s]: %.2f, want faults of one kind together", pair[0], a, pair[1], b, s)
		}
	}
}

const digestConfig = problemsConfig + "notify_every = \"4h\"\nnotify_requester = false\n"

// TestDigestFollowsNewContact: the problem contact changes in the
// configuration (the old lead left): the new one is told of the problem
// at the next occurrence, and the digests go to the new address only.
func TestDigestFollowsNewContact(t *testing.T) {
	eng, st := newEngine(t, "sqlite", digestConfig)
	ctx := context.Background()
	clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	eng.Now = func() time.Time { return clock }
	reportEach(t, eng, &clock, 3, "Shared drive S: missing")
	eng.Reload(parseConfig(t, strings.Replace(digestConfig, "it-lead@example.com", "new-lead@example.com", 1)))
	for day := range 3 {
		clock = clock.Add(time.Minute)
		ingest(t, eng, raw(fmt.Sprintf("v%d@example.com", day), "Shared drive S: missing", fmt.Sprintf("d%d@x", day)))
		clock = clock.Add(5 * time.Hour)
		if _, err := eng.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	notices := outboxOf(t, st, "problem_notice")
	if len(notices) != 2 || notices[1].ToAddrs != "new-lead@example.com" || !strings.Contains(notices[1].Subject, "New problem") {
		t.Errorf("notices: %+v", notices)
	}
	digests := outboxOf(t, st, "problem_digest")
	if len(digests) != 2 {
		t.Errorf("%d digests, want 2", len(digests))
	}
	for _, o := range digests {
		if o.ToAddrs != "new-lead@example.com" {
			t.Errorf("digest to %s after the contact became new-lead@example.com", o.ToAddrs)
		}
	}
}

// TestDigestAfterClockStepsBack: after a digest the clock steps back
// (NTP, or a run --once --now earlier); an occurrence linked then is in
// the next digest all the same.
func TestDigestAfterClockStepsBack(t *testing.T) {
	eng, st := newEngine(t, "sqlite", digestConfig)
	ctx := context.Background()
	clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	eng.Now = func() time.Time { return clock }
	reportEach(t, eng, &clock, 4, "Shared drive S: missing")
	clock = clock.Add(5 * time.Hour)
	eng.Tick(ctx)
	if n := len(outboxOf(t, st, "problem_digest")); n != 1 {
		t.Fatalf("%d digests", n)
	}
	clock = clock.Add(-2 * time.Hour)
	ingest(t, eng, raw("late@example.com", "Shared drive S: missing", "late@x"))
	for range 4 {
		clock = clock.Add(5 * time.Hour)
		eng.Tick(ctx)
	}
	dg := outboxOf(t, st, "problem_digest")
	if len(dg) != 2 || !strings.Contains(dg[1].TextBody, "HD-5") {
		t.Errorf("HD-5, linked while the clock was behind, in no digest: %d digests", len(dg))
	}
}

// TestReloadEnablesProblems: [problems] switched on by SIGHUP (Reload):
// its tick jobs run without a restart.
func TestReloadEnablesProblems(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "[[team]]\nname = \"it\"\nmembers = [\"alice.admin@example.com\"]\nproblem_contact = \"it-lead@example.com\"\n[routing]\ndefault_assignee = \"it\"\n")
	ctx := context.Background()
	clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	eng.Now = func() time.Time { return clock }
	eng.Reload(parseConfig(t, digestConfig))
	reportEach(t, eng, &clock, 6, "Shared drive S: missing")
	if problemOf(t, st, "HD-6") != "PRB-1" {
		t.Fatal("no problem")
	}
	for range 3 {
		clock = clock.Add(5 * time.Hour)
		if _, err := eng.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(outboxOf(t, st, "problem_digest")); n != 1 {
		t.Errorf("%d digests after [problems] was enabled by reload, want 1", n)
	}
}

// parseConfig is a configuration for Reload: the helpdesk address and
// extra.
func parseConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("t.toml", []byte(fmt.Sprintf("[helpdesk]\naddress = \"support@example.com\"\n%s\n[database]\nurl = \"sqlite:%s\"\n", extra, filepath.Join(t.TempDir(), "unused.db"))))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// reportEach has n people report subject, one mail a second on clock,
// each ingested alone.
func reportEach(t *testing.T, eng *workflow.Engine, clock *time.Time, n int, subject string) {
	t.Helper()
	for i := range n {
		*clock = clock.Add(time.Second)
		ingest(t, eng, raw(fmt.Sprintf("u%d@example.com", i), subject, fmt.Sprintf("c%d.%d@x", i, clock.Unix())))
	}
}

// TestSamePersonPlusTag: sam+work@ is sam@ (as the new-incident limit
// counts senders): his authenticated resend from the tagged address is
// a follow-up of his open incident, not a second occurrence that opens a
// problem and tells him "others have reported this issue too".
func TestSamePersonPlusTag(t *testing.T) {
	eng, st := newEngine(t, "sqlite", strings.Replace(problemCommandsConfig, "threshold = 3", "threshold = 2", 1))
	r1 := ingest(t, eng, raw("sam@example.com", "shared drive S: missing", "pt1@x", leadAR))
	r2 := ingest(t, eng, raw("Sam+Work@example.com", "shared drive S: missing", "pt2@x", leadAR))
	if r2[0].Incident != r1[0].Incident || !strings.Contains(r2[0].Reason, "follow-up") {
		t.Errorf("sam+work's resend: %+v, want a follow-up of %s", r2[0], r1[0].Incident)
	}
	if ps, _ := st.ListProblems(context.Background()); len(ps) != 0 {
		t.Errorf("one person's resend opened %d problem(s)", len(ps))
	}
	// Added to his request, it reaches whoever works on it as his own
	// words do, not flagged as a stranger's.
	if strings.Contains(r2[0].Reason, "flagged") {
		t.Errorf("sam+work's follow-up flagged: %s", r2[0].Reason)
	}
}

// TestUnauthenticatedResendIsNoOccurrence: a person whose report is part
// of a problem and still open sends it again without authentication (so
// it cannot be threaded as a follow-up): the new incident is not linked
// to the problem and is in no digest; once his first is resolved, his
// next report is an occurrence.
func TestUnauthenticatedResendIsNoOccurrence(t *testing.T) {
	eng, st := newEngine(t, "sqlite", problemCommandsConfig)
	ctx := context.Background()
	clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	eng.Now = func() time.Time { return clock }
	ingest(t, eng, raw("sam@example.com", "Scanner offline", "ur1@x"), raw("kim@example.com", "Scanner offline", "ur2@x"),
		raw("lee@example.com", "Scanner offline", "ur3@x"))
	if got := problemOf(t, st, "HD-1"); got != "PRB-1" {
		t.Fatalf("HD-1: problem %q", got)
	}
	for i := range 3 {
		clock = clock.Add(time.Minute)
		res := ingest(t, eng, raw("sam@example.com", "Scanner offline", fmt.Sprintf("ur-re%d@x", i)))
		if got := problemOf(t, st, res[0].Incident); got != "" || !strings.Contains(res[0].Reason, "not an occurrence: sam@example.com's HD-1") {
			t.Errorf("sam's resend %s: problem %q (%s), want none", res[0].Incident, got, res[0].Reason)
		}
	}
	clock = clock.Add(4*time.Hour + time.Minute)
	if _, err := eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if digests := outboxOf(t, st, "problem_digest"); len(digests) != 0 {
		t.Errorf("sam's resends were mailed as occurrences: %s", digests[0].TextBody)
	}
	inc, _ := st.IncidentByKey(ctx, "HD-1")
	if _, err := st.DB().Exec(st.DB().Rebind(`UPDATE incidents SET status = 'resolved' WHERE id = ?`), inc.ID); err != nil {
		t.Fatal(err)
	}
	for _, hd := range []string{"HD-4", "HD-5", "HD-6"} {
		inc, _ := st.IncidentByKey(ctx, hd)
		if _, err := st.DB().Exec(st.DB().Rebind(`UPDATE incidents SET status = 'resolved' WHERE id = ?`), inc.ID); err != nil {
			t.Fatal(err)
		}
	}
	res := ingest(t, eng, raw("sam@example.com", "Scanner offline", "ur-again@x"))
	if got := problemOf(t, st, res[0].Incident); got != "PRB-1" {
		t.Errorf("sam's report after his first was resolved: problem %q (%s), want PRB-1", got, res[0].Reason)
	}
}

// TestResendsStayOutOfALaterProblem: a person sends the same request
// three times more, unauthenticated, while the first is open ("shared
// drive S: missing 1/2/3"); someone else's report then opens a problem:
// it links the first and the other's, not the resends, counts two
// reports, and is not titled after a resend; a tagged address of the
// same person is the same person (one requester mail).
func TestResendsStayOutOfALaterProblem(t *testing.T) {
	eng, st := newEngine(t, "sqlite", strings.Replace(problemCommandsConfig, "threshold = 3", "threshold = 2", 1))
	ctx := context.Background()
	clock := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	eng.Now = func() time.Time { return clock }
	ingest(t, eng, raw("sam@example.com", "Shared drive S: missing", "rs0@x"))
	for i, from := range []string{"sam@example.com", "sam@example.com", "Sam+x@example.com"} {
		clock = clock.Add(time.Minute)
		res := ingest(t, eng, raw(from, fmt.Sprintf("Shared drive S: missing %d", i+1), fmt.Sprintf("rs%d@x", i+1)))
		if !strings.Contains(res[0].Reason, "not an occurrence") {
			t.Fatalf("resend %d: %s", i+1, res[0].Reason)
		}
	}
	clock = clock.Add(time.Minute)
	res := ingest(t, eng, raw("bob@example.com", "Shared drive S: missing", "rs-bob@x", leadAR))
	if got := problemOf(t, st, res[0].Incident); got != "PRB-1" {
		t.Fatalf("bob's report: problem %q (%s)", got, res[0].Reason)
	}
	pr := problem(t, st, "PRB-1")
	linked, _ := st.ProblemIncidents(ctx, pr.ID)
	if len(linked) != 2 || pr.Title != "Shared drive S: missing" {
		t.Errorf("PRB-1 %q links %d incidents, want 2 (sam's first and bob's)", pr.Title, len(linked))
	}
	told := map[string]int{}
	for _, o := range outboxOf(t, st, "problem_requester") {
		told[strings.ToLower(o.ToAddrs)]++
	}
	if len(told) > 1 {
		t.Errorf("requesters told: %v, want sam once at most", told)
	}
}

// TestFollowUpFloodHeld: one authenticated person sending the same
// request 15 times in a minute: the first opens an incident, the next
// [helpdesk] new_incident_limit (10) are follow-ups of it, the rest are
// held in quarantine as a flood of new incidents would be, not threaded
// (and relayed) one by one. Both in one batch and one by one.
func TestFollowUpFloodHeld(t *testing.T) {
	for _, batch := range []bool{false, true} {
		eng, st := newEngine(t, "sqlite", problemCommandsConfig)
		var mails [][]byte
		for i := range 15 {
			mails = append(mails, raw("sam@example.com", "shared drive S: missing", fmt.Sprintf("ff%d@x", i), leadAR))
		}
		var res []workflow.Result
		if batch {
			res = ingest(t, eng, mails...)
		} else {
			for _, m := range mails {
				res = append(res, ingest(t, eng, m)...)
			}
		}
		count := map[workflow.Outcome]int{}
		for _, r := range res {
			count[r.Outcome]++
		}
		if count[workflow.OutcomeNewIncident] != 1 || count[workflow.OutcomeThreaded] != 10 || count[workflow.OutcomeHeld] != 4 {
			t.Errorf("batch %v: outcomes %v, want 1 new, 10 threaded, 4 held", batch, count)
		}
		var q int
		st.DB().Get(&q, `SELECT COUNT(*) FROM quarantine`)
		if q != 4 {
			t.Errorf("batch %v: %d in quarantine, want 4", batch, q)
		}
	}
}

// TestProblemWithoutSubjectTitled: reports without a subject, whose
// fingerprints come from their first lines, open a problem titled by
// their words, not "(no subject)".
func TestProblemWithoutSubjectTitled(t *testing.T) {
	eng, st := newEngine(t, "sqlite", problemsConfig)
	for i, from := range []string{"ann@example.com", "ben@example.com", "cat@example.com"} {
		ingest(t, eng, []byte(fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: \r\nMessage-ID: <ns%d@x>\r\n\r\nHi,\r\n\r\nthe printer on floor 2 jams\r\n", from, i)))
	}
	ps, err := st.ListProblems(context.Background())
	if err != nil || len(ps) != 1 {
		t.Fatalf("problems %+v (%v), want one", ps, err)
	}
	if ps[0].Title != "the printer on floor 2 jams" {
		t.Errorf("problem titled %q, want the first line of the text", ps[0].Title)
	}
}

// TestDigestAfterClockStepsFarBack: a run ten days ahead queued a digest
// dated then; the clock is set right again. A later occurrence is in a
// digest within hours, not held until the ten days have passed; a few
// minutes' skew (two daemons) does not send one early.
func TestDigestAfterClockStepsFarBack(t *testing.T) {
	eng, st := newEngine(t, "sqlite", digestConfig)
	ctx := context.Background()
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := start
	eng.Now = func() time.Time { return clock }
	reportEach(t, eng, &clock, 4, "Shared drive S: missing")
	clock = start.Add(10 * 24 * time.Hour)
	eng.Tick(ctx)
	if n := len(outboxOf(t, st, "problem_digest")); n != 1 {
		t.Fatalf("%d digests", n)
	}
	// Back to the right time; a few minutes' skew first: the digest of
	// the ten days ahead is not due, but skew alone would not make it so.
	clock = start.Add(10*24*time.Hour - 10*time.Minute)
	ingest(t, eng, raw("skew@example.com", "Shared drive S: missing", "skew@x"))
	eng.Tick(ctx)
	if n := len(outboxOf(t, st, "problem_digest")); n != 1 {
		t.Errorf("%d digests 10 minutes before the last one's date, want still 1", n)
	}
	clock = start.Add(6 * time.Hour)
	ingest(t, eng, raw("late@example.com", "Shared drive S: missing", "late2@x"))
	eng.Tick(ctx)
	dg := outboxOf(t, st, "problem_digest")
	if len(dg) != 2 || !strings.Contains(dg[1].TextBody, "late@example.com") {
		t.Fatalf("%d digests after the clock was set back ten days, want a second one now", len(dg))
	}
	clock = clock.Add(time.Hour)
	ingest(t, eng, raw("later@example.com", "Shared drive S: missing", "later@x"))
	eng.Tick(ctx)
	if n := len(outboxOf(t, st, "problem_digest")); n != 2 {
		t.Errorf("%d digests an hour after the last, want 2 (notify_every holds again)", n)
	}
}
