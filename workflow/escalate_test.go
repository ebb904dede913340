package workflow_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// slaRouting: an office calendar in Berlin (Mon-Fri 08:00-18:00), the
// helpdesk's promise (P3: first response in 4 business hours, resolution
// in 3 business days) and a provider contract, a team with a three-level
// chain, and the escalation rules of issue 11's example.
const slaRouting = `
[[calendar]]
name = "office"
timezone = "Europe/Berlin"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["08:00-18:00"]

[[sla]]
name = "standard"
calendar = "office"
targets = [
  { priority = "P1", response = "30m", resolution = "4h", clock = "24x7" },
  { priority = "P3", response = "4h", resolution = "3d" },
]

[[sla]]
name = "acme-contract"
calendar = "office"
targets = [
  { priority = "P3", response = "2h", resolution = "2d" },
]

[[team]]
name = "it"
members = ["alice.admin@example.com"]
chain = ["it-lead@example.com", "it-manager@example.com", "director@example.com"]

[[provider]]
name = "acme"
domains = ["acme-it.example"]
intake = "servicedesk@acme-it.example"
chain = ["account.manager@acme-it.example"]
sla = "acme-contract"

[[priority_rule]]
priority = "P1"
keywords = ["down for everyone"]

[routing]
default_assignee = "it"

[escalation]
warn_at = 0.8
levels = ["0m", "4h", "1d"]
repeat = "1d"
`

func berlin(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// slaMails lists the SLA mails queued so far: "kind to [cc]".
func slaMails(t *testing.T, st *store.Store) []string {
	t.Helper()
	var rows []store.Outbox
	if err := st.DB().Select(&rows, `SELECT * FROM outbox WHERE kind LIKE 'sla_%' ORDER BY id`); err != nil {
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

// TestEscalationSequence: with the clock driven as "run --once --now"
// drives it: a warning at 80 % of the response target, chain level 1 at
// the breach, level 2 four business hours later, level 3 a business day
// later, then a reminder a business day on; each once however often the
// tick runs; "#ack" from the chain stops further mail; resolution stops
// everything; a reopen starts a new generation that escalates again.
func TestEscalationSequence(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, slaRouting)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00") // a Monday
			eng.Now = func() time.Time { return now }
			res := ingest(t, eng, raw("carol@example.com", "Payroll share is gone", "e1@x"))
			inc, _ := st.IncidentByKey(ctx, res[0].Incident)
			if inc.SLA != "standard" || inc.ResponseDue == nil || !inc.ResponseDue.Equal(berlin(t, "2026-11-30 13:00")) ||
				inc.ResolutionDue == nil || !inc.ResolutionDue.Equal(berlin(t, "2026-12-03 09:00")) {
				t.Fatalf("clocks of a new P3 incident: sla %q response due %v, resolution due %v", inc.SLA, inc.ResponseDue, inc.ResolutionDue)
			}
			var ack store.Outbox
			st.DB().Get(&ack, `SELECT * FROM outbox WHERE kind = 'ack'`)
			if !strings.Contains(ack.TextBody, "We aim to respond by Monday 30 November 13:00 (Europe/Berlin)") {
				t.Errorf("the acknowledgement does not state the promise:\n%s", ack.TextBody)
			}
			tickAt := func(at string, times int) {
				t.Helper()
				now = berlin(t, at)
				for i := 0; i < times; i++ {
					if _, err := eng.Tick(ctx); err != nil {
						t.Fatalf("tick at %s: %v", at, err)
					}
				}
			}
			steps := []struct {
				at   string
				want []string
			}{
				{"2026-11-30 12:00", nil},
				{"2026-11-30 12:15", []string{"sla_warning alice.admin@example.com"}},
				{"2026-11-30 12:59", nil},
				{"2026-11-30 13:00", []string{"sla_level it-lead@example.com"}},
				{"2026-11-30 16:59", nil},
				{"2026-11-30 17:00", []string{"sla_level it-manager@example.com cc it-lead@example.com"}},
				{"2026-12-01 13:00", []string{"sla_level director@example.com cc it-manager@example.com"}},
				{"2026-12-02 12:59", nil},
				// The reminder, and the resolution target's warning: 80 % of
				// 3 business days (30 h) is 24 h, reached Wednesday 13:00.
				{"2026-12-02 13:00", []string{"sla_reminder director@example.com cc it-manager@example.com", "sla_warning alice.admin@example.com"}},
			}
			var want []string
			for _, s := range steps {
				tickAt(s.at, 3)
				want = append(want, s.want...)
				if got := slaMails(t, st); strings.Join(got, "; ") != strings.Join(want, "; ") {
					t.Fatalf("after the ticks at %s:\n got %q\nwant %q", s.at, got, want)
				}
			}
			inc, _ = st.IncidentByKey(ctx, inc.Key)
			if inc.EscalationLevel != 3 || inc.ResponseBreachedAt == nil || !inc.ResponseBreachedAt.Equal(berlin(t, "2026-11-30 13:00")) {
				t.Errorf("after escalation: level %d, breached at %v", inc.EscalationLevel, inc.ResponseBreachedAt)
			}
			var mail store.Outbox
			st.DB().Get(&mail, st.DB().Rebind(`SELECT * FROM outbox WHERE kind = 'sla_level' AND to_addrs = ?`), "it-lead@example.com")
			for _, w := range []string{"The first response target of " + inc.Key + " was breached at Monday 30 November 13:00", "You are level 1 of IT team's reporting chain",
				"the helpdesk's promise (standard): first response for P3 within 4h of business time", "carol@example.com: body", "#ack"} {
				if !strings.Contains(mail.TextBody, w) {
					t.Errorf("escalation mail lacks %q:\n%s", w, mail.TextBody)
				}
			}
			if !strings.HasPrefix(mail.Subject, "["+inc.Key+"] Escalation level 1") || mail.AutoSubmitted != "auto-generated" || mail.HTMLBody == "" {
				t.Errorf("escalation mail: %q %q", mail.Subject, mail.AutoSubmitted)
			}

			// The manager acknowledges: no reminder follows.
			now = berlin(t, "2026-12-02 14:00")
			ingest(t, eng, []byte("From: it-manager@example.com\r\nTo: support@example.com\r\nSubject: Re: ["+inc.Key+"] x\r\nMessage-ID: <ack1@x>\r\n"+
				ownAR+"\r\n\r\n#ack\r\nWe are on it.\r\n"))
			inc, _ = st.IncidentByKey(ctx, inc.Key)
			if inc.AcknowledgedBy != "it-manager@example.com" {
				t.Fatalf("acknowledged by %q", inc.AcknowledgedBy)
			}
			n := len(slaMails(t, st))
			tickAt("2026-12-03 13:00", 2)
			tickAt("2026-12-07 13:00", 2)
			// The resolution target (3 business days) passes on Thursday
			// 09:00, after the acknowledgement: a new breach, escalated
			// again; nothing more about the acknowledged response.
			var after []store.Outbox
			st.DB().Select(&after, st.DB().Rebind(`SELECT * FROM outbox WHERE kind LIKE 'sla_%' ORDER BY id`))
			for _, m := range after[n:] {
				if !strings.Contains(m.Subject, "resolution") {
					t.Errorf("mail after #ack: %s", m.Subject)
				}
			}
			// Level 3 fell due on Friday 09:00 and went out with Monday's
			// tick; the reminder slot of Monday 09:00 began before that,
			// so no reminder in the same tick as the level it repeats.
			if len(after)-n != 3 {
				t.Errorf("resolution breach: %d mails, want levels 1-3 and no reminder yet", len(after)-n)
			}
			n = len(after)

			// Resolved, then reopened by the requester: a new generation,
			// whose breach escalates again.
			now = berlin(t, "2026-12-07 14:00")
			ingest(t, eng, commandMailTo(inc.Key, "alice.admin@example.com", "#resolve", "r1@x"))
			now = berlin(t, "2026-12-07 15:00")
			ingest(t, eng, raw("carol@example.com", "Re: ["+inc.Key+"] Payroll share is gone", "e2@x", ownAR))
			inc, _ = st.IncidentByKey(ctx, inc.Key)
			// The acknowledgement stays on record with the breach it was
			// for; it does not cover the next generation's breaches.
			if inc.Status != store.StatusOpen || inc.ClockGeneration != 2 || inc.AcknowledgedBy != "it-manager@example.com" {
				t.Fatalf("after reopening: %s, generation %d, acknowledged by %q", inc.Status, inc.ClockGeneration, inc.AcknowledgedBy)
			}
			// Generation 2 starts every clock afresh: its response target
			// passes on Tuesday 09:00 and escalates again (its warning,
			// due at 08:12, was missed: once breached only levels go).
			tickAt("2026-12-08 10:00", 2)
			got := slaMails(t, st)
			if strings.Join(got[n:], "; ") != "sla_level it-lead@example.com" {
				t.Errorf("generation 2: %q", got[n:])
			}
		})
	}
}

// commandMailTo is an authenticated staff reply with a command.
func commandMailTo(key, from, cmd, id string) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: Re: [%s] x\r\nMessage-ID: <%s>\r\n%s\r\n\r\n%s\r\n", from, key, id, ownAR, cmd))
}

// TestEscalationPausesAndBusinessHours: waiting on the requester stops
// warnings and escalations (and the clock); a warning that falls due
// while the office is closed is sent when it opens, not on Saturday; a
// 24x7 P1 (raised by a priority rule) escalates at night.
func TestEscalationPausesAndBusinessHours(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, slaRouting)
			ctx := context.Background()
			now := berlin(t, "2026-12-04 14:30") // a Friday
			eng.Now = func() time.Time { return now }
			res := ingest(t, eng, raw("carol@example.com", "Scanner offline", "w1@x"), raw("dan@example.com", "Label printer broken", "w2@x"))
			waiting, friday := res[0].Incident, res[1].Incident
			now = berlin(t, "2026-12-04 15:00")
			ingest(t, eng, commandMailTo(waiting, "alice.admin@example.com", "#waiting\r\nWhich scanner?", "w3@x"))
			// Friday's warning falls due at 17:42 (3 h 12 min of 4 h), the
			// breach on Monday at 08:30; the daemon is down until
			// Saturday.
			for _, at := range []string{"2026-12-05 10:00", "2026-12-06 23:00"} {
				now = berlin(t, at)
				eng.Tick(ctx)
			}
			if got := slaMails(t, st); len(got) != 0 {
				t.Fatalf("mail at the weekend: %q", got)
			}
			now = berlin(t, "2026-12-07 08:00")
			eng.Tick(ctx)
			if got := slaMails(t, st); len(got) != 1 || got[0] != "sla_warning alice.admin@example.com" {
				t.Fatalf("Monday 08:00: %q", got)
			}
			var w store.Outbox
			st.DB().Get(&w, `SELECT * FROM outbox WHERE kind = 'sla_warning'`)
			if !strings.Contains(w.Subject, "["+friday+"]") {
				t.Errorf("the warning is about %s, want %s", w.Subject, friday)
			}
			// The waiting incident stays silent for days, then the
			// requester answers: its resolution clock resumes where it
			// stopped (30 minutes counted of 3 business days; the
			// question that made it wait was the first response).
			now = berlin(t, "2026-12-10 09:00")
			eng.Tick(ctx)
			inc, _ := st.IncidentByKey(ctx, waiting)
			var n int
			st.DB().Get(&n, st.DB().Rebind(`SELECT COUNT(*) FROM outbox WHERE kind LIKE 'sla_%' AND incident_id = ?`), inc.ID)
			if n != 0 || !inc.Paused || inc.NextDueAt != nil {
				t.Errorf("while waiting: %d SLA mails, paused %v, next due %v", n, inc.Paused, inc.NextDueAt)
			}
			ingest(t, eng, raw("carol@example.com", "Re: ["+waiting+"] Scanner offline", "w4@x", ownAR))
			inc, _ = st.IncidentByKey(ctx, waiting)
			if inc.Paused || inc.FirstResponseAt == nil || inc.ResolutionDue == nil || !inc.ResolutionDue.Equal(berlin(t, "2026-12-15 08:30")) {
				t.Errorf("resumed: paused %v, resolution due %v (want Tue 15 December 08:30)", inc.Paused, inc.ResolutionDue)
			}

			// A P1 by priority rule, 24x7: breached at 02:30 at night.
			now = berlin(t, "2026-12-12 02:00") // Saturday
			res = ingest(t, eng, raw("erin@example.com", "Mail server down for everyone", "p1@x"))
			p1, _ := st.IncidentByKey(ctx, res[0].Incident)
			if p1.Priority != "P1" || p1.ResponseDue == nil || !p1.ResponseDue.Equal(berlin(t, "2026-12-12 02:30")) {
				t.Fatalf("P1: %s due %v", p1.Priority, p1.ResponseDue)
			}
			now = berlin(t, "2026-12-12 02:30")
			eng.Tick(ctx)
			st.DB().Get(&n, st.DB().Rebind(`SELECT COUNT(*) FROM outbox WHERE kind = 'sla_level' AND incident_id = ?`), p1.ID)
			if n != 1 {
				t.Errorf("P1 escalations at night: %d", n)
			}
		})
	}
}

// TestClockFollowsPauseAndPriority: a P3 incident waits on the requester
// for 2 hours, its priority changes to P2 while it waits, then the
// requester answers: the P2 resolution target (8 business hours, in the
// policy below) counts from the request, without the 2 hours of waiting.
// show's clock story says so.
func TestClockFollowsPauseAndPriority(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, strings.Replace(slaRouting, `{ priority = "P3", response = "4h", resolution = "3d" },`,
				`{ priority = "P2", resolution = "8h" },
  { priority = "P3", resolution = "3d" },`, 1))
			ctx := context.Background()
			now := berlin(t, "2026-12-01 09:00") // Tuesday
			eng.Now = func() time.Time { return now }
			key := ingest(t, eng, raw("carol@example.com", "Laptop will not start", "z1@x"))[0].Incident
			now = berlin(t, "2026-12-01 10:00")
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#waiting", "z2@x"))
			now = berlin(t, "2026-12-01 11:00")
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#priority P2", "z3@x"))
			now = berlin(t, "2026-12-01 12:00")
			ingest(t, eng, raw("carol@example.com", "Re: ["+key+"] Laptop will not start", "z4@x", ownAR))
			inc, _ := st.IncidentByKey(ctx, key)
			// 09:00-10:00 counted (1 h), paused 10:00-12:00, 7 h left from
			// 12:00: 12:00-18:00 (6 h) and Wednesday 08:00-09:00.
			if inc.Priority != "P2" || inc.Paused || inc.ResolutionDue == nil || !inc.ResolutionDue.Equal(berlin(t, "2026-12-02 09:00")) {
				t.Fatalf("%s paused %v, resolution due %v; want P2 due Wednesday 09:00", inc.Priority, inc.Paused, inc.ResolutionDue)
			}
			story, err := workflow.ClockStory(ctx, eng.Cfg, st.Reader, key, now)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(story, "\n")
			for _, w := range []string{"Promise (standard), resolution for P2 within 8h of business time", "due Wednesday 2 December 09:00"} {
				if !strings.Contains(text, w) {
					t.Errorf("clock story lacks %q:\n%s", w, text)
				}
			}
			t.Logf("clock story:\n%s", text)
		})
	}
}

// TestReloadMovesOpenDueTimes: a holiday added to the calendar by a
// reload moves the due time of an open incident; a resolved incident
// keeps its figures as measured; connection settings wait for a restart.
func TestReloadMovesOpenDueTimes(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, slaRouting)
			ctx := context.Background()
			now := berlin(t, "2026-12-01 16:00") // Tuesday
			eng.Now = func() time.Time { return now }
			res := ingest(t, eng, raw("carol@example.com", "Printer jams", "h1@x"), raw("dan@example.com", "Phone broken", "h2@x"))
			open, done := res[0].Incident, res[1].Incident
			ingest(t, eng, commandMailTo(done, "alice.admin@example.com", "#resolve", "h3@x"))
			before, _ := st.IncidentByKey(ctx, done)
			inc, _ := st.IncidentByKey(ctx, open)
			if !inc.ResponseDue.Equal(berlin(t, "2026-12-02 10:00")) {
				t.Fatalf("response due %v, want Wednesday 10:00", inc.ResponseDue)
			}
			next := *eng.Cfg
			cfg, err := config.Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\ntimezone = \"Europe/Berlin\"\nkey_prefix = \"IT\"\n"+
				strings.Replace(slaRouting, `hours = ["08:00-18:00"]`, `hours = ["08:00-18:00"]
holidays = ["2026-12-02"]`, 1)))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Database = next.Database
			restart := eng.Reload(cfg)
			if strings.Join(restart, ",") != "[helpdesk] key_prefix" {
				t.Errorf("sections for a restart: %q", restart)
			}
			if n, err := eng.RefreshClocks(ctx); err != nil || n != 1 {
				t.Fatalf("refreshed %d, %v", n, err)
			}
			inc, _ = st.IncidentByKey(ctx, open)
			if !inc.ResponseDue.Equal(berlin(t, "2026-12-03 10:00")) {
				t.Errorf("after the holiday: response due %v, want Thursday 10:00", inc.ResponseDue)
			}
			after, _ := st.IncidentByKey(ctx, done)
			if !reflect.DeepEqual(before.ResolutionDue, after.ResolutionDue) {
				t.Errorf("a resolved incident's figures moved: %v → %v", before.ResolutionDue, after.ResolutionDue)
			}
			if eng.Cfg.Helpdesk.KeyPrefix != "HD" {
				t.Error("the key prefix changed without a restart")
			}
		})
	}
}

// TestSLAMailsOnceAndBounces: a hundred ticks at the same moment send each
// notice once; the resolution notice says whether the promise was kept;
// a bounce of an escalation mail is recorded on the incident as a failed
// delivery and opens nothing.
func TestSLAMailsOnceAndBounces(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, slaRouting)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00")
			eng.Now = func() time.Time { return now }
			late := ingest(t, eng, raw("carol@example.com", "Payroll share is gone", "o1@x"))[0].Incident
			quick := ingest(t, eng, raw("dan@example.com", "Mouse broken", "o2@x"))[0].Incident
			now = berlin(t, "2026-11-30 10:00")
			ingest(t, eng, commandMailTo(quick, "alice.admin@example.com", "#resolve\r\nNew mouse on your desk.", "o3@x"))
			now = berlin(t, "2026-11-30 13:05")
			for range 100 {
				if _, err := eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := slaMails(t, st); strings.Join(got, "; ") != "sla_level it-lead@example.com" { // past the breach: no warning any more
				t.Fatalf("after 100 ticks: %q", got)
			}
			var res store.Outbox
			st.DB().Get(&res, `SELECT * FROM outbox WHERE kind = 'resolution'`)
			if !strings.Contains(res.TextBody, "It was resolved within the time we promised (by Thursday 3 December 09:00 (Europe/Berlin)).") {
				t.Errorf("resolution notice:\n%s", res.TextBody)
			}
			var esc store.Outbox
			st.DB().Get(&esc, `SELECT * FROM outbox WHERE kind = 'sla_level'`)
			r := ingest(t, eng, dsn("it-lead@example.com", esc.MessageID))
			if r[0].Outcome != workflow.OutcomeThreaded || r[0].Incident != late {
				t.Fatalf("bounce of the escalation: %+v", r[0])
			}
			var status string
			st.DB().Get(&status, st.DB().Rebind(`SELECT status FROM outbox WHERE id = ?`), esc.ID)
			wantRows(t, st, map[string]int{"incidents": 2})
			if status != store.OutboxBounced || !hasEvent(eventsOf(t, st, late), "delivery_bounced", "it-lead@example.com") {
				t.Errorf("escalation outbox row %s; events %+v", status, eventsOf(t, st, late))
			}
		})
	}
}

// TestClockEdgeCases: a mail of commands only (or a #note) answers
// nobody and is no first response; a message processed at a clock
// earlier than the incident's start (--now set back) is not lost; a
// breach stays recorded after the priority is lowered to one without a
// target.
func TestClockEdgeCases(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, `timezone = "Europe/Berlin"`)
			withRouting(t, eng, slaRouting)
			ctx := context.Background()
			now := berlin(t, "2026-11-30 09:00")
			eng.Now = func() time.Time { return now }
			key := ingest(t, eng, raw("carol@example.com", "Payroll share is gone", "k1@x"))[0].Incident
			now = berlin(t, "2026-11-30 09:30")
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#priority P3", "k2@x"),
				commandMailTo(key, "alice.admin@example.com", "#note looking at the logs first", "k3@x"))
			if inc, _ := st.IncidentByKey(ctx, key); inc.FirstResponseAt != nil || inc.Status != store.StatusNew {
				t.Errorf("commands or a note counted as the first response: %v %s", inc.FirstResponseAt, inc.Status)
			}
			// The clock set back before the incident began.
			now = berlin(t, "2026-11-30 08:00")
			res := ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#waiting\r\nWhich share?", "k4@x"))
			if res[0].Outcome != workflow.OutcomeThreaded {
				t.Fatalf("a mail at an earlier clock: %+v", res[0])
			}
			// Resumed and breached, then lowered to a priority without a
			// target: the breach stays.
			now = berlin(t, "2026-11-30 10:00")
			ingest(t, eng, raw("carol@example.com", "Re: ["+key+"] Payroll share is gone", "k5@x", ownAR))
			now = berlin(t, "2026-12-04 10:00")
			eng.Tick(ctx)
			inc, _ := st.IncidentByKey(ctx, key)
			if inc.ResolutionBreachedAt == nil {
				t.Fatalf("no resolution breach by Friday: %+v", inc)
			}
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#priority P5", "k6@x"))
			if inc, _ = st.IncidentByKey(ctx, key); inc.Priority != "P5" || inc.ResolutionBreachedAt == nil {
				t.Errorf("the breach went with the priority: %s %v", inc.Priority, inc.ResolutionBreachedAt)
			}
		})
	}
}

// TestReminderNumberingAfterDowntime: the daemon is down from Tuesday to
// Friday while daily reminders fall due; on Friday one reminder goes out
// (not one per missed day) and it is "Reminder 1", since none came
// before it; Monday's is "Reminder 2", and a repeated tick sends nothing.
func TestReminderNumberingAfterDowntime(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, now, _ := slaEngine(t, d)
			ctx := context.Background()
			reminders := func() []string {
				var subjects []string
				if err := st.DB().Select(&subjects, `SELECT subject FROM outbox WHERE kind = 'sla_reminder' ORDER BY id`); err != nil {
					t.Fatal(err)
				}
				return subjects
			}
			for _, at := range []string{"2026-11-30 13:00", "2026-11-30 17:00", "2026-12-01 13:00", "2026-12-04 13:00", "2026-12-04 13:00"} {
				*now = berlin(t, at)
				if _, err := eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var response []string
			for _, s := range reminders() {
				if strings.Contains(s, "first response") {
					response = append(response, s)
				}
			}
			if len(response) != 1 || !strings.Contains(response[0], "Reminder 1") {
				t.Fatalf("after three missed days: %q, want one \"Reminder 1\" about the first response", response)
			}
			var body string
			st.DB().Get(&body, `SELECT text_body FROM outbox WHERE kind = 'sla_reminder' ORDER BY id LIMIT 1`)
			if !strings.Contains(body, "(overdue by 40h of business time)") {
				t.Errorf("the reminder does not say how overdue in words:\n%s", body)
			}
			*now = berlin(t, "2026-12-07 13:00")
			for range 2 {
				if _, err := eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			response = response[:0]
			for _, s := range reminders() {
				if strings.Contains(s, "first response") {
					response = append(response, s)
				}
			}
			if len(response) != 2 || !strings.Contains(response[1], "Reminder 2") {
				t.Errorf("the next business day: %q, want a second mail, \"Reminder 2\"", response)
			}
		})
	}
}

// TestAckOnlyByTheBreachingPartysChain: the in-house team breached the
// first response, then handed the incident to the provider; the
// provider's account manager is on a reporting chain, but not the one
// the breach went to, so their "#ack" is refused and the team's chain
// keeps being escalated; the team's manager acknowledges it.
func TestAckOnlyByTheBreachingPartysChain(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, now, key := slaEngine(t, d)
			ctx := context.Background()
			tickAt := func(at string) {
				t.Helper()
				*now = berlin(t, at)
				if _, err := eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			tickAt("2026-11-30 13:00") // level 1 to it-lead
			*now = berlin(t, "2026-11-30 13:30")
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#assign acme", "a1@x"))
			*now = berlin(t, "2026-11-30 13:40")
			ingest(t, eng, reply("account.manager@acme-it.example", key, "ack-acme@x", acmeAR, "#ack\r\n"))
			inc, _ := st.IncidentByKey(ctx, key)
			if inc.AcknowledgedBy != "" {
				t.Fatalf("the provider's account manager acknowledged the team's breach: %q", inc.AcknowledgedBy)
			}
			var answer string
			st.DB().Get(&answer, `SELECT text_body FROM outbox WHERE kind = 'command_reply' ORDER BY id DESC LIMIT 1`)
			if !strings.Contains(answer, "not yours to acknowledge") {
				t.Errorf("the refusal does not say why:\n%s", answer)
			}
			tickAt("2026-11-30 17:00")
			if got := strings.Join(slaMails(t, st), "; "); !strings.Contains(got, "sla_level it-manager@example.com") {
				t.Fatalf("level 2 of the team's chain not sent after the provider's #ack: %s", got)
			}
			// The provider's own contract breached too (2h from the
			// hand-over): its subject names the contract, so it is not
			// taken for the promise's.
			var subjects []string
			st.DB().Select(&subjects, `SELECT subject FROM outbox WHERE kind = 'sla_level' AND to_addrs = 'account.manager@acme-it.example'`)
			if len(subjects) != 1 || !strings.Contains(subjects[0], "Escalation level 1: first response target (acme-contract) breached") {
				t.Errorf("the contract's escalation: %q", subjects)
			}
			*now = berlin(t, "2026-11-30 17:10")
			ingest(t, eng, reply("it-manager@example.com", key, "ack-it@x", ownAR, "#ack\r\n"))
			inc, _ = st.IncidentByKey(ctx, key)
			if inc.AcknowledgedBy != "it-manager@example.com" {
				t.Fatalf("the team's manager did not acknowledge: %q", inc.AcknowledgedBy)
			}
			n := len(slaMails(t, st))
			tickAt("2026-12-01 13:00") // level 3's time
			for _, m := range slaMails(t, st)[n:] {
				if strings.Contains(m, "director@example.com") {
					t.Errorf("escalated after the team's #ack: %s", m)
				}
			}
		})
	}
}

// TestAckOfAContractBreach: a provider's own contract breaches before the
// helpdesk's promise does; its account manager, level 1 of its chain,
// acknowledges the contract's breach, and no reminder follows for it.
func TestAckOfAContractBreach(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, now, key := slaEngine(t, d)
			ctx := context.Background()
			*now = berlin(t, "2026-11-30 09:30")
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#assign acme", "a1@x"))
			*now = berlin(t, "2026-11-30 11:30") // acme-contract: first response within 2h
			if _, err := eng.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(slaMails(t, st), "; "); !strings.Contains(got, "sla_level account.manager@acme-it.example") {
				t.Fatalf("the contract's breach was not escalated: %s", got)
			}
			*now = berlin(t, "2026-11-30 11:40")
			ingest(t, eng, reply("account.manager@acme-it.example", key, "ack-acme@x", acmeAR, "#ack\r\n"))
			inc, _ := st.IncidentByKey(ctx, key)
			if inc.AcknowledgedBy != "account.manager@acme-it.example" {
				var answer string
				st.DB().Get(&answer, `SELECT text_body FROM outbox WHERE kind = 'command_reply' ORDER BY id DESC LIMIT 1`)
				t.Fatalf("the account manager could not acknowledge the contract's breach: %q\n%s", inc.AcknowledgedBy, answer)
			}
			for _, at := range []string{"2026-12-01 11:30", "2026-12-01 12:00"} {
				*now = berlin(t, at)
				if _, err := eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for _, m := range slaMails(t, st) {
				if strings.HasPrefix(m, "sla_reminder") {
					t.Errorf("a reminder after the contract's breach was acknowledged: %s", m)
				}
			}
		})
	}
}

// TestDowntimeSendsLevelsThenReminders: the daemon is down for two weeks
// after a request; the first tick sends levels 1 to 3 of the breach
// (each once) but no reminder with them; the first reminder goes out at
// the first reminder slot after level 3 did.
func TestDowntimeSendsLevelsThenReminders(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, now, _ := slaEngine(t, d)
			ctx := context.Background()
			response := func() []string {
				var out []string
				for _, m := range slaMails(t, st) {
					if !strings.HasPrefix(m, "sla_warning") {
						out = append(out, m)
					}
				}
				return out
			}
			tick := func(at string) {
				t.Helper()
				*now = berlin(t, at)
				if _, err := eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			tick("2026-12-14 09:00")
			tick("2026-12-14 09:01")
			got := response()
			var reminders, levels int
			for _, m := range got {
				switch {
				case strings.HasPrefix(m, "sla_reminder"):
					reminders++
				case strings.HasPrefix(m, "sla_level"):
					levels++
				}
			}
			if levels != 6 || reminders != 0 {
				t.Fatalf("after two weeks down: %q; want levels 1-3 of both breaches, no reminder", got)
			}
			tick("2026-12-14 13:00") // the first slot after the levels
			var subjects []string
			st.DB().Select(&subjects, `SELECT subject FROM outbox WHERE kind = 'sla_reminder' ORDER BY id`)
			if len(subjects) == 0 || !strings.Contains(subjects[0], "Reminder 1") {
				t.Errorf("reminders at the next slot: %q, want \"Reminder 1\"", subjects)
			}
		})
	}
}

// TestLevelsOfARemovedTeamAreOnRecord: a reload renames the team an open
// incident is assigned to; its breach has no chain to go to, and each
// level says so on the audit trail instead of passing in silence.
func TestLevelsOfARemovedTeamAreOnRecord(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, now, _ := slaEngine(t, d)
			ctx := context.Background()
			renamed, err := config.Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\n"+
				strings.ReplaceAll(strings.Replace(slaRouting, `name = "it"`, `name = "ops"`, 1), `default_assignee = "it"`, `default_assignee = "ops"`)))
			if err != nil {
				t.Fatal(err)
			}
			next := *eng.Cfg // a reload brings a new configuration
			next.Teams, next.Routing = renamed.Teams, renamed.Routing
			eng.Reload(&next)
			if _, err := eng.RefreshClocks(ctx); err != nil {
				t.Fatal(err)
			}
			*now = berlin(t, "2026-11-30 13:00")
			if _, err := eng.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			var details []string
			st.DB().Select(&details, `SELECT detail FROM events WHERE kind = 'sla_level' ORDER BY id`)
			if len(details) != 1 || !strings.Contains(details[0], "not sent: it is not a team or provider of the configuration") {
				t.Errorf("level 1 of a removed team's breach: %q", details)
			}
		})
	}
}

// TestWaitingReturnsToNewWhenUnanswered: "#waiting" on an incident no one
// has answered yet, then the requester's reply: back to "new" (open
// comes with the first response), not "open".
func TestWaitingReturnsToNewWhenUnanswered(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, now, key := slaEngine(t, d)
			ctx := context.Background()
			*now = berlin(t, "2026-11-30 09:10")
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#waiting", "w1@x"))
			if inc, _ := st.IncidentByKey(ctx, key); inc.Status != store.StatusWaiting || inc.FirstResponseAt != nil {
				t.Fatalf("after #waiting: %s, first response %v", inc.Status, inc.FirstResponseAt)
			}
			*now = berlin(t, "2026-11-30 09:20")
			ingest(t, eng, raw("carol@example.com", "Re: ["+key+"] Payroll share is gone", "e2@x", ownAR))
			if inc, _ := st.IncidentByKey(ctx, key); inc.Status != store.StatusNew {
				t.Errorf("after the requester's reply: %s, want new (nobody has answered)", inc.Status)
			}
		})
	}
}

// TestChainMemberIsNotAnOutsider: the team lead, on the reporting chain
// but not a member, writes on an incident: not flagged as a stranger.
func TestChainMemberIsNotAnOutsider(t *testing.T) {
	eng, _, _, key := slaEngine(t, "sqlite")
	res := ingest(t, eng, commandMailTo(key, "it-lead@example.com", "#waiting", "w1@x"))
	if strings.Contains(res[0].Reason, "flagged") {
		t.Errorf("the team lead's mail was flagged: %s", res[0].Reason)
	}
	res = ingest(t, eng, commandMailTo(key, "stranger@example.org", "Any news?", "s1@x"))
	if !strings.Contains(res[0].Reason, "flagged: sender is neither") {
		t.Errorf("a stranger's mail was not flagged: %s", res[0].Reason)
	}
}

// slaEngine is an engine on slaRouting (Europe/Berlin) whose clock reads
// *now, with Carol's request taken on Monday 2026-11-30 09:00; key is
// its incident.
func slaEngine(t *testing.T, d string) (eng *workflow.Engine, st *store.Store, now *time.Time, key string) {
	t.Helper()
	eng, st = newEngine(t, d, `timezone = "Europe/Berlin"`)
	withRouting(t, eng, slaRouting)
	at := berlin(t, "2026-11-30 09:00")
	now = &at
	eng.Now = func() time.Time { return *now }
	key = ingest(t, eng, raw("carol@example.com", "Payroll share is gone", "e1@x"))[0].Incident
	return eng, st, now, key
}

// TestProviderFirstResponseAfterHandOver: the team answered, then handed
// the incident to the provider, which answered within its contract: its
// contract's response target is met, nothing is escalated to its chain.
// After a reopen, the team's next reply meets the new response target.
func TestProviderFirstResponseAfterHandOver(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, now, key := slaEngine(t, d)
			ctx := context.Background()
			*now = berlin(t, "2026-11-30 09:30")
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "Passing it on to ACME.", "a0@x"))
			*now = berlin(t, "2026-11-30 09:40")
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#assign acme", "a1@x"))
			*now = berlin(t, "2026-11-30 10:00")
			ingest(t, eng, reply("servicedesk@acme-it.example", key, "s1@x", acmeAR, "We are on it.\r\n"))
			for _, at := range []string{"2026-11-30 11:40", "2026-11-30 16:00"} {
				*now = berlin(t, at)
				if _, err := eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for _, m := range slaMails(t, st) {
				if strings.Contains(m, "account.manager@acme-it.example") && strings.HasPrefix(m, "sla_level") {
					t.Errorf("ACME answered within its contract and was escalated: %s", m)
				}
			}
			if !hasEvent(eventsOf(t, st, key), "first_response", "first response of acme since it holds the incident") {
				t.Errorf("no first response of acme on record: %+v", eventsOf(t, st, key))
			}
			// Resolved, reopened by the requester, answered the next day
			// within 4 business hours: no response level for generation 2.
			*now = berlin(t, "2026-11-30 16:10")
			ingest(t, eng, reply("servicedesk@acme-it.example", key, "s2@x", acmeAR, "#resolve\r\nFixed.\r\n"))
			*now = berlin(t, "2026-11-30 16:30")
			ingest(t, eng, raw("carol@example.com", "Re: ["+key+"] x", "c2@x", ownAR))
			n := len(slaMails(t, st))
			*now = berlin(t, "2026-12-01 09:00")
			ingest(t, eng, reply("servicedesk@acme-it.example", key, "s3@x", acmeAR, "Looking again.\r\n"))
			for _, at := range []string{"2026-12-01 12:00", "2026-12-02 12:00"} {
				*now = berlin(t, at)
				eng.Tick(ctx)
			}
			for _, m := range slaMails(t, st)[n:] {
				if strings.HasPrefix(m, "sla_level") || strings.HasPrefix(m, "sla_reminder") {
					t.Errorf("escalated although the reply after the reopen met the response target: %s", m)
				}
			}
		})
	}
}

// TestAcksOfTwoChains: the team's lead acknowledges the team's breach,
// the incident goes to the provider, whose account manager acknowledges
// the provider's breach: the team's acknowledgement stands, the team's
// chain hears no more.
func TestAcksOfTwoChains(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, now, key := slaEngine(t, d)
			ctx := context.Background()
			tick := func(at string) {
				*now = berlin(t, at)
				if _, err := eng.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			tick("2026-11-30 13:00") // level 1 to it-lead
			*now = berlin(t, "2026-11-30 13:30")
			ingest(t, eng, commandMailTo(key, "it-lead@example.com", "#ack", "k1@x"))
			*now = berlin(t, "2026-11-30 13:40")
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#assign acme", "a1@x"))
			tick("2026-11-30 15:40") // acme's contract (2h) breached: its level 1
			*now = berlin(t, "2026-11-30 16:00")
			ingest(t, eng, reply("account.manager@acme-it.example", key, "k2@x", acmeAR, "#ack\r\n"))
			n := len(slaMails(t, st))
			tick("2026-11-30 17:00")
			tick("2026-12-01 13:00")
			for _, m := range slaMails(t, st)[n:] {
				if strings.Contains(m, "it-manager@example.com") || strings.Contains(m, "director@example.com") {
					t.Errorf("the team's chain escalated after its own #ack: %s", m)
				}
			}
		})
	}
}

// TestBreachOutlivesReopenAndHandOver: the team breached the first
// response, then handed the incident to the provider; the breach counts
// against the team. Resolved, reopened and answered at once, the incident
// keeps the breach in its figures.
func TestBreachOutlivesReopenAndHandOver(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, now, key := slaEngine(t, d)
			ctx := context.Background()
			*now = berlin(t, "2026-11-30 14:00")
			if _, err := eng.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			*now = berlin(t, "2026-11-30 14:10")
			ingest(t, eng, commandMailTo(key, "alice.admin@example.com", "#assign acme", "a1@x"))
			*now = berlin(t, "2026-11-30 14:30")
			ingest(t, eng, reply("servicedesk@acme-it.example", key, "s1@x", acmeAR, "#resolve\r\nDone.\r\n"))
			*now = berlin(t, "2026-12-01 11:00")
			ingest(t, eng, raw("carol@example.com", "Re: ["+key+"] x", "c2@x", ownAR))
			*now = berlin(t, "2026-12-01 11:30")
			ingest(t, eng, reply("servicedesk@acme-it.example", key, "s2@x", acmeAR, "Looking again.\r\n"))
			inc, _ := st.IncidentByKey(ctx, key)
			if inc.ClockGeneration != 2 {
				t.Fatalf("generation %d, want 2 after the reopen", inc.ClockGeneration)
			}
			if inc.ResponseBreachedAt == nil || !inc.ResponseBreachedAt.Equal(berlin(t, "2026-11-30 13:00")) || inc.ResponseBreachedBy != "it" {
				t.Errorf("after a reopen: response breached %v by %q, want Monday 13:00 by it", inc.ResponseBreachedAt, inc.ResponseBreachedBy)
			}
		})
	}
}
