package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/helpdeskd/helpdeskd/internal/mailsim"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
)

// escalationConfig is a Berlin office with a 4-hour response target and
// a three-level chain: level 1 at the breach, 2 four business hours
// later, 3 a business day later, reminders daily.
func escalationConfig(dbURL string, imapPort, smtpPort int) []byte {
	return fmt.Appendf(nil, `[helpdesk]
address = "support@example.com"
timezone = "Europe/Berlin"
[database]
url = %q
[imap]
host = "127.0.0.1"
port = %d
security = "none"
username = "support@example.com"
password = "secret"
idle = false
[smtp]
host = "127.0.0.1"
port = %d
security = "none"
[commands]
trusted_authserv_ids = ["mx.example.com"]
[[calendar]]
name = "office"
timezone = "Europe/Berlin"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["08:00-18:00"]
[[sla]]
name = "standard"
targets = [{ priority = "P3", response = "4h", resolution = "5d" }]
[[team]]
name = "it"
members = ["alice.admin@example.com"]
chain = ["it-lead@example.com", "it-manager@example.com", "director@example.com"]
[routing]
default_assignee = "it"
[escalation]
warn_at = 0.8
levels = ["0m", "4h", "1d"]
repeat = "1d"
`, dbURL, imapPort, smtpPort)
}

// escalationRig starts an IMAP server and an SMTP capture, writes
// escalationConfig for them and the dialect's database, and returns them
// with the database URL, the configuration's path and child, which makes
// a "run --once --now" process for a Berlin wall-clock time
// ("2026-11-30 09:00").
func escalationRig(t *testing.T, d string) (*mailsim.IMAPServer, *mailsim.SMTPServer, string, string, func(at string) *exec.Cmd) {
	t.Helper()
	imapSrv, err := mailsim.StartIMAP("support@example.com", "secret", mailsim.IMAPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	smtpSrv, err := mailsim.StartSMTP(mailsim.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtpSrv.Close() })
	u := testutil.URL(t, d)
	cfgPath := filepath.Join(t.TempDir(), "helpdeskd.toml")
	if err := os.WriteFile(cfgPath, escalationConfig(u, imapSrv.Port, smtpSrv.Port), 0o600); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	child := func(at string) *exec.Cmd {
		tm, err := time.ParseInLocation("2006-01-02 15:04", at, loc)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(self, "-config", cfgPath, "-log-level", "warn", "run", "--once", "--now", tm.UTC().Format(time.RFC3339))
		cmd.Env = append(os.Environ(), "HELPDESKD_TEST_AS_MAIN=1")
		return cmd
	}
	return imapSrv, smtpSrv, u, cfgPath, child
}

// TestEscalationWithRunOnce drives a whole escalation with nothing but
// "run --once --now T", through a real IMAP server and SMTP capture: the
// request at Monday 09:00 (Berlin); a warning at 12:15; level 1 at 13:00;
// level 2 at 17:00; level 3 on Tuesday 13:00; a reminder on Wednesday
// 13:00; each run repeated, and on PostgreSQL two processes at once, and
// never a mail twice. An escalation queued while the SMTP server is down
// (the process ends before it is sent) goes out once on the next run.
// The manager's "#ack" by mail stops the reminders.
func TestEscalationWithRunOnce(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			imapSrv, smtpSrv, _, cfgPath, child := escalationRig(t, d)
			runAt := func(at string) {
				t.Helper()
				if out, err := child(at).CombinedOutput(); err != nil && !strings.Contains(string(out), "outbox") {
					t.Fatalf("run --once --now %s: %v\n%s", at, err, out)
				}
			}
			escalations := func() []string {
				var out []string
				for _, c := range smtpSrv.Captured() {
					s := string(c.Data)
					if i := strings.Index(s, "\r\nSubject: "); i >= 0 {
						subj := s[i+11:]
						subj = subj[:strings.Index(subj, "\r\n")]
						if strings.Contains(subj, "SLA warning") || strings.Contains(subj, "Escalation level") || strings.Contains(subj, "Reminder") {
							out = append(out, strings.Join(c.To, ",")+": "+subj[:strings.Index(subj, ":")])
						}
					}
				}
				return out
			}
			imapSrv.Append("INBOX", []byte("From: Carol <carol@example.com>\r\nTo: support@example.com\r\nSubject: Payroll share is gone\r\n"+
				"Message-ID: <req1@example.com>\r\n\r\nThe payroll share disappeared.\r\n"))
			runAt("2026-11-30 09:00")
			steps := []struct {
				at   string
				want []string
			}{
				{"2026-11-30 12:00", nil},
				{"2026-11-30 12:15", []string{"alice.admin@example.com: [HD-1] SLA warning"}},
				{"2026-11-30 13:00", []string{"it-lead@example.com: [HD-1] Escalation level 1"}},
				{"2026-11-30 17:00", []string{"it-manager@example.com,it-lead@example.com: [HD-1] Escalation level 2"}},
				{"2026-12-01 13:00", []string{"director@example.com,it-manager@example.com: [HD-1] Escalation level 3"}},
			}
			var want []string
			for _, s := range steps {
				runAt(s.at)
				if d == "postgres" {
					var wg sync.WaitGroup
					for range 2 {
						wg.Add(1)
						go func() { defer wg.Done(); runAt(s.at) }()
					}
					wg.Wait()
				} else {
					runAt(s.at)
				}
				want = append(want, s.want...)
				if got := escalations(); strings.Join(got, "; ") != strings.Join(want, "; ") {
					t.Fatalf("after %s:\n got %q\nwant %q", s.at, got, want)
				}
			}
			// The reminder falls due while the SMTP server refuses
			// everything: queued, not sent; the next run sends it once.
			smtpSrv.Fail(func(string) *smtp.SMTPError {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
			})
			runAt("2026-12-02 13:00")
			smtpSrv.Fail(nil)
			if got := escalations(); len(got) != len(want) {
				t.Fatalf("sent while the server failed: %q", got[len(want):])
			}
			runAt("2026-12-02 14:00")
			runAt("2026-12-02 14:00")
			want = append(want, "director@example.com,it-manager@example.com: [HD-1] Reminder 1")
			if got := escalations(); strings.Join(got, "; ") != strings.Join(want, "; ") {
				t.Fatalf("after the server came back:\n got %q\nwant %q", got, want)
			}
			// The manager acknowledges by mail: no more reminders.
			imapSrv.Append("INBOX", []byte("From: it-manager@example.com\r\nTo: support@example.com\r\nSubject: Re: [HD-1] Escalation\r\n"+
				"Message-ID: <ack1@example.com>\r\nAuthentication-Results: mx.example.com; dkim=pass header.d=example.com\r\n"+
				"Received: from out.example.com by mx.example.com; Wed, 2 Dec 2026 15:00:00 +0100\r\n\r\n#ack\r\nOn it.\r\n"))
			runAt("2026-12-02 15:00")
			runAt("2026-12-03 13:00") // the second reminder's time
			runAt("2026-12-03 17:59")
			if got := escalations(); len(got) != len(want) {
				t.Fatalf("mail after #ack: %q", got[len(want):])
			}
			// "show --now" tells the clocks as of the run's time, not the
			// host's: the response breached and acknowledged, the
			// resolution (5 business days, due Monday 09:00) with 11 h 1
			// min of business time left on Thursday 17:59.
			code, out, stderr := helpdeskd(t, "", "-config", cfgPath, "show", "HD-1", "--now", "2026-12-03T16:59:00Z")
			if code != 0 || !strings.Contains(out, "breach acknowledged by it-manager@example.com") || !strings.Contains(out, "(11 h 1 min remaining)") {
				t.Errorf("show --now: %d %s\n%s", code, stderr, out)
			}
		})
	}
}

// TestEscalationSurvivesSIGKILL kills a "run --once" child with SIGKILL
// while it is handing the level-1 escalation to the SMTP server (the
// level is committed, the mail not yet accepted), then runs it again at
// the same instant: the escalation mail goes out exactly once, the level
// is recorded once, and the chain is not escalated again.
func TestEscalationSurvivesSIGKILL(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			imapSrv, smtpSrv, u, _, child := escalationRig(t, d)
			imapSrv.Append("INBOX", []byte("From: Carol <carol@example.com>\r\nTo: support@example.com\r\nSubject: Payroll share is gone\r\n"+
				"Message-ID: <req1@example.com>\r\n\r\nThe payroll share disappeared.\r\n"))
			if out, err := child("2026-11-30 09:00").CombinedOutput(); err != nil {
				t.Fatalf("first run: %v\n%s", err, out)
			}

			// The server holds the level-1 mail at RCPT until the child
			// is dead.
			killWhileDelivering(t, smtpSrv, child("2026-11-30 13:00"), "it-lead@example.com")

			st := testutil.OpenURL(t, u)
			var level int
			if err := st.DB().Get(&level, `SELECT escalation_level FROM incidents WHERE key = 'HD-1'`); err != nil {
				t.Fatal(err)
			}
			if level != 1 {
				t.Fatalf("escalation level %d after the kill, want 1 (committed before the send)", level)
			}
			for range 2 {
				if out, err := child("2026-11-30 13:00").CombinedOutput(); err != nil {
					t.Fatalf("run after the kill: %v\n%s", err, out)
				}
			}
			var toLead []string
			for _, c := range smtpSrv.Captured() {
				if strings.Contains(string(c.Data), "Escalation level") {
					toLead = append(toLead, strings.Join(c.To, ","))
				}
			}
			if strings.Join(toLead, "; ") != "it-lead@example.com" {
				t.Errorf("escalation mails delivered: %q, want one to it-lead@example.com", toLead)
			}
			var queued int
			if err := st.DB().Get(&queued, `SELECT COUNT(*) FROM outbox WHERE subject LIKE '%Escalation level%'`); err != nil {
				t.Fatal(err)
			}
			if queued != 1 {
				t.Errorf("%d escalation mails queued, want 1", queued)
			}
		})
	}
}

// TestConfigChangeAppliesAtNextRun: the response target is changed from
// 4h to 1h in the file while no daemon runs; the next "run --once"
// derives the open incident's clocks again under it, so level 1 goes out
// at 10:00, not at 13:00.
func TestConfigChangeAppliesAtNextRun(t *testing.T) {
	imapSrv, smtpSrv, u, cfgPath, child := escalationRig(t, "sqlite")
	imapSrv.Append("INBOX", []byte("From: Carol <carol@example.com>\r\nTo: support@example.com\r\nSubject: Payroll share is gone\r\n"+
		"Message-ID: <req1@example.com>\r\n\r\nThe payroll share disappeared.\r\n"))
	if out, err := child("2026-11-30 09:00").CombinedOutput(); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(cfgPath)
	changed := strings.Replace(string(b), `response = "4h"`, `response = "1h"`, 1)
	if changed == string(b) {
		t.Fatal("the rig's configuration has no 4h response target")
	}
	os.WriteFile(cfgPath, []byte(changed), 0o600)
	if out, err := child("2026-11-30 10:30").CombinedOutput(); err != nil {
		t.Fatalf("run after the change: %v\n%s", err, out)
	}
	var lead int
	for _, c := range smtpSrv.Captured() {
		if strings.Contains(string(c.Data), "Escalation level 1") && strings.Join(c.To, ",") == "it-lead@example.com" {
			lead++
		}
	}
	if lead != 1 {
		t.Errorf("%d level-1 mails at 10:30 after the target became 1h, want 1", lead)
	}
	st := testutil.OpenURL(t, u)
	var due time.Time
	st.DB().Get(&due, `SELECT response_due FROM incidents WHERE key = 'HD-1'`)
	if want := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC); !due.Equal(want) {
		t.Errorf("response due %s, want %s (09:00 Berlin + 1h)", due, want)
	}
}

// killWhileDelivering starts cmd, lets the SMTP server hold the mail to
// rcpt at RCPT until the process is dead, and kills it there with
// SIGKILL: what it queued is committed, that mail not yet accepted.
func killWhileDelivering(t *testing.T, smtpSrv *mailsim.SMTPServer, cmd *exec.Cmd, rcpt string) {
	t.Helper()
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	smtpSrv.Fail(func(r string) *smtp.SMTPError {
		if r == rcpt {
			once.Do(func() { close(reached) })
			<-release
		}
		return nil
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-reached:
	case err := <-exited:
		t.Fatalf("the child ended before sending the mail to %s: %v", rcpt, err)
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("the mail to %s never reached the SMTP server", rcpt)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	close(release)
	smtpSrv.Fail(nil)
}
