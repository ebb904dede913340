package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/helpdeskd/helpdeskd/internal/loadgen"
	"github.com/helpdeskd/helpdeskd/internal/mailsim"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
)

// TestKilledMidBatch kills a real "helpdeskd run --once" process with
// SIGKILL while it is in the middle of its intake (after its first batch
// committed, with more being fetched and written), then runs it again.
// Every message must be stored exactly once, every one flagged \Seen,
// every new incident acknowledged, and no acknowledgement produced twice
// (a resend after a crash reuses its Message-ID).
func TestKilledMidBatch(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			const n = 2000
			const user = "support@example.com"
			imapSrv, err := mailsim.StartIMAP(user, "pw", mailsim.IMAPOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer imapSrv.Close()
			smtpSrv, err := mailsim.StartSMTP(mailsim.SMTPOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer smtpSrv.Close()
			for _, m := range loadgen.Messages(n, 42) {
				if err := imapSrv.Append("INBOX", m); err != nil {
					t.Fatal(err)
				}
			}
			u := testutil.URL(t, d)
			cfgPath := filepath.Join(t.TempDir(), "helpdeskd.toml")
			os.WriteFile(cfgPath, fmt.Appendf(nil, `[helpdesk]
address = %q
auto_reply_limit = 1000000
[database]
url = %q
[imap]
host = "127.0.0.1"
port = %d
security = "none"
username = %q
password = "pw"
[smtp]
host = "127.0.0.1"
port = %d
security = "none"
`, user, u, imapSrv.Port, user, smtpSrv.Port), 0o600)
			if code, _, stderr := helpdeskd(t, "", "-config", cfgPath, "migrate"); code != 0 {
				t.Fatalf("migrate: %d %s", code, stderr)
			}
			st := testutil.OpenURL(t, u)
			count := func(q string) int {
				var c int
				if err := st.DB().Get(&c, q); err != nil {
					t.Fatal(err)
				}
				return c
			}

			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(self, "-config", cfgPath, "-log-level", "warn", "run", "--once")
			cmd.Env = append(os.Environ(), "HELPDESKD_TEST_AS_MAIN=1")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			// Kill as soon as the first batch is committed. The deadline
			// bounds a hung child; it is not a speed check.
			deadline := time.Now().Add(2 * time.Minute)
			for count(`SELECT COUNT(*) FROM messages`) == 0 {
				select {
				case err := <-exited:
					t.Fatalf("child exited before its first commit: %v", err)
				default:
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("child committed nothing")
				}
				time.Sleep(2 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			before := count(`SELECT COUNT(*) FROM messages`)
			if before >= n {
				t.Fatalf("the child finished (%d messages) before it was killed; the test proves nothing", before)
			}
			t.Logf("killed after %d of %d messages were committed", before, n)

			if code, _, stderr := helpdeskd(t, "", "-config", cfgPath, "-log-level", "warn", "run", "--once"); code != 0 {
				t.Fatalf("run after the kill: %d %s", code, stderr)
			}
			if got := count(`SELECT COUNT(*) FROM messages WHERE direction = 'in'`); got != n {
				t.Errorf("%d messages stored, want %d", got, n)
			}
			if got := count(`SELECT COUNT(DISTINCT message_id) FROM messages`); got != n {
				t.Errorf("%d distinct Message-IDs stored, want %d", got, n)
			}
			if got := count(`SELECT COUNT(*) FROM intake_uids WHERE NOT done`); got != 0 {
				t.Errorf("%d UIDs still waiting for their flag", got)
			}
			incidents := count(`SELECT COUNT(*) FROM incidents`)
			if incidents != n/2 {
				t.Errorf("%d incidents, want %d (every other message is a reply)", incidents, n/2)
			}
			if got := count(`SELECT COUNT(*) FROM outbox WHERE status = 'sent'`); got != incidents {
				t.Errorf("%d acknowledgements sent, want one per incident (%d)", got, incidents)
			}
			ids := map[string]bool{}
			for _, c := range smtpSrv.Captured() {
				m, err := mailparse.Parse(c.Data, mailparse.DefaultOptions)
				if err != nil {
					t.Fatal(err)
				}
				ids[m.MessageID] = true
			}
			if len(ids) != incidents {
				t.Errorf("%d distinct acknowledgements delivered, want %d", len(ids), incidents)
			}

			c, err := imapclient.DialInsecure(imapSrv.Addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Login(user, "pw").Wait(); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
				t.Fatal(err)
			}
			unseen, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
			if err != nil {
				t.Fatal(err)
			}
			if left := unseen.AllUIDs(); len(left) != 0 {
				t.Errorf("%d messages left unflagged in INBOX", len(left))
			}

		})
	}
}

// TestSignalMidFlush sends a real SIGTERM, or a real SIGKILL, to a
// "helpdeskd run --once" child (every other SIGTERM: the daemon, "run")
// while it delivers the outbox (at a different mail each round), then
// runs it again at once, and counts what the SMTP capture received.
//
// After SIGTERM (a clean stop) no row is left "sending", every mail the
// server accepted is marked sent, and after the restart every mail was
// delivered exactly once. After SIGKILL the dead process's claims are
// released at once (no waiting for the 10-minute lease), every mail is
// delivered, and only mails the server accepted in the child's last
// moment, before it could record them, are delivered twice (with the same
// Message-ID).
func TestSignalMidFlush(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			const rounds, perRound = 6, 60
			smtpSrv, err := mailsim.StartSMTP(mailsim.SMTPOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer smtpSrv.Close()
			u := testutil.URL(t, d)
			cfgPath := filepath.Join(t.TempDir(), "helpdeskd.toml")
			os.WriteFile(cfgPath, fmt.Appendf(nil, `[helpdesk]
address = "support@example.com"
[database]
url = %q
[smtp]
host = "127.0.0.1"
port = %d
security = "none"
connections = 2
`, u, smtpSrv.Port), 0o600)
			if code, _, stderr := helpdeskd(t, "", "-config", cfgPath, "migrate"); code != 0 {
				t.Fatalf("migrate: %d %s", code, stderr)
			}
			st := testutil.OpenURL(t, u)
			ctx := context.Background()
			count := func(q string, args ...any) int {
				var c int
				if err := st.DB().Get(&c, st.DB().Rebind(q), args...); err != nil {
					t.Fatal(err)
				}
				return c
			}
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			delivered := map[string]int{}
			seen := 0
			for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
				var twice, released, worst int
				for r := range rounds {
					prefix := fmt.Sprintf("%s.%d", sig, r)
					daemon := sig == syscall.SIGTERM && r%2 == 1 // stop the daemon ("run") instead
					if daemon {
						prefix += ".daemon"
					}
					now := time.Now().UTC()
					for i := range perRound {
						o := &store.Outbox{Kind: "ack", MessageID: fmt.Sprintf("%s.%d@helpdesk.example.com", prefix, i),
							FromAddr: "support@example.com", ToAddrs: fmt.Sprintf("user%d@example.com", i),
							Subject: "Mail " + prefix, TextBody: "Hello.", RcptKey: fmt.Sprintf("user%d@example.com", i),
							NextAttemptAt: now, CreatedAt: now}
						if err := st.EnqueueAll(ctx, []*store.Outbox{o}); err != nil {
							t.Fatal(err)
						}
					}
					args := []string{"-config", cfgPath, "-log-level", "warn", "run", "--once"}
					if daemon {
						args = args[:len(args)-1]
					}
					cmd := exec.Command(self, args...)
					cmd.Env = append(os.Environ(), "HELPDESKD_TEST_AS_MAIN=1")
					var stderr strings.Builder
					cmd.Stderr = &stderr
					// The signal goes out when the server is asked to take
					// the k-th mail of the round; each mail takes a few
					// milliseconds (more once the signal is out, so that a
					// child short of CPU notices it before the end), so the
					// flush is well under way.
					k := int32(3 + r*perRound/rounds)
					var rcpts atomic.Int32
					var child atomic.Pointer[os.Process]
					smtpSrv.Fail(func(string) *smtp.SMTPError {
						n := rcpts.Add(1)
						if n == k {
							for child.Load() == nil { // Start has not returned yet
								time.Sleep(time.Millisecond)
							}
							child.Load().Signal(sig)
						}
						if n >= k {
							time.Sleep(20 * time.Millisecond)
						} else {
							time.Sleep(3 * time.Millisecond)
						}
						return nil
					})
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					child.Store(cmd.Process)
					err := cmd.Wait()
					smtpSrv.Fail(nil)
					if int(rcpts.Load()) < int(k) {
						t.Fatalf("round %s: the child finished before the signal (%v); the test proves nothing", prefix, err)
					}
					if sig == syscall.SIGKILL && cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
						t.Fatalf("round %s: the child was not killed: %v", prefix, err)
					}
					if daemon && err != nil {
						t.Errorf("round %s: the daemon's clean stop: %v\n%s", prefix, err, stderr.String())
					}
					captured := smtpSrv.Captured()
					accepted := len(captured) - seen
					sending := count(`SELECT COUNT(*) FROM outbox WHERE status = 'sending'`)
					if accepted == 0 || accepted >= perRound {
						t.Fatalf("round %s: the server accepted %d of %d before the stop; the test proves nothing", prefix, accepted, perRound)
					}
					if sig == syscall.SIGTERM {
						if sending != 0 {
							t.Errorf("round %s: %d rows left sending after a clean stop\n%s", prefix, sending, stderr.String())
						}
						if sent := count(`SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND message_id LIKE ?`, prefix+".%"); sent != accepted {
							t.Errorf("round %s: %d rows marked sent, the server accepted %d", prefix, sent, accepted)
						}
					}
					released += sending

					// The restart: at once, on the real clock.
					if code, _, stderr := helpdeskd(t, "", "-config", cfgPath, "-log-level", "warn", "run", "--once"); code != 0 {
						t.Fatalf("round %s: run after the signal: %d %s", prefix, code, stderr)
					}
					if left := count(`SELECT COUNT(*) FROM outbox WHERE status <> 'sent'`); left != 0 {
						t.Fatalf("round %s: %d rows not sent after the restart", prefix, left)
					}
					captured = smtpSrv.Captured()
					for _, c := range captured[seen:] {
						m, err := mailparse.Parse(c.Data, mailparse.DefaultOptions)
						if err != nil {
							t.Fatal(err)
						}
						delivered[m.MessageID]++
					}
					seen = len(captured)
					again := 0
					for i := range perRound {
						id := fmt.Sprintf("%s.%d@helpdesk.example.com", prefix, i)
						switch n := delivered[id]; {
						case n == 0:
							t.Errorf("round %s: %s never delivered", prefix, id)
						case n > 1 && sig == syscall.SIGTERM:
							t.Errorf("round %s: %s delivered %d times after a clean stop", prefix, id, n)
						case n > 1:
							again += n - 1
						}
					}
					twice += again
					worst = max(worst, again)
				}
				t.Logf("%s: %d rounds of %d mails; %d claims of the stopped child released at the restart; %d mails delivered twice (at most %d in a round)",
					sig, rounds, perRound, released, twice, worst)
				// A mail is delivered twice only if the child died between
				// the server's acceptance and the commit of its mark: at
				// most the mailer's window of mails in flight or not yet
				// marked (4 × 2 connections), never the rest of its claims.
				if worst > 8 {
					t.Errorf("%s: %d mails delivered twice in one round; more than the mails of the last moment", sig, worst)
				}
			}
		})
	}
}

// TestRetryFollowsTheProcessClock: an acknowledgement refused with 451
// waits for its back-off, and "run --once --now T+2h" delivers it: the
// outbox reads the clock of the process, as the rest of the run does.
func TestRetryFollowsTheProcessClock(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			smtpSrv, err := mailsim.StartSMTP(mailsim.SMTPOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer smtpSrv.Close()
			u := testutil.URL(t, d)
			cfgPath := filepath.Join(t.TempDir(), "helpdeskd.toml")
			os.WriteFile(cfgPath, fmt.Appendf(nil, `[helpdesk]
address = "support@example.com"
[database]
url = %q
[smtp]
host = "127.0.0.1"
port = %d
security = "none"
`, u, smtpSrv.Port), 0o600)
			msg := "From: Ann <ann@example.com>\r\nTo: support@example.com\r\nSubject: Printer\r\nMessage-ID: <p1@example.com>\r\n\r\nbroken\r\n"
			if code, _, stderr := helpdeskd(t, msg, "-config", cfgPath, "ingest"); code != 0 {
				t.Fatalf("ingest: %d %s", code, stderr)
			}
			t0 := time.Now().UTC().Truncate(time.Second).Add(time.Second) // after the ingest
			at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
			smtpSrv.Fail(func(string) *smtp.SMTPError {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
			})
			helpdeskd(t, "", "-config", cfgPath, "-log-level", "error", "run", "--once", "--now", at(0))
			smtpSrv.Fail(nil)
			st := testutil.OpenURL(t, u)
			var o store.Outbox
			if err := st.DB().Get(&o, `SELECT * FROM outbox`); err != nil {
				t.Fatal(err)
			}
			if o.Status != store.OutboxQueued || !strings.Contains(o.LastError, "451") {
				t.Fatalf("after the 451: status %s, error %q", o.Status, o.LastError)
			}
			if due := o.NextAttemptAt.Sub(t0); due < time.Minute || due > 2*time.Minute {
				t.Errorf("retry due %v after --now, want the first back-off (1-1.1 minutes)", due)
			}
			// Within the back-off: not yet.
			helpdeskd(t, "", "-config", cfgPath, "-log-level", "error", "run", "--once", "--now", at(30*time.Second))
			if n := len(smtpSrv.Captured()); n != 0 {
				t.Fatalf("%d mails sent within the back-off", n)
			}
			if code, _, stderr := helpdeskd(t, "", "-config", cfgPath, "-log-level", "error", "run", "--once", "--now", at(2*time.Hour)); code != 0 {
				t.Fatalf("run --once --now T+2h: %d %s", code, stderr)
			}
			if n := len(smtpSrv.Captured()); n != 1 {
				t.Fatalf("%d mails delivered at T+2h, want the acknowledgement", n)
			}
			if err := st.DB().Get(&o, `SELECT * FROM outbox`); err != nil {
				t.Fatal(err)
			}
			if o.Status != store.OutboxSent || o.SentAt == nil || !o.SentAt.Equal(t0.Add(2*time.Hour)) {
				t.Errorf("after T+2h: status %s, sent_at %v; want sent at %v", o.Status, o.SentAt, t0.Add(2*time.Hour))
			}
		})
	}
}
