package workflow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// problemCommandsConfig: repeat detection at three occurrences, the it
// team with a problem contact who is not a member, commands trusting
// mx.example.com.
const problemCommandsConfig = problemsConfig + `notify_requester = true
[commands]
trusted_authserv_ids = ["mx.example.com"]
`

// leadAR is the border MTA's field above its Received ([commands]
// border_received = 1).
const leadAR = "Authentication-Results: mx.example.com; dkim=pass header.d=example.com\r\n" + borderReceived

// leadCommand is alice.admin's authenticated reply on the thread of key
// (an incident or a problem) with body (commands, "\r\n" between lines).
func leadCommand(key, id, body string) []byte {
	return []byte(fmt.Sprintf("From: alice.admin@example.com\r\nTo: support@example.com\r\nSubject: Re: [%s] x\r\nMessage-ID: <%s>\r\n%s\r\n\r\n%s\r\n",
		key, id, leadAR, body))
}

func outboxOf(t *testing.T, st *store.Store, kind string) []store.Outbox {
	t.Helper()
	var rows []store.Outbox
	if err := st.DB().Select(&rows, st.DB().Rebind(`SELECT * FROM outbox WHERE kind = ? ORDER BY id`), kind); err != nil {
		t.Fatal(err)
	}
	return rows
}

func problem(t *testing.T, st *store.Store, key string) *store.Problem {
	t.Helper()
	p, err := st.ProblemByKey(context.Background(), key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return p
}

func problemOf(t *testing.T, st *store.Store, key string) string {
	t.Helper()
	inc, err := st.IncidentByKey(context.Background(), key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if inc.ProblemKey == nil {
		return ""
	}
	return *inc.ProblemKey
}

func hasEvent(evs []store.Event, kind, detail string) bool {
	for _, e := range evs {
		if e.Kind == kind && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// TestProblemThread: the notice about a problem starts the problem's own
// thread; replies to it (by In-Reply-To, by the subject tag, or by the
// thread root in References only) join the problem, not an incident; the
// problem contact records root cause, workaround and status by command;
// refusals are answered on the problem's thread; automatic answers and
// bounces join without a reply; someone who is not staff writing with the
// problem's tag opens a new incident linked to it, which reopens it.
func TestProblemThread(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, problemCommandsConfig)
			ctx := context.Background()
			ingest(t, eng,
				raw("carol@example.com", "Outlook crashes on start", "o1@x"),
				raw("dan@example.com", "outlook keeps crashing when starting", "o2@x"),
				raw("erin@example.com", "Outlook crash at startup", "o3@x"))
			notices := outboxOf(t, st, "problem_notice")
			if len(notices) != 1 {
				t.Fatalf("%d problem notices, want 1", len(notices))
			}
			n := notices[0]
			pr := problem(t, st, "PRB-1")
			if n.ProblemID == nil || *n.ProblemID != pr.ID || n.IncidentID != nil || !strings.HasPrefix(n.MessageID, "prb-1.") ||
				n.InReplyTo != "prb-1@example.com" || !strings.Contains(n.Refs, "prb-1@example.com") ||
				!strings.HasPrefix(n.Subject, "[PRB-1] ") || !strings.Contains(n.TextBody, "#root-cause") {
				t.Fatalf("problem notice is not on the problem's thread: %+v", n)
			}
			// The notice lists each incident with its date and requester.
			for _, want := range []string{"HD-1  2026-11-23 09:00 UTC  carol@example.com  new  Outlook crashes on start",
				"HD-3  2026-11-23 09:00 UTC  erin@example.com  new  Outlook crash at startup", "HD-1, HD-2 and HD-3 match"} {
				if !strings.Contains(n.TextBody, want) {
					t.Errorf("notice lacks %q:\n%s", want, n.TextBody)
				}
			}
			if !strings.Contains(n.HTMLBody, "<td>Outlook crash at startup</td>") {
				t.Errorf("HTML notice lacks the incidents table:\n%s", n.HTMLBody)
			}
			if pr.Title != "Outlook crashes on start" {
				t.Errorf("title %q, want the first plainest subject", pr.Title)
			}

			// The problem contact answers with commands.
			res := ingest(t, eng, raw("it-lead@example.com", "Re: [PRB-1] Repeat problem: Outlook crashes on start", "r1@x",
				"In-Reply-To: <"+n.MessageID+">", leadAR))
			if res[0].Outcome != workflow.OutcomeThreaded || res[0].Problem != "PRB-1" || res[0].Incident != "" {
				t.Fatalf("reply to the notice: %+v", res[0])
			}
			cmds := []byte("From: it-lead@example.com\r\nTo: support@example.com\r\nSubject: Re: [PRB-1] Repeat problem\r\n" +
				"Message-ID: <r2@x>\r\n" + leadAR + "\r\n\r\n#root-cause profile cache corrupted by the 2611 update\r\n" +
				"#workaround start Outlook with /resetnavpane\r\n#known-error\r\n\r\nWe are on it.\r\n")
			res = ingest(t, eng, cmds)
			pr = problem(t, st, "PRB-1")
			if res[0].Problem != "PRB-1" || pr.Status != store.ProblemKnownError || pr.RootCause != "profile cache corrupted by the 2611 update" ||
				pr.Workaround != "start Outlook with /resetnavpane" {
				t.Fatalf("after commands: %+v / %+v", res[0], pr)
			}
			// No subject tag, only the thread root in References.
			res = ingest(t, eng, raw("alice.admin@example.com", "Re: Outlook", "r3@x", "References: <prb-1@example.com>",
				"Authentication-Results: mx.example.com; dmarc=pass header.from=example.com"))
			if res[0].Problem != "PRB-1" {
				t.Fatalf("reply by References only: %+v", res[0])
			}
			res = ingest(t, eng, leadCommand("PRB-1", "r4@x", "#resolve rolled back the 2611 update"))
			if pr = problem(t, st, "PRB-1"); res[0].Problem != "PRB-1" || pr.Status != store.ProblemResolved || pr.ResolvedAt == nil || pr.Fix != "rolled back the 2611 update" {
				t.Fatalf("after #resolve: %+v / %+v", res[0], pr)
			}
			for _, hd := range []string{"HD-1", "HD-2", "HD-3"} {
				inc, _ := st.IncidentByKey(ctx, hd)
				if inc.MessageCount != 1 {
					t.Errorf("%s has %d messages: problem mail went to an incident", hd, inc.MessageCount)
				}
			}

			// Refused: not authenticated; an incident command; a refusal is
			// answered on the problem's thread.
			ingest(t, eng, []byte("From: alice.admin@example.com\r\nTo: support@example.com\r\nSubject: Re: [PRB-1] x\r\n"+
				"Message-ID: <r5@x>\r\n\r\n#reopen\r\n"))
			ingest(t, eng, leadCommand("PRB-1", "r6@x", "#priority P1\r\n#root-cause"))
			if pr = problem(t, st, "PRB-1"); pr.Status != store.ProblemResolved || pr.RootCause == "" {
				t.Fatalf("refused commands changed the problem: %+v", pr)
			}
			// The unauthenticated one is on record, unanswered: anyone can
			// write that From.
			rs := outboxOf(t, st, "command_reply")
			if len(rs) != 1 || !strings.Contains(rs[0].TextBody, "#priority P1: not a problem command") ||
				!strings.Contains(rs[0].TextBody, "#root-cause: bad argument") {
				t.Fatalf("refusals: %+v", rs)
			}
			if evs, _ := st.ProblemEvents(ctx, pr.ID); !hasEvent(evs, "command_refused", "not authenticated") || !hasEvent(evs, "not_answered", "not authenticated") {
				t.Errorf("unauthenticated #reopen not on record: %+v", evs)
			}
			for _, r := range rs {
				if r.ProblemID == nil || !strings.HasPrefix(r.MessageID, "prb-1.") || !strings.HasPrefix(r.Subject, "[PRB-1]") {
					t.Errorf("refusal not on the problem's thread: %s %s", r.MessageID, r.Subject)
				}
			}

			// Automatic answers join without a reply; a bounce marks the
			// notice bounced.
			before := len(outboxOf(t, st, "command_reply"))
			res = ingest(t, eng, raw("it-lead@example.com", "Automatic reply: [PRB-1] Repeat problem", "oof@x",
				"Auto-Submitted: auto-replied", "In-Reply-To: <"+n.MessageID+">"),
				dsn("it-lead@example.com", n.MessageID))
			if res[0].Problem != "PRB-1" || res[1].Problem != "PRB-1" || len(outboxOf(t, st, "command_reply")) != before {
				t.Fatalf("automatic answers: %+v", res)
			}
			if n = outboxOf(t, st, "problem_notice")[0]; n.Status != store.OutboxBounced {
				t.Errorf("notice status after its bounce: %s", n.Status)
			}

			// A requester who writes with the tag reports an occurrence.
			res = ingest(t, eng, raw("gina@example.com", "Re: [PRB-1] happened again today", "g1@x"))
			if res[0].Outcome != workflow.OutcomeNewIncident || problemOf(t, st, res[0].Incident) != "PRB-1" {
				t.Fatalf("a requester's mail with the problem tag: %+v", res[0])
			}
			if pr = problem(t, st, "PRB-1"); pr.Status != store.ProblemOpen {
				t.Errorf("problem status after a new occurrence: %s, want open", pr.Status)
			}
			var acks []store.Outbox
			st.DB().Select(&acks, st.DB().Rebind(`SELECT * FROM outbox WHERE to_addrs = ? ORDER BY id`), "gina@example.com")
			if len(acks) != 1 || acks[0].Kind != "ack" || !strings.Contains(acks[0].TextBody, "known problem\nPRB-1") ||
				!strings.Contains(acks[0].TextBody, "workaround: start Outlook with /resetnavpane") {
				t.Errorf("mail to the requester who reported an occurrence: %+v", acks)
			}

			v, err := workflow.ShowProblem(ctx, st.Reader, "PRB-1")
			if err != nil {
				t.Fatal(err)
			}
			var in, out int
			for _, m := range v.Messages {
				if m.Direction == "in" {
					in++
				} else {
					out++
				}
			}
			evs, _ := st.ProblemEvents(ctx, pr.ID)
			if in != 8 || out < 3 || !hasEvent(evs, "opened", "HD-1, HD-2 and HD-3 match") || !hasEvent(evs, "command", "#known-error") ||
				!hasEvent(evs, "command_refused", "not authenticated") || !hasEvent(evs, "delivery_bounced", "it-lead@example.com") ||
				!hasEvent(evs, "reopened", "HD-4") {
				t.Errorf("show PRB-1: %d in, %d out, events %+v", in, out, v.Events)
			}
		})
	}
}

// TestProblemCorrections: "#not-problem" unlinks an incident and keeps its
// fingerprint apart from the problem's from then on; "#problem PRB-N"
// links by hand and forgets that; "#problem" alone opens a problem below
// the threshold; wrong uses are refused with a reason.
func TestProblemCorrections(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, problemCommandsConfig)
			ctx := context.Background()
			ingest(t, eng,
				raw("carol@example.com", "VPN drops on laptop", "v1@x"),
				raw("dan@example.com", "VPN drops on laptop", "v2@x"),
				raw("erin@example.com", "VPN connection drops on laptop", "v3@x"),
				raw("frank@example.com", "Scanner offline", "s4@x"))
			for hd, want := range map[string]string{"HD-1": "PRB-1", "HD-2": "PRB-1", "HD-3": "PRB-1", "HD-4": ""} {
				if got := problemOf(t, st, hd); got != want {
					t.Fatalf("%s: problem %q, want %q", hd, got, want)
				}
			}
			command := func(key, body, id string) {
				t.Helper()
				ingest(t, eng, leadCommand(key, id, body))
			}
			countPairs := func() int {
				var n int
				// Fingerprint pairs; the parted incident's own pair
				// ("incident HD-3" / "problem PRB-1") aside.
				st.DB().Get(&n, `SELECT COUNT(*) FROM problem_exclusions WHERE fingerprint NOT LIKE 'incident %' AND fingerprint NOT LIKE 'problem %'`)
				return n
			}

			command("HD-3", "#not-problem", "c1@x")
			if got := problemOf(t, st, "HD-3"); got != "" {
				t.Fatalf("HD-3 still part of %s after #not-problem", got)
			}
			if countPairs() != 2 {
				t.Fatalf("%d not-problem rows, want one pair both ways", countPairs())
			}
			// The same guest-wifi report again: HD-1 and HD-2 no longer
			// count, HD-3 does; two occurrences are under the threshold.
			res := ingest(t, eng, raw("gina@example.com", "VPN connection drops on laptop", "v5@x"))
			if got := problemOf(t, st, res[0].Incident); got != "" {
				t.Fatalf("%s linked to %s after #not-problem: %s", res[0].Incident, got, res[0].Reason)
			}
			// The plain report still joins PRB-1.
			res = ingest(t, eng, raw("hal@example.com", "VPN drops on laptop", "v6@x"))
			if got := problemOf(t, st, res[0].Incident); got != "PRB-1" {
				t.Fatalf("%s: problem %q, want PRB-1 (%s)", res[0].Incident, got, res[0].Reason)
			}

			// A report that resembles both the plain and the guest-wifi
			// reports joins PRB-1 without pulling HD-3 and HD-5 back in;
			// the next guest-wifi report does not join PRB-1 through it
			// either: the guest-wifi reports become a problem of their own.
			res = ingest(t, eng, raw("ivy@example.com", "VPN connection drops on laptop in office", "v7@x"))
			if got := problemOf(t, st, "HD-7"); got != "PRB-1" {
				t.Fatalf("HD-7: problem %q, want PRB-1 (%s)", got, res[0].Reason)
			}
			for _, hd := range []string{"HD-3", "HD-5"} {
				if got := problemOf(t, st, hd); got != "" {
					t.Fatalf("%s pulled back into %s by a report like both", hd, got)
				}
			}
			res = ingest(t, eng, raw("jo@example.com", "VPN connection drops on laptop", "v8@x"))
			for _, hd := range []string{"HD-3", "HD-5", "HD-8"} {
				if got := problemOf(t, st, hd); got != "PRB-2" {
					t.Fatalf("%s: problem %q, want PRB-2 (%s)", hd, got, res[0].Reason)
				}
			}

			command("HD-5", "#problem PRB-1", "c2@x")
			if got := problemOf(t, st, "HD-5"); got != "PRB-1" || countPairs() != 0 {
				t.Fatalf("after #problem PRB-1: HD-5 in %q, %d pairs left", got, countPairs())
			}
			// The contact hears of the link as a link, not as the
			// problem coming back.
			if ns := outboxOf(t, st, "problem_notice"); !strings.HasPrefix(ns[len(ns)-1].Subject, "[PRB-1] Incident linked:") {
				t.Errorf("notice of a link by command: %q", ns[len(ns)-1].Subject)
			}
			// The problem contact links one by hand: it is not mailed
			// a notice of its own link.
			before := len(outboxOf(t, st, "problem_notice"))
			ingest(t, eng, []byte("From: it-lead@example.com\r\nTo: support@example.com\r\nSubject: Re: [HD-8] x\r\n"+
				"Message-ID: <lead-link@x>\r\n"+leadAR+"\r\n\r\n#problem PRB-1\r\n"))
			if got := problemOf(t, st, "HD-8"); got != "PRB-1" {
				t.Fatalf("the contact's #problem PRB-1: HD-8 in %q", got)
			}
			if n := len(outboxOf(t, st, "problem_notice")); n != before {
				t.Errorf("the contact's own link was mailed back to it: %d notices, had %d", n, before)
			}
			command("HD-4", "#problem", "c3@x")
			if got := problemOf(t, st, "HD-4"); got != "PRB-3" {
				t.Fatalf("after #problem on a single incident: %q, want PRB-3", got)
			}
			if p := problem(t, st, "PRB-3"); p.Title != "Scanner offline" || p.IncidentCount != 1 {
				t.Errorf("PRB-3: %+v", p)
			}
			var told int
			st.DB().Get(&told, st.DB().Rebind(`SELECT COUNT(*) FROM outbox WHERE kind = 'problem_requester' AND to_addrs = ?`), "frank@example.com")
			if told != 1 {
				t.Errorf("%d notices to HD-4's requester after the link by hand, want 1", told)
			}

			command("HD-4", "#problem PRB-99\r\n#problem bogus", "c4@x")
			command("HD-2", "#problem PRB-1", "c5@x")
			command("HD-6", "#not-problem", "c6@x")
			command("HD-6", "#not-problem", "c7@x")
			rs := outboxOf(t, st, "command_reply")
			var all []string
			for _, r := range rs {
				all = append(all, r.TextBody)
			}
			text := strings.Join(all, "\n")
			for _, want := range []string{"#problem PRB-99: no problem PRB-99", `#problem bogus: bad argument "bogus"`,
				"#not-problem: HD-6 is not part of a problem"} {
				if !strings.Contains(text, want) {
					t.Errorf("no refusal %q in %s", want, text)
				}
			}
			inc2, _ := st.IncidentByKey(ctx, "HD-2")
			evs, _ := st.IncidentEvents(ctx, inc2.ID)
			if !hasEvent(evs, "command", "already part of PRB-1") {
				t.Errorf("HD-2 events: %+v", evs)
			}
			if got := problemOf(t, st, "HD-6"); got != "" {
				t.Errorf("HD-6 still in %s", got)
			}
			pr1 := problem(t, st, "PRB-1")
			pevs, _ := st.ProblemEvents(ctx, pr1.ID)
			if !hasEvent(pevs, "incident_unlinked", "HD-3 unlinked by alice.admin@example.com") || !hasEvent(pevs, "incident_linked", "HD-5 linked: linked by") {
				t.Errorf("PRB-1 events: %+v", pevs)
			}
		})
	}
}

// TestNotProblemKeepsIdenticalReports: "#not-problem" on an incident whose
// fingerprint is the problem's own parts that incident only; later
// reports identical to the problem's title still join it.
func TestNotProblemKeepsIdenticalReports(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, problemCommandsConfig)
			ingest(t, eng,
				raw("carol@example.com", "Scanner offline", "n1@x"),
				raw("dan@example.com", "Scanner offline", "n2@x"),
				raw("erin@example.com", "Scanner offline", "n3@x"))
			if got := problemOf(t, st, "HD-2"); got != "PRB-1" {
				t.Fatalf("HD-2: problem %q, want PRB-1", got)
			}
			ingest(t, eng, leadCommand("HD-2", "n4@x", "#not-problem"))
			if got := problemOf(t, st, "HD-2"); got != "" {
				t.Fatalf("HD-2 still in %s after #not-problem", got)
			}
			res := ingest(t, eng, raw("gina@example.com", "Scanner offline", "n5@x"))
			if got := problemOf(t, st, res[0].Incident); got != "PRB-1" {
				t.Fatalf("%s: problem %q after #not-problem on an identical report, want PRB-1 (%s)", res[0].Incident, got, res[0].Reason)
			}
		})
	}
}

// TestNotProblemOnTitleIncident: "#not-problem" on the incident a problem
// is titled after, when its other incidents are worded differently,
// parts that incident only; a later report in the title's words joins
// the problem, not a second one of the same title, and the parted
// incident stays out of both.
func TestNotProblemOnTitleIncident(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, problemCommandsConfig)
			ingest(t, eng,
				raw("carol@example.com", "Scanner offline", "t1@x"),
				raw("dan@example.com", "Scanner 2nd floor offline", "t2@x"),
				raw("erin@example.com", "Scanner on the 2nd floor offline", "t5@x"))
			pr, err := st.ProblemByKey(ctx, "PRB-1")
			if err != nil || problemOf(t, st, "HD-2") != "PRB-1" {
				t.Fatalf("HD-2: problem %q (%v), want PRB-1", problemOf(t, st, "HD-2"), err)
			}
			hd1, err := st.IncidentByKey(ctx, "HD-1")
			if err != nil || pr.Fingerprint != hd1.Fingerprint {
				t.Fatalf("PRB-1 titled %q, HD-1 %q (%v): want the title HD-1's", pr.Fingerprint, hd1.Fingerprint, err)
			}
			ingest(t, eng, leadCommand("HD-1", "t3@x", "#not-problem"))
			if got := problemOf(t, st, "HD-1"); got != "" {
				t.Fatalf("HD-1 still in %s after #not-problem", got)
			}
			res := ingest(t, eng, raw("gina@example.com", "Scanner offline", "t4@x"))
			if got := problemOf(t, st, res[0].Incident); got != "PRB-1" {
				t.Fatalf("%s: problem %q, want PRB-1 (%s)", res[0].Incident, got, res[0].Reason)
			}
			if got := problemOf(t, st, "HD-1"); got != "" {
				t.Errorf("parted HD-1 linked again, to %s", got)
			}
			if ps, err := st.ListProblems(ctx); err != nil || len(ps) != 1 {
				t.Errorf("%d problems (%v), want one", len(ps), err)
			}
		})
	}
}

// TestNotProblemEveryIncident: staff part every incident of a problem;
// the next report in the problem's words joins that problem (now empty),
// not a second problem of the same title that would pull the parted
// incidents back in and mail their requesters.
func TestNotProblemEveryIncident(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, problemCommandsConfig)
			ingest(t, eng,
				raw("u1@example.com", "Outlook crashes on start", "e1@x"),
				raw("u2@example.com", "Outlook crashes on start", "e2@x"),
				raw("u3@example.com", "Outlook crashes on start", "e3@x"))
			if got := problemOf(t, st, "HD-3"); got != "PRB-1" {
				t.Fatalf("HD-3: problem %q, want PRB-1", got)
			}
			for i, hd := range []string{"HD-3", "HD-2", "HD-1"} {
				ingest(t, eng, leadCommand(hd, fmt.Sprintf("ep%d@x", i), "#not-problem"))
			}
			told := len(outboxOf(t, st, "problem_requester"))
			res := ingest(t, eng, raw("u4@example.com", "Outlook crashes on start", "e4@x"))
			if got := problemOf(t, st, res[0].Incident); got != "PRB-1" {
				t.Fatalf("%s: problem %q, want PRB-1 (%s)", res[0].Incident, got, res[0].Reason)
			}
			for _, hd := range []string{"HD-1", "HD-2", "HD-3"} {
				if got := problemOf(t, st, hd); got != "" {
					t.Errorf("parted %s linked again, to %s", hd, got)
				}
			}
			if ps, err := st.ListProblems(ctx); err != nil || len(ps) != 1 {
				t.Errorf("%d problems (%v), want one", len(ps), err)
			}
			pr := problem(t, st, "PRB-1")
			pevs, _ := st.ProblemEvents(ctx, pr.ID)
			for _, ev := range pevs {
				if ev.Kind == "incident_linked" && strings.Contains(ev.Detail, res[0].Incident) && (strings.Contains(ev.Detail, "HD-1") || strings.Contains(ev.Detail, "HD-2")) {
					t.Errorf("the link names parted incidents: %s", ev.Detail)
				}
			}
			if n := len(outboxOf(t, st, "problem_requester")); n != told {
				t.Errorf("%d requester notices after the report, had %d: parted incidents' requesters mailed", n, told)
			}
		})
	}
}
