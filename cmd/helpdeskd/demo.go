package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/internal/mailsim"
	"github.com/helpdeskd/helpdeskd/mailbox"
	"github.com/helpdeskd/helpdeskd/mailer"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

const demoAddress = "support@demo.example"

// cmdDemo runs helpdeskd with everything embedded: an IMAP server and an
// SMTP capture on loopback and SQLite in a directory. It plays a scripted
// scenario through the same intake, workflow and delivery code as "run",
// prints what happened, and exits; --serve keeps it running for a person
// to write to.
func cmdDemo(e *env, args []string) error {
	fs := newFlags("demo", e)
	serve := fs.Bool("serve", false, "keep running after the scenario so you can send mail to it")
	dir := fs.String("dir", "", "directory for the database, configuration and captured mail (default: a new temporary directory)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "helpdeskd-demo-")
		if err != nil {
			return err
		}
		*dir = d
	} else if err := demoDir(*dir); err != nil {
		return err
	}
	// The configuration it writes names the database by an absolute path,
	// so that it works from any directory.
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	*dir = abs
	self := selfCommand()
	sentDir := filepath.Join(*dir, "sent")
	if err := os.MkdirAll(sentDir, 0o755); err != nil {
		return err
	}
	pass := randomHex(8)
	imapSrv, err := mailsim.StartIMAP(demoAddress, pass, mailsim.IMAPOptions{})
	if err != nil {
		return fmt.Errorf("start embedded IMAP server: %w", err)
	}
	defer imapSrv.Close()
	smtpSrv, err := mailsim.StartSMTP(mailsim.SMTPOptions{
		Dir:     sentDir,
		Local:   []string{demoAddress},
		Deliver: func(raw []byte) error { return imapSrv.Append("INBOX", raw) },
	})
	if err != nil {
		return fmt.Errorf("start embedded SMTP server: %w", err)
	}
	defer smtpSrv.Close()

	cfgText := fmt.Sprintf(`# Written by "helpdeskd demo"; valid while the demo runs.
[helpdesk]
name = "Demo IT Helpdesk"
address = %q
timezone = "Europe/London"
domains = ["demo.example", "staff.demo.example"]

[database]
url = "sqlite:%s"

[imap]
host = "127.0.0.1"
port = %d
security = "none"
username = %q
password = %q
poll_interval = "5s"

[smtp]
host = "127.0.0.1"
port = %d
security = "none"
from = "Demo IT Helpdesk <%s>"

[[team]]
name = "it"
members = ["it-team@staff.demo.example"]
chain = ["it-lead@staff.demo.example", "it-manager@staff.demo.example"]
problem_contact = "it-lead@staff.demo.example"

[[provider]]
name = "acme"
domains = ["acme.demo.example"]
intake = "servicedesk@acme.demo.example"
chain = ["account-manager@acme.demo.example", "it-manager@staff.demo.example"]
ticket_pattern = 'ACME-\d+'
relay = true
sla = "acme-contract"

[[route]]
name = "printing"
keywords = ["printer", "toner", "scanner"]
assign = "acme"
category = "printing"

[routing]
default_assignee = "it"

[problems]
window = "30d"
threshold = 2

# Around the clock, so that the demo plays the same at any hour: the
# helpdesk promises a first answer to a P3 within 4 hours; ACME's
# contract, 2 hours.
[[sla]]
name = "standard"
targets = [
  { priority = "P1", response = "30m", resolution = "4h", clock = "24x7" },
  { priority = "P3", response = "4h", resolution = "3d", clock = "24x7" },
]

[[sla]]
name = "acme-contract"
targets = [{ priority = "P3", response = "2h", resolution = "2d", clock = "24x7" }]

[escalation]
warn_at = 0.8
levels = ["0m", "4h"]
repeat = "1d"

# "Down for everyone" makes an incident P1, and P1 incidents are major:
# the IT lead hears of one at once, and after its resolution the team
# owes a report (what happened, cause, fix, prevention) within 2 days.
[[priority_rule]]
priority = "P1"
keywords = ["down for everyone"]

[major]
priorities = ["P1"]
report_due = "2d"
remind_every = "1d"

# Every Monday at 07:30 (London), management gets the week that ended:
# SLA compliance per team and provider, breaches, problems, major
# incidents and their reports, with a chart and the week's register.
[[summary]]
name = "weekly"
schedule = "mon 07:30"
period = "week"
to = ["management@demo.example"]
attach = ["xlsx"]

# The demo's mail carries the Authentication-Results header a real border
# MTA would add, above its Received; only headers of this id, above that
# Received (border_received = 1), are believed.
[commands]
trusted_authserv_ids = ["mx.demo.example"]
`, demoAddress, filepath.Join(*dir, "helpdeskd.db"), imapSrv.Port, demoAddress, pass, smtpSrv.Port, demoAddress)
	cfgPath := filepath.Join(*dir, "helpdeskd.toml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		return err
	}
	cfg, err := config.Parse(cfgPath, []byte(cfgText))
	if err != nil {
		return err
	}
	quiet := *e
	quiet.log = slog.New(slog.DiscardHandler)
	st, err := quiet.openStore(cfg, true)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := quiet.engine(cfg, st)
	if err != nil {
		return err
	}
	d := &demo{w: e.stdout, e: &quiet, cfg: cfg, st: st, eng: eng, imap: imapSrv, smtp: smtpSrv,
		intake: mailbox.New(cfg, st, eng, quiet.log), mailer: mailer.New(st, cfg, quiet.log)}
	eng.Observe = func(rs []workflow.Result) { d.results = append(d.results, rs...) }
	// The demo moves its own clock forward to show the SLA clocks; the
	// whole process follows it, as with "run --once --now". It starts on
	// the last Monday 09:00 (London) before now, so that its story falls
	// in one week, the one its weekly summary reports.
	start := lastMonday9(time.Now())
	d.clock = start
	eng.Now = func() time.Time { return d.clock }
	d.mailer.Now = eng.Now

	fmt.Fprintf(e.stdout, "helpdeskd demo: IMAP on %s, SMTP capture on %s, SQLite in %s\n\n", imapSrv.Addr, smtpSrv.Addr, *dir)
	if err := d.play(); err != nil {
		return err
	}
	if err := d.report(self, cfgPath, sentDir); err != nil {
		return err
	}
	if !*serve {
		return nil
	}
	fmt.Fprintf(e.stdout, `
Serving. Send mail to %s through the embedded SMTP server, for example:
  swaks --server %s --from you@example.com --to %s --header "Subject: my screen is black" --body "Help!"
Read the helpdesk's mailbox at imap://%s (user %s, password %s).
Replies from the helpdesk are captured in %s.
Look at the incidents with:
  %s -config %s incidents
Stop with Ctrl-C.
`, demoAddress, smtpSrv.Addr, demoAddress, imapSrv.Addr, demoAddress, pass, sentDir, self, cfgPath)
	eng.Observe = nil
	// From here on the real clock, moved as far as the demo moved it.
	ahead := d.clock.Sub(start)
	eng.Now = func() time.Time { return time.Now().UTC().Add(ahead) }
	dr := &daemonRun{e: e, cfg: cfg, st: st, eng: eng}
	return dr.run()
}

type demo struct {
	w       io.Writer
	e       *env
	cfg     *config.Config
	st      *store.Store
	eng     *workflow.Engine
	imap    *mailsim.IMAPServer
	smtp    *mailsim.SMTPServer
	intake  *mailbox.Intake
	mailer  *mailer.Mailer
	results []workflow.Result
	step    int
	clock   time.Time
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// demoMail builds a message as a mail client would send it.
type demoMail struct {
	from, name, subject, body string
	inReplyTo                 string
	extra                     []string
}

func (m demoMail) bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s <%s>\r\nTo: Demo IT Helpdesk <%s>\r\nSubject: %s\r\n", m.name, m.from, demoAddress, m.subject)
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <%s@%s>\r\n", time.Now().UTC().Format(time.RFC1123Z), randomHex(8), strings.SplitN(m.from, "@", 2)[1])
	if m.inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", m.inReplyTo, m.inReplyTo)
	}
	// What the demo's border MTA (mx.demo.example) would have found:
	// every sender here is who it says it is.
	// Its results sit above the Received line it wrote when the mail
	// came in ([commands] border_received = 1).
	domain := strings.SplitN(m.from, "@", 2)[1]
	fmt.Fprintf(&b, "Authentication-Results: mx.demo.example; dkim=pass header.d=%s\r\n", domain)
	fmt.Fprintf(&b, "Received: from out.%s (out.%s [192.0.2.10]) by mx.demo.example with ESMTPS; %s\r\n", domain, domain, time.Now().UTC().Format(time.RFC1123Z))
	for _, h := range m.extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(m.body, "\n", "\r\n"))
	b.WriteString("\r\n")
	return b.Bytes()
}

// cycle runs one intake cycle and one outbox flush, as "run --once" does,
// and prints what happened to each message.
func (d *demo) cycle(title string, mails ...[]byte) error {
	d.step++
	fmt.Fprintf(d.w, "%d. %s\n", d.step, title)
	for _, m := range mails {
		if err := d.imap.Append("INBOX", m); err != nil {
			return err
		}
	}
	d.results = nil
	if _, err := d.intake.RunOnce(d.e.ctx); err != nil {
		return err
	}
	before := len(d.smtp.Captured())
	if _, err := d.mailer.Flush(d.e.ctx); err != nil {
		return err
	}
	for _, r := range d.results {
		line := string(r.Outcome)
		if r.Incident != "" {
			line += " " + r.Incident
		}
		if r.Problem != "" {
			line += " " + r.Problem
		}
		fmt.Fprintf(d.w, "   %-22s %s [%s]: %s\n", line, d.fromOf(r), r.Kind, r.Reason)
	}
	d.printSent(before)
	return nil
}

// printSent prints the mail captured since before.
func (d *demo) printSent(before int) {
	for _, c := range d.smtp.Captured()[before:] {
		m, err := mailparse.Parse(c.Data, mailparse.DefaultOptions)
		if err != nil {
			continue
		}
		fmt.Fprintf(d.w, "   sent → %s: %q (%s)\n", strings.Join(c.To, ", "), m.Subject, filepath.Base(c.File))
	}
	fmt.Fprintln(d.w)
}

// later moves the demo's clock forward and runs the tick and a flush, as
// the daemon does every minute.
func (d *demo) later(by time.Duration, title string) error {
	d.clock = d.clock.Add(by)
	d.step++
	fmt.Fprintf(d.w, "%d. %s\n", d.step, title)
	before := len(d.smtp.Captured())
	if _, err := d.eng.Tick(d.e.ctx); err != nil {
		return err
	}
	if _, err := d.mailer.Flush(d.e.ctx); err != nil {
		return err
	}
	d.printSent(before)
	return nil
}

func (d *demo) fromOf(r workflow.Result) string {
	if r.MessageID == "" {
		return r.Source
	}
	return "<" + r.MessageID + ">"
}

// ackTo finds the acknowledgement sent to addr.
func (d *demo) ackTo(addr string) (*mailparse.Message, error) {
	for _, c := range d.smtp.Captured() {
		if len(c.To) == 1 && strings.EqualFold(c.To[0], addr) {
			return mailparse.Parse(c.Data, mailparse.DefaultOptions)
		}
	}
	return nil, fmt.Errorf("demo: no acknowledgement was sent to %s", addr)
}

func (d *demo) play() error {
	alice := demoMail{from: "alice@staff.demo.example", name: "Alice Archer", subject: "Printer on the 3rd floor jams every page",
		body: "Hi,\n\nthe printer next to the kitchen jams on every page since this morning.\n\nAlice"}
	bob := demoMail{from: "bob@staff.demo.example", name: "Bob Baker", subject: "Cannot connect to the VPN from home",
		body: "The VPN client says 'authentication failed' although my password works for email.\n\nBob"}
	carol := demoMail{from: "carol@staff.demo.example", name: "Carol Chen", subject: "Outlook crashes on start",
		body: "Outlook closes itself right after the splash screen.\n\nCarol"}
	if err := d.cycle("Three employees write to "+demoAddress, alice.bytes(), bob.bytes(), carol.bytes()); err != nil {
		return err
	}

	ack, err := d.ackTo(alice.from)
	if err != nil {
		return err
	}
	reply := demoMail{from: alice.from, name: alice.name, subject: "Re: " + ack.Subject, inReplyTo: ack.MessageID,
		body: "It is the HP LaserJet, asset tag 4711.\n\nOn Mon, the helpdesk wrote:\n> your request has been received"}
	if err := d.cycle("Alice replies to her acknowledgement", reply.bytes()); err != nil {
		return err
	}

	notice, err := d.mailTo("servicedesk@acme.demo.example")
	if err != nil {
		return err
	}
	acme := demoMail{from: "tom@acme.demo.example", name: "Tom (ACME IT)", subject: "[ACME-1042] " + notice.Subject, inReplyTo: notice.MessageID,
		body: "A technician will replace the fuser unit tomorrow at 10:00.\n\nTom\n-- \nTom Tanner, ACME IT, direct line 555-0142"}
	later := demoMail{from: "tom@acme.demo.example", name: "Tom (ACME IT)", subject: "[ACME-1042] Fuser unit replaced",
		body: "Done. Please tell us if it jams again.\n\nTom"}
	if err := d.cycle("The printer request went to ACME, the printing provider; ACME answers with its ticket number, later with only that", acme.bytes(), later.bytes()); err != nil {
		return err
	}

	again := bob
	again.subject = "VPN still broken"
	twice := again.bytes()
	if err := d.cycle("Bob writes again while HD-2 is open, and his mail client sends it twice: a follow-up to HD-2, stored once", twice, twice); err != nil {
		return err
	}

	tagOnly := demoMail{from: carol.from, name: carol.name, subject: "Re: [HD-3] Outlook crashes on start",
		body: "It also happens in safe mode. (My phone's mail app dropped the References header.)"}
	if err := d.cycle("Carol answers with only the [HD-3] tag in the subject, no References", tagOnly.bytes()); err != nil {
		return err
	}

	dave := demoMail{from: "dave@staff.demo.example", name: "Dave Dunn", subject: "New starter needs a laptop",
		body: "Our new colleague starts on Monday and needs a laptop.\n\nDave"}
	if err := d.cycle("Dave writes in", dave.bytes()); err != nil {
		return err
	}
	daveAck, err := d.ackTo(dave.from)
	if err != nil {
		return err
	}
	ooo := demoMail{from: dave.from, name: dave.name, subject: "Automatic reply: " + daveAck.Subject, inReplyTo: daveAck.MessageID,
		body:  "I am out of the office until Monday and will read your message then.",
		extra: []string{"Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All"}}
	stray := demoMail{from: "erin@partner.demo.example", name: "Erin Ellis", subject: "Out of Office: Newsletter",
		body: "I am on holiday.", extra: []string{"Auto-Submitted: auto-replied"}}
	alert := demoMail{from: "nagios@monitor.demo.example", name: "Nagios", subject: "PROBLEM: fileserver01 disk /srv is 97% full",
		body: "Host: fileserver01\nService: disk /srv\nState: CRITICAL", extra: []string{"Auto-Submitted: auto-generated"}}
	if err := d.cycle("Dave's out-of-office answers the acknowledgement, a stray vacation reply and a monitoring alert arrive",
		ooo.bytes(), stray.bytes(), alert.bytes()); err != nil {
		return err
	}

	frank := demoMail{from: "frank@staff.demo.example", name: "Frank Fox", subject: "outlook keeps crashing when I start it",
		body: "Since this morning Outlook closes as soon as it opens.\n\nFrank"}
	if err := d.cycle("Frank reports what Carol reported: a repeat becomes a problem for the team's problem contact", frank.bytes()); err != nil {
		return err
	}
	prb, err := d.mailTo("it-lead@staff.demo.example")
	if err != nil {
		return err
	}
	lead := demoMail{from: "it-lead@staff.demo.example", name: "Lee (IT lead)", subject: "Re: " + prb.Subject, inReplyTo: prb.MessageID,
		body: "#root-cause add-in 'MeetingPlus' 4.2 crashes Outlook 2021 on start\n#workaround start Outlook with /safe, or disable the add-in\n#known-error\n\nVendor ticket opened."}
	if err := d.cycle("The IT lead answers the problem notice with commands: root cause, workaround, known error", lead.bytes()); err != nil {
		return err
	}
	return d.slaStory()
}

// slaStory: the clocks run. Nobody in the IT team answers; the tick warns
// the team at 80 % of the 4-hour promise and escalates the breach to the
// first level of its chain, the IT lead, who acknowledges it by mail;
// ACME answered the printer request within its 2-hour contract.
func (d *demo) slaStory() error {
	if err := d.later(3*time.Hour+15*time.Minute, "3 h 15 min later: the IT team has answered none of its requests (a first answer is promised within 4 h): the tick warns it"); err != nil {
		return err
	}
	if err := d.later(time.Hour, "An hour later the promise is broken: each breach goes to level 1 of the IT team's chain, the IT lead"); err != nil {
		return err
	}
	var esc *mailparse.Message
	for _, c := range d.smtp.Captured() {
		if m, err := mailparse.Parse(c.Data, mailparse.DefaultOptions); err == nil && strings.HasPrefix(m.Subject, "[HD-2] Escalation level 1") {
			esc = m
		}
	}
	if esc == nil {
		return fmt.Errorf("demo: no escalation of HD-2 was sent")
	}
	ack := demoMail{from: "it-lead@staff.demo.example", name: "Lee (IT lead)", subject: "Re: " + esc.Subject, inReplyTo: esc.MessageID,
		body: "#ack\nI am on it and will call the requester."}
	if err := d.cycle("The IT lead acknowledges the breach of Bob's VPN request (HD-2) by mail (#ack): no further level for it", ack.bytes()); err != nil {
		return err
	}
	if err := d.later(4*time.Hour, "Four hours later: level 2, the IT manager, hears of the breaches nobody acknowledged"); err != nil {
		return err
	}
	for _, key := range []string{"HD-1", "HD-2"} {
		story, err := workflow.ClockStory(d.e.ctx, d.cfg, d.st.Reader, key, d.clock)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.w, "   %s's clocks (\"helpdeskd show %s\"):\n", key, key)
		for _, l := range story {
			if !strings.HasPrefix(l, "  ") {
				fmt.Fprintf(d.w, "     %s\n", l)
			}
		}
	}
	fmt.Fprintln(d.w)
	return d.majorStory()
}

// majorStory: a major incident, declared by a priority rule and told to
// the IT lead at once, escalated when its 30-minute first response is
// missed, resolved; the team's report is asked for, comes first without
// two sections, is asked for again, comes complete and is accepted.
func (d *demo) majorStory() error {
	grace := demoMail{from: "grace@staff.demo.example", name: "Grace Green", subject: "Email is down for everyone",
		body: "Nobody on the 2nd floor can send or receive email since 9:05.\n\nGrace"}
	if err := d.cycle("Grace writes that email is down for everyone: a priority rule makes it P1, and P1 incidents are major", grace.bytes()); err != nil {
		return err
	}
	key := ""
	for _, r := range d.results {
		key = r.Incident
	}
	if key == "" {
		return fmt.Errorf("demo: Grace's mail opened no incident")
	}
	if err := d.later(35*time.Minute, "35 min later nobody has answered the major incident: its 30-minute first response is breached"); err != nil {
		return err
	}
	ack, err := d.ackTo(grace.from)
	if err != nil {
		return err
	}
	fix := demoMail{from: "it-team@staff.demo.example", name: "IT team", subject: "Re: " + ack.Subject, inReplyTo: ack.MessageID,
		body: "#resolve\nThe mail server is back; its disk had filled up. Sorry for the disruption."}
	if err := d.cycle("The IT team resolves "+key+": the team owes a major incident report, asked of its problem contact, the IT lead", fix.bytes()); err != nil {
		return err
	}
	req, err := d.mailTo("it-lead@staff.demo.example")
	if err != nil {
		return err
	}
	partial := demoMail{from: "it-lead@staff.demo.example", name: "Lee (IT lead)", subject: "Re: " + req.Subject, inReplyTo: req.MessageID,
		body: "What happened:\nEmail was down for everyone from 09:05 to 10:10.\n\nRoot cause:\nThe mail server's log disk filled up after a debug flag was left on."}
	if err := d.cycle("The IT lead sends the report without a fix and prevention: the two missing sections are asked for", partial.bytes()); err != nil {
		return err
	}
	rest := demoMail{from: "it-lead@staff.demo.example", name: "Lee (IT lead)", subject: "Re: " + req.Subject, inReplyTo: req.MessageID,
		body: "**Resolution**\nOld logs removed, debug flag off, server restarted.\n\n**Lessons learned**\nDisk space is now monitored; debug flags expire after a day."}
	if err := d.cycle("The rest of the report: complete and recorded", rest.bytes()); err != nil {
		return err
	}
	got, err := d.mailTo("it-lead@staff.demo.example")
	if err != nil {
		return err
	}
	accept := demoMail{from: "it-manager@staff.demo.example", name: "Max (IT manager)", subject: "Re: " + got.Subject, inReplyTo: got.MessageID,
		body: "#accept\nThank you."}
	if err := d.cycle("The IT manager accepts the report (#accept)", accept.bytes()); err != nil {
		return err
	}
	v, err := workflow.ShowIncident(d.e.ctx, d.st.Reader, key)
	if err != nil {
		return err
	}
	v.AtTime(d.clock)
	fmt.Fprintf(d.w, "   %s's report (\"helpdeskd show %s\"): %s\n", key, key, v.ReportStatus)
	for _, s := range v.Report.Sections {
		fmt.Fprintf(d.w, "     %s: %s\n", s.Name, firstLine(s.Text))
	}
	fmt.Fprintln(d.w)
	return d.summaryStory()
}

// lastMonday9 is the latest Monday 09:00 in Europe/London at or before
// now, in UTC.
func lastMonday9(now time.Time) time.Time {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return now.UTC().Truncate(time.Minute)
	}
	l := now.In(loc)
	for i := 0; i < 8; i++ {
		d := time.Date(l.Year(), l.Month(), l.Day()-i, 9, 0, 0, 0, loc)
		if d.Weekday() == time.Monday && !d.After(now) {
			return d.UTC()
		}
	}
	return now.UTC().Truncate(time.Minute)
}

// summaryStory: the week passes as the daemon's minute-by-minute tick
// would have it (reminders of the breaches nobody acknowledged), and on
// Monday 07:30 the tick's summaries job mails management the weekly
// summary.
func (d *demo) summaryStory() error {
	loc := d.cfg.Helpdesk.Location
	l := d.clock.In(loc)
	next := time.Date(l.Year(), l.Month(), l.Day()+1, 7, 30, 0, 0, loc)
	for next.Weekday() != time.Monday {
		next = next.AddDate(0, 0, 1)
	}
	if err := d.later(next.Sub(d.clock)-time.Minute, "The rest of the week, as the tick has it: the breaches nobody acknowledged are escalated and reminded"); err != nil {
		return err
	}
	return d.later(time.Minute, "Monday 07:30 the next week: the tick mails management the weekly accountability summary, with its chart and the week's register (XLSX)")
}

// firstLine is the first line of s.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// mailTo finds the last captured mail to addr.
func (d *demo) mailTo(addr string) (*mailparse.Message, error) {
	cs := d.smtp.Captured()
	for i := len(cs) - 1; i >= 0; i-- {
		for _, to := range cs[i].To {
			if strings.EqualFold(to, addr) {
				return mailparse.Parse(cs[i].Data, mailparse.DefaultOptions)
			}
		}
	}
	return nil, fmt.Errorf("demo: no mail to %s was captured", addr)
}

func (d *demo) report(self, cfgPath, sentDir string) error {
	incs, err := d.st.ListIncidents(d.e.ctx, true)
	if err != nil {
		return err
	}
	fmt.Fprintln(d.w, "Incidents now in the register:")
	tw := tabwriter.NewWriter(d.w, 0, 4, 2, ' ', 0)
	for _, inc := range incs {
		fmt.Fprintf(tw, "   %s\t%s\t%d msgs\t%s\t%s\t%s\n", inc.Key, inc.Status, inc.MessageCount, orDash(inc.Assignee), inc.Requester, inc.Subject)
	}
	tw.Flush()
	ps, err := d.st.ListProblems(d.e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(d.w, "\nProblems:")
	for _, p := range ps {
		fmt.Fprintf(tw, "   %s\t%s\t%d incidents\t%s\n", p.Key, p.Status, p.IncidentCount, p.Title)
		if p.RootCause != "" {
			fmt.Fprintf(tw, "   \troot cause: %s\n", p.RootCause)
		}
		if p.Workaround != "" {
			fmt.Fprintf(tw, "   \tworkaround: %s\n", p.Workaround)
		}
	}
	tw.Flush()
	pending, err := d.st.PendingOutbox(d.e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.w, `
%d mails were sent (captured as .eml files in %s); %d still queued.
Nothing answered the out-of-office reply, the stray vacation reply or the monitoring alert:
automatic mail is never answered automatically (RFC 3834).

Look around:
  %[4]s -config %[5]s incidents --all
  %[4]s -config %[5]s show HD-1 --now %[6]s
  %[4]s -config %[5]s show HD-3 --json --now %[6]s
  %[4]s -config %[5]s show PRB-1
  %[4]s -config %[5]s show HD-7 --now %[6]s
  %[4]s -config %[5]s summary --schedule weekly --now %[6]s --preview -o summary.html
`, len(d.smtp.Captured()), sentDir, pending, self, cfgPath, d.clock.Format(time.RFC3339))
	return nil
}

// demoDir refuses a --dir that holds anything: a second run would reuse
// the database of the first and overwrite its captured mail, and tell a
// story that is not what happened. A missing directory is created.
func demoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return exitf(exitUsage, "--dir %s: %v", dir, err)
	}
	if len(entries) > 0 {
		names := make([]string, 0, 3)
		for _, e := range entries[:min(3, len(entries))] {
			names = append(names, e.Name())
		}
		more := ""
		if len(entries) > 3 {
			more = ", …"
		}
		return exitf(exitUsage, "--dir %s is not empty (%s%s): give a new or empty directory, or remove it (rm -r %s) to start again",
			dir, strings.Join(names, ", "), more, dir)
	}
	return nil
}

// selfCommand is how to run this program again from the current
// directory, for the hints the demo prints: "helpdeskd" when that is
// this binary on $PATH, else the binary's absolute path, or, when it
// was built by "go run" (a temporary binary that is gone afterwards),
// "go run" with the package.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "helpdeskd"
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "helpdeskd"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		switch {
		case fileExists(filepath.Join("cmd", "helpdeskd", "main.go")):
			return "go run ./cmd/helpdeskd"
		case fileExists("main.go") && fileExists("demo.go"):
			return "go run ."
		default:
			return "go run github.com/helpdeskd/helpdeskd/cmd/helpdeskd"
		}
	}
	if p, err := exec.LookPath("helpdeskd"); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil && p == exe {
			return "helpdeskd"
		}
	}
	return exe
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
