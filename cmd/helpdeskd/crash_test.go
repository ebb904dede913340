package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/helpdeskd/helpdeskd/internal/loadgen"
	"github.com/helpdeskd/helpdeskd/internal/mailsim"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/mailparse"
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
