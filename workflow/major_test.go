package workflow_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// majorRouting is slaRouting with a problem contact for the IT team (who
// owes its reports), a route that makes ERP mail P1 and tells the CFO,
// and [major] with a 2-day report and daily reminders.
var majorRouting = strings.Replace(slaRouting, `chain = ["it-lead@example.com", "it-manager@example.com", "director@example.com"]`,
	`chain = ["it-lead@example.com", "it-manager@example.com", "director@example.com"]
problem_contact = "alice.admin@example.com"`, 1) + `
[[route]]
name = "erp"
keywords = ["erp"]
assign = "it"
priority = "P1"
informed = ["cfo@example.com"]

[major]
priorities = ["P1"]
report_due = "2d"
remind_every = "1d"
`

// majorMails lists the major incident mails queued so far: "kind to [cc]".
func majorMails(t *testing.T, st *store.Store) []string {
	t.Helper()
	var rows []store.Outbox
	if err := st.DB().Select(&rows, `SELECT * FROM outbox WHERE kind LIKE 'major_%' OR kind LIKE 'report_%' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		s := r.Kind + " " + r.ToAddrs
		if r.CcAddrs != "" {
			s += " cc " + r.CcAddrs
		}
		out = append(out, s)
	}
	return out
}

func lastMail(t *testing.T, st *store.Store, kind string) store.Outbox {
	t.Helper()
	var o store.Outbox
	if err := st.DB().Get(&o, st.DB().Rebind(`SELECT * FROM outbox WHERE kind = ? ORDER BY id DESC LIMIT 1`), kind); err != nil {
		t.Fatalf("no %s mail: %v", kind, err)
	}
	return o
}

// reply is an authenticated (or, with ar "", unauthenticated) reply on
// an incident's thread.
func reply(from, key, id, ar, body string) []byte {
	h := "From: " + from + "\r\nTo: support@example.com\r\nSubject: Re: [" + key + "] x\r\nMessage-ID: <" + id + ">\r\n"
	if ar != "" {
		h += ar + "\r\n"
	}
	return []byte(h + "\r\n" + body)
}

// TestMajorIncidentDeclared: an incident is major by the priority a
// [[priority_rule]] keyword gives it, by a route's priority, by
// "#priority P1", and by "#major" from in-house staff; level 1 of the
// chain and the route's informed hear of it at once. An unauthenticated
// "#major", and one from a provider, change nothing; "#major off" undoes
// it and the priority does not declare it again.
func TestMajorIncidentDeclared(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, majorRouting)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00")
			eng.Now = func() time.Time { return now }
			get := func(key string) *store.Incident {
				inc, err := st.IncidentByKey(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				return inc
			}
			// By a priority rule's keyword.
			ingest(t, eng, raw("carol@example.com", "Mail is down for everyone", "m1@x"))
			// By a route's priority, with its informed.
			ingest(t, eng, raw("dave@example.com", "ERP unreachable", "m2@x"))
			// Not major: P3.
			ingest(t, eng, raw("erin@example.com", "Mouse is slow", "m3@x"))
			if !get("HD-1").IsMajor() || !get("HD-2").IsMajor() || get("HD-3").IsMajor() {
				t.Fatalf("major: HD-1 %q HD-2 %q HD-3 %q", get("HD-1").Major, get("HD-2").Major, get("HD-3").Major)
			}
			want := []string{"major_declared it-lead@example.com", "major_declared it-lead@example.com, cfo@example.com"}
			if got := majorMails(t, st); strings.Join(got, "; ") != strings.Join(want, "; ") {
				t.Fatalf("declaration mails %q, want %q", got, want)
			}
			m := lastMail(t, st, "major_declared")
			if !strings.HasPrefix(m.Subject, "[HD-2] Major incident declared: ERP unreachable") || m.AutoSubmitted != "auto-generated" ||
				!strings.Contains(m.TextBody, "HD-2 is a major incident: priority P1 is major ([major] priorities)") ||
				!strings.Contains(m.HTMLBody, "<strong>HD-2</strong> is a major incident") {
				t.Errorf("declaration mail:\n%s\n%s", m.Subject, m.TextBody)
			}

			// "#major" without authentication: refused, nothing changes.
			ingest(t, eng, reply("alice.admin@example.com", "HD-3", "f1@x", "", "#major\r\n"))
			if get("HD-3").IsMajor() {
				t.Fatal("an unauthenticated #major declared a major incident")
			}
			// From the provider, authenticated: not theirs to declare.
			ingest(t, eng, reply("servicedesk@acme-it.example", "HD-3", "f2@x", acmeAR, "#major\r\n"))
			if get("HD-3").IsMajor() {
				t.Fatal("a provider declared a major incident")
			}
			// By in-house staff, authenticated.
			ingest(t, eng, reply("alice.admin@example.com", "HD-3", "f3@x", ownAR, "#major\r\n"))
			if !get("HD-3").IsMajor() {
				t.Fatal("#major from authenticated staff did not declare HD-3")
			}
			var evs []store.Event
			st.DB().Select(&evs, st.DB().Rebind(`SELECT * FROM events WHERE kind = ? ORDER BY id`), "major_declared")
			if len(evs) != 3 || evs[2].Actor != "alice.admin@example.com" || !strings.Contains(evs[2].Detail, "declared by alice.admin@example.com") {
				t.Errorf("declaration events: %+v", evs)
			}

			// "#major off" on a P1: stays off, also after another message.
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "f4@x", ownAR, "#major off\r\n"))
			ingest(t, eng, reply("carol@example.com", "HD-1", "f5@x", ownAR, "Any news?\r\n"))
			if inc := get("HD-1"); inc.IsMajor() || inc.Major != store.MajorOff {
				t.Fatalf("after #major off: %q", inc.Major)
			}
			// By "#priority P1".
			ingest(t, eng, raw("frank@example.com", "Printer jam", "m6@x"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-4", "f6@x", ownAR, "#priority P1\r\n"))
			if !get("HD-4").IsMajor() {
				t.Fatal("#priority P1 did not declare HD-4 major")
			}
			if got := len(majorMails(t, st)); got != 4 {
				t.Errorf("%d declaration mails, want 4 (HD-1, HD-2, HD-3, HD-4)", got)
			}
		})
	}
}

// TestMajorIncidentReport: resolving a major incident asks its party's
// problem contact for a report, due two business days later; a reply with
// two sections is partial and is answered with the two missing; a second
// reply completes it, and level 1 of the chain gets it to accept; a
// "#reject" sends it back with the reason; a complete report again, then
// "#accept". The report is not relayed to the requester. Unauthenticated
// reports are not recorded.
func TestMajorIncidentReport(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, majorRouting)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00")
			eng.Now = func() time.Time { return now }
			ingest(t, eng, raw("carol@example.com", "Mail is down for everyone", "m1@x"))
			now = berlin(t, "2026-11-30 10:00")
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "r1@x", ownAR, "#resolve\r\nThe mail server is back.\r\n"))
			inc, _ := st.IncidentByKey(ctx, "HD-1")
			if inc.ReportStatus != store.ReportRequested || inc.ReportDueAt == nil || !inc.ReportDueAt.Equal(berlin(t, "2026-12-02 10:00")) {
				t.Fatalf("after resolution: report %q due %v, want requested, due Wednesday 10:00", inc.ReportStatus, inc.ReportDueAt)
			}
			req := lastMail(t, st, "report_request")
			for _, w := range []string{"was resolved on Monday 30 November 10:00", "by Wednesday 2 December 10:00", "what happened", "cause", "fix", "prevention", "PDF or DOCX"} {
				if !strings.Contains(req.TextBody, w) {
					t.Errorf("report request lacks %q:\n%s", w, req.TextBody)
				}
			}
			if req.ToAddrs != "alice.admin@example.com" || !strings.Contains(req.Subject, "Major incident report requested") || req.InReplyTo == "" {
				t.Errorf("report request: to %q subject %q in-reply-to %q", req.ToAddrs, req.Subject, req.InReplyTo)
			}

			// Unauthenticated: not recorded.
			now = berlin(t, "2026-11-30 15:00")
			two := "What happened:\r\nThe mail server stopped at 08:40.\r\n\r\nCause:\r\nThe disk filled with logs.\r\n"
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "p0@x", "", two))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportRequested {
				t.Fatalf("an unauthenticated report was recorded: %q", inc.ReportStatus)
			}
			// Two sections: partial, the two missing named.
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "p1@x", ownAR, two))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportPartial {
				t.Fatalf("two sections: report %q, want partial", inc.ReportStatus)
			}
			part := lastMail(t, st, "report_partial")
			if !strings.Contains(part.TextBody, "The report lacks: fix, prevention.") || part.ToAddrs != "alice.admin@example.com" {
				t.Errorf("partial reply to %q:\n%s", part.ToAddrs, part.TextBody)
			}
			// The rest: complete, to level 1 with the sender in copy.
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "p2@x", ownAR,
				"**Resolution**\r\nLogs rotated, disk cleaned.\r\n\r\n**Lessons learned**\r\nLog rotation is monitored.\r\n"))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportReceived || inc.ReportFrom != "alice.admin@example.com" {
				t.Fatalf("complete report: %q from %q", inc.ReportStatus, inc.ReportFrom)
			}
			got := lastMail(t, st, "report_received")
			if got.ToAddrs != "it-lead@example.com" || got.CcAddrs != "alice.admin@example.com" ||
				!strings.Contains(got.TextBody, "The disk filled with logs.") || !strings.Contains(got.TextBody, "#accept") {
				t.Errorf("received mail to %q cc %q:\n%s", got.ToAddrs, got.CcAddrs, got.TextBody)
			}
			var relayed int
			st.DB().Get(&relayed, `SELECT COUNT(*) FROM outbox WHERE kind = 'relay_to_requester'`)
			if relayed != 0 {
				t.Errorf("%d report mails relayed to the requester", relayed)
			}
			// The team member may not judge the report; the lead may.
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "v0@x", ownAR, "#accept\r\n"))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportReceived {
				t.Fatalf("the report's author accepted it: %q", inc.ReportStatus)
			}
			ingest(t, eng, reply("it-lead@example.com", "HD-1", "v1@x", ownAR, "#reject The cause does not say why the logs grew.\r\n"))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportRequested || inc.ReportNextAt == nil {
				t.Fatalf("after #reject: %q next %v", inc.ReportStatus, inc.ReportNextAt)
			}
			rej := lastMail(t, st, "report_verdict")
			if rej.ToAddrs != "alice.admin@example.com" || !strings.Contains(rej.TextBody, "The cause does not say why the logs grew.") {
				t.Errorf("rejection to %q:\n%s", rej.ToAddrs, rej.TextBody)
			}
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "p3@x", ownAR, "Root cause:\r\nA debug flag left on after an update wrote 40 GB of logs.\r\n"))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportReceived {
				t.Fatalf("revised report: %q", inc.ReportStatus)
			}
			ingest(t, eng, reply("it-lead@example.com", "HD-1", "v2@x", ownAR, "#accept\r\n"))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportAccepted || inc.ReportNextAt != nil {
				t.Fatalf("after #accept: %q", inc.ReportStatus)
			}
			v, err := workflow.ShowIncident(ctx, st.Reader, "HD-1")
			if err != nil {
				t.Fatal(err)
			}
			if !v.Major || v.Report == nil || len(v.Report.Sections) != 4 || v.Report.From != "alice.admin@example.com" {
				t.Fatalf("show: %+v", v.Report)
			}
			if txt, _ := sectionText(v, "cause"); !strings.Contains(txt, "debug flag") {
				t.Errorf("the revised cause did not replace the first: %q", txt)
			}
			var kinds []string
			for _, n := range v.Report.Notices {
				kinds = append(kinds, n.Kind)
			}
			if strings.Join(kinds, " ") != "major_declared report_requested report_partial report_received report_rejected report_received report_accepted" {
				t.Errorf("report notices: %v", kinds)
			}
			if inc.Status != store.StatusResolved {
				t.Errorf("the report reopened the incident: %s", inc.Status)
			}
		})
	}
}

func sectionText(v *workflow.IncidentView, name string) (string, bool) {
	for _, s := range v.Report.Sections {
		if s.Name == name {
			return s.Text, true
		}
	}
	return "", false
}

// TestMajorReportReminderAndOverdue: the tick reminds the problem contact
// every business day until the report is received, and past its due time
// escalates it up the chain (level 1 at due, level 2 four business hours
// later, level 3 a business day later), each once however often the tick
// runs; a complete report stops them.
func TestMajorReportReminderAndOverdue(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, majorRouting)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00")
			eng.Now = func() time.Time { return now }
			ingest(t, eng, raw("dave@example.com", "ERP unreachable", "m1@x"))
			now = berlin(t, "2026-11-30 10:00")
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "r1@x", ownAR, "#resolve\r\nERP is back.\r\n"))
			base := len(majorMails(t, st)) // declared, request
			steps := []struct {
				at   string
				want []string
			}{
				{"2026-12-01 09:59", nil},
				{"2026-12-01 10:00", []string{"report_reminder alice.admin@example.com"}},
				{"2026-12-02 09:59", nil},
				{"2026-12-02 10:00", []string{"report_reminder alice.admin@example.com", "report_overdue it-lead@example.com"}},
				{"2026-12-02 14:00", []string{"report_overdue it-manager@example.com cc it-lead@example.com"}},
				// Three days' worth of ticks missed: one reminder (the
				// latest), and level 3.
				{"2026-12-07 09:00", []string{"report_reminder alice.admin@example.com", "report_overdue director@example.com cc it-manager@example.com"}},
			}
			var want []string
			for _, s := range steps {
				now = berlin(t, s.at)
				for range 3 {
					if _, err := eng.Tick(ctx); err != nil {
						t.Fatalf("tick at %s: %v", s.at, err)
					}
				}
				want = append(want, s.want...)
				if got := majorMails(t, st)[base:]; strings.Join(got, "; ") != strings.Join(want, "; ") {
					t.Fatalf("after the ticks at %s:\n got %q\nwant %q", s.at, got, want)
				}
			}
			over := lastMail(t, st, "report_overdue")
			if !strings.Contains(over.Subject, "Escalation level 3: major incident report overdue") ||
				!strings.Contains(over.TextBody, "was due Wednesday 2 December 10:00") || !strings.Contains(over.TextBody, "You are level 3") {
				t.Errorf("overdue mail %q:\n%s", over.Subject, over.TextBody)
			}
			rem := lastMail(t, st, "report_reminder")
			if !strings.Contains(rem.Subject, "Reminder 3: major incident report due") {
				t.Errorf("reminder subject %q: slots 1, 2 and 5 went out, numbered by the reminders sent", rem.Subject)
			}
			v, _ := workflow.ShowIncident(ctx, st.Reader, "HD-1")
			v.AtTime(now)
			if v.ReportStatus != store.ReportOverdue {
				t.Errorf("report status %q at %s, want overdue", v.ReportStatus, now)
			}
			// The report arrives: no more reminders or levels.
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "p1@x", ownAR,
				"1. What happened\r\nERP down.\r\n2. Cause\r\nCertificate expired.\r\n3. Fix\r\nRenewed.\r\n4. Prevention\r\nExpiry monitored.\r\n"))
			n := len(majorMails(t, st))
			for _, at := range []string{"2026-12-08 10:00", "2026-12-10 10:00"} {
				now = berlin(t, at)
				if _, err := eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := majorMails(t, st); len(got) != n {
				t.Errorf("mail after the report was received: %q", got[n:])
			}
			var keys int
			st.DB().Get(&keys, `SELECT COUNT(*) FROM events WHERE kind IN ('report_reminder', 'report_overdue') AND dedupe_key IS NOT NULL`)
			if keys != 6 {
				t.Errorf("%d reminder and overdue events with once-only keys, want 6", keys)
			}
		})
	}
}

// TestMajorReportForms: the report as people send it, through the whole
// intake: bottom-posted under the quoted request, HTML with bold headings,
// German headings, and a PDF attachment with an empty text.
func TestMajorReportForms(t *testing.T) {
	pdf, err := os.ReadFile("majorreport/testdata/cairo-report.pdf")
	if err != nil {
		t.Fatal(err)
	}
	forms := []struct {
		name string
		mail func(key string) []byte
		want string // report status
	}{
		{"bottom-posted under the quoted request", func(key string) []byte {
			return reply("alice.admin@example.com", key, "b@x", ownAR,
				"On Mon, helpdesk wrote:\r\n> Please send the major incident report by Wednesday.\r\n> The report answers, under these headings:\r\n>   what happened\r\n>   cause\r\n\r\n"+
					"What happened: the file server was unreachable.\r\nCause: a failed switch port.\r\nFix: port replaced.\r\nPrevention: spare switch on site.\r\n")
		}, store.ReportReceived},
		{"HTML with bold headings", func(key string) []byte {
			return []byte("From: alice.admin@example.com\r\nTo: support@example.com\r\nSubject: Re: [" + key + "] x\r\nMessage-ID: <h@x>\r\n" + ownAR +
				"\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
				"<p><b>Summary</b></p><p>File server down.</p><p><b>Root cause</b></p><p>Switch port.</p>" +
				"<p><b>Resolution</b></p><p>Replaced.</p><p><b>Preventive actions</b></p><p>Spare on site.</p>")
		}, store.ReportReceived},
		{"top-posted over an Outlook-style original that holds sections: not a report", func(key string) []byte {
			return reply("alice.admin@example.com", key, "o@x", ownAR,
				"We will send the report tomorrow.\r\n\r\n-----Original Message-----\r\nFrom: IT Helpdesk <support@example.com>\r\nSent: Monday\r\nSubject: ["+key+"] x\r\n\r\n"+
					"What happened: the file server was unreachable.\r\nCause: a failed switch port.\r\nFix: port replaced.\r\nPrevention: spare switch on site.\r\n")
		}, store.ReportRequested},
		{"German headings, two sections", func(key string) []byte {
			return reply("alice.admin@example.com", key, "g@x", ownAR, "Was ist passiert?\r\nDer Dateiserver war weg.\r\n\r\nUrsache:\r\nDefekter Switch-Port.\r\n")
		}, store.ReportPartial},
		{"a PDF attachment", func(key string) []byte {
			return reportAttached(key, "pdf@x", pdf)
		}, store.ReportReceived},
	}
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			for i, f := range forms {
				t.Run(f.name, func(t *testing.T) {
					eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
					withRouting(t, eng, majorRouting)
					ctx := context.Background()
					now := berlin(t, "2026-11-30 09:00")
					eng.Now = func() time.Time { return now }
					ingest(t, eng, raw("carol@example.com", "File server down for everyone", "m1@x"))
					ingest(t, eng, reply("alice.admin@example.com", "HD-1", "r1@x", ownAR, "#resolve\r\n"))
					now = now.Add(time.Hour)
					res := ingest(t, eng, f.mail("HD-1"))
					inc, _ := st.IncidentByKey(ctx, "HD-1")
					if inc.ReportStatus != f.want {
						t.Fatalf("form %d: report %q, want %q (%s)", i, inc.ReportStatus, f.want, res[0].Reason)
					}
				})
			}
		})
	}
}

// reportAttached is alice.admin's authenticated reply on key's thread
// with data attached as report.pdf.
func reportAttached(key, id string, data []byte) []byte {
	b64 := base64.StdEncoding.EncodeToString(data)
	var lines []string
	for len(b64) > 76 {
		lines, b64 = append(lines, b64[:76]), b64[76:]
	}
	lines = append(lines, b64)
	return []byte("From: alice.admin@example.com\r\nTo: support@example.com\r\nSubject: Re: [" + key + "] x\r\nMessage-ID: <" + id + ">\r\n" + ownAR +
		"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nPlease find our report attached.\r\n" +
		"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		strings.Join(lines, "\r\n") + "\r\n--b1--\r\n")
}

// TestMajorReportHostileDocument: a 373-byte PDF whose object stream
// holds itself (the PDF library recurses until the stack overflows,
// which no recover catches) and a 593-byte one that makes it allocate a
// 96 GB table, sent as the report through the whole intake: each is read
// in a bounded child process, the daemon goes on, the report stays owed
// and the sender is told why the attachment could not be read.
func TestMajorReportHostileDocument(t *testing.T) {
	for _, c := range []struct{ file, why string }{
		// Under the race detector its runtime runs out of the child's
		// memory before the stack overflows: either reason is right.
		{"selfobjstm.bin", "its objects refer to each other without end|reading it needs more than 512 MiB of memory"},
		{"xrefstart.bin", "reading it needs more than 512 MiB of memory"},
	} {
		data, err := os.ReadFile(filepath.Join("..", "internal", "extract", "testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		eng, st := newEngine(t, "sqlite", `timezone = "Europe/Berlin"`)
		withRouting(t, eng, majorRouting)
		now := berlin(t, "2026-11-30 09:00")
		eng.Now = func() time.Time { return now }
		ingest(t, eng, raw("carol@example.com", "File server down for everyone", "m1@x"))
		ingest(t, eng, reply("alice.admin@example.com", "HD-1", "r1@x", ownAR, "#resolve\r\n"))
		now = now.Add(time.Hour)
		res := ingest(t, eng, reportAttached("HD-1", "hostile@x", data))
		inc, _ := st.IncidentByKey(context.Background(), "HD-1")
		if inc.ReportStatus != store.ReportRequested {
			t.Errorf("%s: report %q (%s), want still requested", c.file, inc.ReportStatus, res[0].Reason)
		}
		if un := lastMail(t, st, "report_partial"); !strings.Contains(un.TextBody, `attachment "report.pdf" could not be read`) || !regexp.MustCompile(c.why).MatchString(un.TextBody) {
			t.Errorf("%s: the answer:\n%s", c.file, un.TextBody)
		}
	}
}

// TestMajorReportNamesAProblem: a report whose prevention names a problem
// links the major incident to it, as "#problem PRB-N" would.
func TestMajorReportNamesAProblem(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, majorRouting)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00")
			eng.Now = func() time.Time { return now }
			prb := &store.Problem{Key: "PRB-7", Title: "Switch ports fail", Status: store.ProblemOpen, Fingerprint: "switch port",
				CreatedAt: now, UpdatedAt: now}
			if err := st.InsertProblems(ctx, []*store.Problem{prb}); err != nil {
				t.Fatal(err)
			}
			ingest(t, eng, raw("carol@example.com", "File server down for everyone", "m1@x"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "r1@x", ownAR, "#resolve\r\n"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "p1@x", ownAR,
				"What happened: the file server was unreachable.\r\nCause: a failed switch port.\r\nFix: port replaced.\r\n"+
					"Prevention: the failing ports are tracked in prb-7; spares ordered.\r\n"))
			inc, _ := st.IncidentByKey(ctx, "HD-1")
			if inc.ReportStatus != store.ReportReceived || inc.ProblemID == nil || *inc.ProblemID != prb.ID {
				t.Fatalf("report %q, problem %v, want received and linked to PRB-7", inc.ReportStatus, inc.ProblemID)
			}
		})
	}
}

// TestMajorReportJudgesAndCorrespondence: a provider's report goes to the
// in-house member of its chain to judge, not to its own account manager,
// whose "#accept" is refused; mail about the report (replies to the report
// mails) is never relayed to the requester; a reply that holds no report,
// or an attachment that cannot be read, is answered with why; the
// report's author does not accept it; a sign-off is not part of a
// section.
func TestMajorReportJudgesAndCorrespondence(t *testing.T) {
	conf := strings.Replace(majorRouting, `chain = ["account.manager@acme-it.example"]`,
		`chain = ["account.manager@acme-it.example", "it-manager@example.com"]`, 1)
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, conf)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00")
			eng.Now = func() time.Time { return now }
			ingest(t, eng, raw("carol@example.com", "Printers are down for everyone", "m1@x"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "a1@x", ownAR, "#assign acme\r\n"))
			ingest(t, eng, reply("servicedesk@acme-it.example", "HD-1", "s1@x", acmeAR, "#resolve\r\nThe print server is back.\r\n"))
			req := lastMail(t, st, "report_request")
			if req.ToAddrs != "account.manager@acme-it.example" {
				t.Fatalf("acme's report asked of %q, want its chain's level 1 (no problem contact)", req.ToAddrs)
			}
			relayed := func() int {
				var n int
				st.DB().Get(&n, `SELECT COUNT(*) FROM outbox WHERE kind = 'relay_to_requester'`)
				return n
			}
			before := relayed()
			// A reply to the request without a report: answered, not relayed.
			ingest(t, eng, []byte("From: account.manager@acme-it.example\r\nTo: support@example.com\r\nSubject: Re: [HD-1] Major incident report requested\r\n"+
				"Message-ID: <am1@x>\r\n"+acmeAR+"\r\n\r\nWe will send it on Friday.\r\n"))
			if relayed() != before {
				t.Error("a reply about the report was relayed to the requester")
			}
			if un := lastMail(t, st, "report_partial"); !strings.Contains(un.TextBody, "no section headings found") || un.ToAddrs != "account.manager@acme-it.example" {
				t.Errorf("no-report answer to %q:\n%s", un.ToAddrs, un.TextBody)
			}
			// An attachment that is not a readable PDF.
			ingest(t, eng, []byte("From: account.manager@acme-it.example\r\nTo: support@example.com\r\nSubject: Re: [HD-1] Major incident report requested\r\n"+
				"Message-ID: <am2@x>\r\n"+acmeAR+"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"+
				"--b\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"rca.pdf\"\r\n\r\n"+
				"%PDF-1.4 this is not a PDF\r\n--b--\r\n"))
			if un := lastMail(t, st, "report_partial"); !strings.Contains(un.TextBody, `attachment "rca.pdf" could not be read`) {
				t.Errorf("unreadable attachment answer:\n%s", un.TextBody)
			}
			// The report, with a sign-off.
			ingest(t, eng, reply("servicedesk@acme-it.example", "HD-1", "s2@x", acmeAR,
				"What happened: printing stopped.\r\nCause: spooler crash.\r\nFix: spooler restarted.\r\nPrevention: spooler watchdog.\r\n\r\nRegards,\r\nTom\r\n"))
			inc, _ := st.IncidentByKey(ctx, "HD-1")
			if inc.ReportStatus != store.ReportReceived {
				t.Fatalf("report %q", inc.ReportStatus)
			}
			got := lastMail(t, st, "report_received")
			if got.ToAddrs != "it-manager@example.com" || got.CcAddrs != "servicedesk@acme-it.example" {
				t.Errorf("the received report went to %q cc %q, want the in-house member of acme's chain", got.ToAddrs, got.CcAddrs)
			}
			v, _ := workflow.ShowIncident(ctx, st.Reader, "HD-1")
			if txt, _ := sectionText(v, "prevention"); txt != "spooler watchdog." {
				t.Errorf("prevention %q: the sign-off is part of it", txt)
			}
			before = relayed()
			ingest(t, eng, []byte("From: account.manager@acme-it.example\r\nTo: support@example.com\r\nSubject: Re: [HD-1] Major incident report received\r\n"+
				"Message-ID: <am3@x>\r\n"+acmeAR+"\r\n\r\n#accept\r\nLooks good to us.\r\n"))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportReceived {
				t.Fatalf("the provider's account manager judged its own report: %q", inc.ReportStatus)
			}
			if relayed() != before {
				t.Error("the provider's text under #accept was relayed to the requester")
			}
			ingest(t, eng, reply("it-manager@example.com", "HD-1", "im1@x", ownAR, "#accept\r\n"))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportAccepted {
				t.Fatalf("the in-house judge's #accept: %q", inc.ReportStatus)
			}
		})
	}
}

// TestMajorReportAuthorDoesNotJudge: the team lead writes the report and
// may not accept it; the manager does.
func TestMajorReportAuthorDoesNotJudge(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, majorRouting)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00")
			eng.Now = func() time.Time { return now }
			ingest(t, eng, raw("carol@example.com", "Mail is down for everyone", "m1@x"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "r1@x", ownAR, "#resolve\r\n"))
			ingest(t, eng, reply("it-lead@example.com", "HD-1", "p1@x", ownAR,
				"What happened: no mail.\r\nCause: full disk.\r\nFix: cleaned.\r\nPrevention: monitoring.\r\n"))
			if got := lastMail(t, st, "report_received"); got.ToAddrs != "it-manager@example.com" {
				t.Errorf("the lead's report went to %q to judge, want the manager", got.ToAddrs)
			}
			ingest(t, eng, reply("it-lead@example.com", "HD-1", "v1@x", ownAR, "#accept\r\n"))
			if inc, _ := st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportReceived {
				t.Fatalf("the author accepted the report: %q", inc.ReportStatus)
			}
			ingest(t, eng, reply("it-manager@example.com", "HD-1", "v2@x", ownAR, "#accept\r\n"))
			if inc, _ := st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportAccepted {
				t.Fatalf("the manager's #accept: %q", inc.ReportStatus)
			}
		})
	}
}

// TestMajorReportEdges: an incident opened and resolved in one batch owes
// its report; a "#reject" whose reason has headings is not a report; a
// report sent after one was received is not relayed; the debt stays with
// the party that held the incident when the report was asked for; the
// problem contact who reported the incident sends the report without
// reopening it; an unauthenticated mail's PDF is not read.
func TestMajorReportEdges(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, majorRouting)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00")
			eng.Now = func() time.Time { return now }
			get := func(key string) *store.Incident {
				inc, _ := st.IncidentByKey(ctx, key)
				return inc
			}
			relayed := func() int {
				var n int
				st.DB().Get(&n, `SELECT COUNT(*) FROM outbox WHERE kind = 'relay_to_requester'`)
				return n
			}
			// One batch: the request and its resolution.
			ingest(t, eng, raw("carol@example.com", "Mail is down for everyone", "m1@x"),
				reply("alice.admin@example.com", "HD-1", "r1@x", ownAR, "#resolve\r\n"))
			if inc := get("HD-1"); inc.ReportStatus != store.ReportRequested || inc.ReportNextAt == nil || inc.ReportParty != "it" {
				t.Fatalf("opened and resolved in one batch: report %q next %v party %q", inc.ReportStatus, inc.ReportNextAt, inc.ReportParty)
			}
			// The debt stays with the team after an #assign.
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "a1@x", ownAR, "#assign acme\r\n"))
			full := "What happened: no mail.\r\nCause: full disk.\r\nFix: cleaned.\r\nPrevention: monitoring.\r\n"
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "p1@x", ownAR, full))
			if inc := get("HD-1"); inc.ReportStatus != store.ReportReceived {
				t.Fatalf("the team's report after the #assign: %q", inc.ReportStatus)
			}
			// A revision after the report came: on record, not relayed.
			n := relayed()
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "p2@x", ownAR, "Cause: a full disk, and no alert.\r\n"))
			if relayed() != n {
				t.Error("a report after the report was relayed to the requester")
			}
			// The judge's reason, with headings, is not the report.
			ingest(t, eng, reply("it-lead@example.com", "HD-1", "v1@x", ownAR, "#reject see below\r\nCause: you do not say why.\r\nPrevention: which alerts?\r\n"))
			inc := get("HD-1")
			if inc.ReportStatus != store.ReportRequested || inc.ReportFrom != "alice.admin@example.com" {
				t.Fatalf("after #reject with headings: %q from %q", inc.ReportStatus, inc.ReportFrom)
			}
			// The problem contact reports an incident and owes its report.
			now = berlin(t, "2026-11-30 11:00")
			ingest(t, eng, raw("alice.admin@example.com", "ERP down for everyone", "m2@x", ownAR))
			ingest(t, eng, reply("alice.admin@example.com", "HD-2", "r2@x", ownAR, "#resolve\r\n"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-2", "p3@x", ownAR, full))
			if inc := get("HD-2"); inc.ReportStatus != store.ReportReceived || inc.Status != store.StatusResolved {
				t.Fatalf("the problem contact's report on their own incident: report %q, status %s", inc.ReportStatus, inc.Status)
			}
			// A forged mail with a PDF: not read, not recorded.
			pdf := "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
			ingest(t, eng, raw("carol@example.com", "Printers down for everyone", "m3@x"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-3", "r3@x", ownAR, "#resolve\r\n"))
			ingest(t, eng, []byte("From: alice.admin@example.com\r\nTo: support@example.com\r\nSubject: Re: [HD-3] Major incident report requested\r\n"+
				"Message-ID: <f1@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n"+
				"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\n\r\n"+pdf+"\r\n--b--\r\n"))
			if inc := get("HD-3"); inc.ReportStatus != store.ReportRequested {
				t.Errorf("a forged mail's attachment changed the report: %q", inc.ReportStatus)
			}
			if !hasEvent(eventsOf(t, st, "HD-3"), "flagged", "the major incident report it may hold was not read") {
				t.Errorf("the forged report is not flagged: %+v", eventsOf(t, st, "HD-3"))
			}
		})
	}
}

// TestMajorOpenUpdatesAndCoAuthors: while a major incident is open (no
// report asked for yet), the team's replies are ordinary work: relayed,
// and the first one meets the response target, even when they read like
// a report. A report written by two people is judged by neither. "#major
// off" then "#major" owes a new report at the next resolution.
func TestMajorOpenUpdatesAndCoAuthors(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, majorRouting)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00")
			eng.Now = func() time.Time { return now }
			ingest(t, eng, raw("carol@example.com", "Mail is down for everyone", "m1@x"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "u1@x", ownAR, "Cause: the mail server's disk is full.\r\nFix: we are cleaning it up.\r\n"))
			inc, _ := st.IncidentByKey(ctx, "HD-1")
			var relayed int
			st.DB().Get(&relayed, `SELECT COUNT(*) FROM outbox WHERE kind = 'relay_to_requester'`)
			if inc.FirstResponseAt == nil || relayed != 1 {
				t.Fatalf("an update on an open major incident: first response %v, %d relayed", inc.FirstResponseAt, relayed)
			}
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "r1@x", ownAR, "#resolve\r\n"))
			ingest(t, eng, reply("it-lead@example.com", "HD-1", "p1@x", ownAR, "What happened: no mail.\r\nCause: full disk.\r\n"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "p2@x", ownAR, "Fix: cleaned.\r\nPrevention: monitoring.\r\n"))
			if got := lastMail(t, st, "report_received"); got.ToAddrs != "it-manager@example.com" {
				t.Errorf("a report by it-lead and alice went to %q to judge, want it-manager", got.ToAddrs)
			}
			ingest(t, eng, reply("it-lead@example.com", "HD-1", "v1@x", ownAR, "#accept\r\n"))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportReceived {
				t.Fatalf("a co-author accepted the report: %q", inc.ReportStatus)
			}
			ingest(t, eng, reply("it-manager@example.com", "HD-1", "v2@x", ownAR, "#accept\r\n"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "o1@x", ownAR, "#major off\r\n"))
			ingest(t, eng, reply("alice.admin@example.com", "HD-1", "o2@x", ownAR, "#major\r\n"))
			if inc, _ = st.IncidentByKey(ctx, "HD-1"); inc.ReportStatus != store.ReportRequested {
				t.Errorf("declared again on a resolved incident: report %q, want a new one requested", inc.ReportStatus)
			}
		})
	}
}
