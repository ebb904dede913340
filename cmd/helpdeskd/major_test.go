package main

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
)

// TestMajorReportWithRunOnce drives a major incident's report with
// nothing but "run --once --now T" through a real IMAP server and SMTP
// capture: declared by a priority rule on Monday 09:00 (Berlin), resolved
// by the team at 10:00, the report requested from the problem contact and
// due two business days later (Wednesday 10:00); reminders every 14
// business hours (Tuesday 14:00, Wednesday 18:00); at Wednesday 10:00
// level 1 of the chain, the run killed with SIGKILL while the level-1
// mail is at the SMTP server, run again; level 2 at 14:00, on PostgreSQL
// by two processes at once. Every mail goes out once. The complete report
// by mail ends it.
func TestMajorReportWithRunOnce(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			imapSrv, smtpSrv, u, cfgPath, child := escalationRig(t, d)
			cfg, err := os.ReadFile(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			conf := strings.Replace(string(cfg), `chain = ["it-lead@example.com", "it-manager@example.com", "director@example.com"]`,
				`chain = ["it-lead@example.com", "it-manager@example.com", "director@example.com"]
problem_contact = "alice.admin@example.com"`, 1) + `
[[priority_rule]]
priority = "P1"
keywords = ["down for everyone"]
[major]
priorities = ["P1"]
report_due = "2d"
remind_every = "1d4h"
`
			if err := os.WriteFile(cfgPath, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			runAt := func(at string) {
				t.Helper()
				if out, err := child(at).CombinedOutput(); err != nil && !strings.Contains(string(out), "outbox") {
					t.Fatalf("run --once --now %s: %v\n%s", at, err, out)
				}
			}
			major := func() []string {
				var out []string
				for _, c := range smtpSrv.Captured() {
					s := string(c.Data)
					if i := strings.Index(s, "\r\nSubject: "); i >= 0 {
						subj := s[i+11:]
						subj = subj[:strings.Index(subj, "\r\n\r\n")]
						for j := strings.Index(subj, "\r\n"); j >= 0; j = strings.Index(subj, "\r\n") {
							if j+2 < len(subj) && (subj[j+2] == ' ' || subj[j+2] == '\t') {
								subj = subj[:j] + subj[j+2:] // unfold
							} else {
								subj = subj[:j]
							}
						}
						if strings.Contains(subj, "ajor incident") {
							out = append(out, strings.Join(c.To, ",")+": "+subj[:strings.Index(subj, ":")])
						}
					}
				}
				return out
			}
			auth := "Authentication-Results: mx.example.com; dkim=pass header.d=example.com\r\n" +
				"Received: from out.example.com by mx.example.com; Mon, 30 Nov 2026 10:00:00 +0100\r\n"
			imapSrv.Append("INBOX", []byte("From: Carol <carol@example.com>\r\nTo: support@example.com\r\nSubject: Mail is down for everyone\r\n"+
				"Message-ID: <req1@example.com>\r\n\r\nNobody can send mail.\r\n"))
			runAt("2026-11-30 09:00")
			imapSrv.Append("INBOX", []byte("From: alice.admin@example.com\r\nTo: support@example.com\r\nSubject: Re: [HD-1] Mail is down for everyone\r\n"+
				"Message-ID: <res1@example.com>\r\n"+auth+"\r\n#resolve\r\nThe mail server is back.\r\n"))
			runAt("2026-11-30 10:00")
			want := []string{"it-lead@example.com: [HD-1] Major incident declared",
				"alice.admin@example.com: [HD-1] Major incident report requested, due Wednesday 2 December 10"}
			if got := major(); strings.Join(got, "; ") != strings.Join(want, "; ") {
				t.Fatalf("after the resolution:\n got %q\nwant %q", got, want)
			}
			runAt("2026-12-01 13:59")
			runAt("2026-12-01 14:00")
			runAt("2026-12-01 14:00")
			want = append(want, "alice.admin@example.com: [HD-1] Reminder 1")
			if got := major(); strings.Join(got, "; ") != strings.Join(want, "; ") {
				t.Fatalf("after Tuesday 14:00:\n got %q\nwant %q", got, want)
			}

			// Wednesday 10:00: level 1; the server holds the mail at RCPT
			// until the child is dead.
			killWhileDelivering(t, smtpSrv, child("2026-12-02 10:00"), "it-lead@example.com")
			runAt("2026-12-02 10:00")
			runAt("2026-12-02 10:00")
			want = append(want, "it-lead@example.com: [HD-1] Escalation level 1")
			if got := major(); strings.Join(got, "; ") != strings.Join(want, "; ") {
				t.Fatalf("after the kill at Wednesday 10:00 and two runs:\n got %q\nwant %q", got, want)
			}
			steps := []struct {
				at   string
				want []string
			}{
				{"2026-12-02 10:01", nil},
				{"2026-12-02 14:00", []string{"it-manager@example.com,it-lead@example.com: [HD-1] Escalation level 2"}},
				{"2026-12-02 18:00", []string{"alice.admin@example.com: [HD-1] Reminder 2"}},
			}
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
				if got := major(); strings.Join(got, "; ") != strings.Join(want, "; ") {
					t.Fatalf("after %s:\n got %q\nwant %q", s.at, got, want)
				}
			}
			st := testutil.OpenURL(t, u)
			var queued int
			if err := st.DB().Get(&queued, `SELECT COUNT(*) FROM outbox WHERE kind IN ('report_reminder', 'report_overdue')`); err != nil {
				t.Fatal(err)
			}
			if queued != 4 {
				t.Errorf("%d reminders and escalations queued, want 4", queued)
			}

			// The complete report: recorded, and nothing more is sent.
			imapSrv.Append("INBOX", []byte("From: alice.admin@example.com\r\nTo: support@example.com\r\nSubject: Re: [HD-1] Major incident report\r\n"+
				"Message-ID: <rep1@example.com>\r\n"+auth+"\r\nWhat happened: no mail for 70 minutes.\r\nCause: a full disk.\r\n"+
				"Fix: logs rotated.\r\nPrevention: disk space is monitored.\r\n"))
			runAt("2026-12-02 18:30")
			n := len(major())
			runAt("2026-12-03 10:00")
			runAt("2026-12-04 10:00")
			if got := major(); len(got) != n+0 || !strings.Contains(got[n-1], "Major incident report received") {
				t.Errorf("after the report: %q", got)
			}
			code, out, stderr := helpdeskd(t, "", "-config", cfgPath, "incidents", "--all", "--json", "--now", "2026-12-04T09:00:00Z")
			if code != 0 || !strings.Contains(out, `"major": true`) || !strings.Contains(out, `"report_status": "received"`) {
				t.Errorf("incidents --json: %d %s\n%s", code, stderr, out)
			}
			code, out, stderr = helpdeskd(t, "", "-config", cfgPath, "show", "HD-1", "--now", "2026-12-04T09:00:00Z")
			if code != 0 || !strings.Contains(out, "major incident; report received") || !strings.Contains(out, "a full disk") ||
				!strings.Contains(out, "report_overdue") {
				t.Errorf("show: %d %s\n%s", code, stderr, out)
			}
		})
	}
}
