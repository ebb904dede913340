package mailbox_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/internal/mailsim"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/mailbox"
	"github.com/helpdeskd/helpdeskd/mailer"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/templates"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// dovecot is a real Dovecot IMAP server on loopback for one test, with
// STARTTLS on a self-signed certificate and plaintext login refused
// before TLS.
type dovecot struct {
	port     int
	caFile   string
	tls      *tls.Config
	user     string
	password string
}

// startDovecot starts Dovecot, or skips the test when it is not installed
// or the test does not run as root (Dovecot drops privileges to the mail
// user). With HELPDESKD_REQUIRE_DOVECOT=1 (set by CI) it fails instead.
func startDovecot(t *testing.T) *dovecot {
	t.Helper()
	skip := func(why string) {
		if os.Getenv("HELPDESKD_REQUIRE_DOVECOT") == "1" {
			t.Fatalf("Dovecot required (HELPDESKD_REQUIRE_DOVECOT=1) but %s", why)
		}
		t.Skipf("Dovecot end-to-end test skipped: %s (apt-get install dovecot-imapd, run as root)", why)
	}
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/dovecot"); serr != nil {
			skip("dovecot is not installed")
		}
		bin = "/usr/sbin/dovecot"
	}
	if os.Geteuid() != 0 {
		skip("not running as root")
	}
	if _, err := user.Lookup("dovenull"); err != nil {
		skip("the dovenull user is missing (install the Debian package)")
	}
	dir, err := os.MkdirTemp("", "helpdeskd-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := mailsim.SelfSignedPEM("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	d := &dovecot{port: freePort(t), caFile: filepath.Join(dir, "ca.pem"), user: "support@example.com", password: "dovecot-secret"}
	mailDir := filepath.Join(dir, "mail")
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	var uid, gid int
	fmt.Sscan(nobody.Uid, &uid)
	fmt.Sscan(nobody.Gid, &gid)
	if err := os.Chown(mailDir, uid, gid); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"ca.pem":  certPEM,
		"key.pem": keyPEM,
		"passwd":  fmt.Appendf(nil, "%s:{PLAIN}%s\n", d.user, d.password),
		"dovecot.conf": fmt.Appendf(nil, `base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
info_log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <%[1]s/ca.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:%[1]s/mail/%%u/Maildir
mail_privileged_group =
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[2]d gid=%[3]d home=%[1]s/mail/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[4]d
  }
  inet_listener imaps {
    port = 0
  }
}
namespace inbox {
  inbox = yes
}
`, dir, uid, gid, d.port),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	out, _ := os.Create(filepath.Join(dir, "stderr.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		out.Close()
	})
	logs := func() string {
		a, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
		b, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
		return string(a) + string(b)
	}
	// Wait for the listener; a deadline here bounds a broken start, it
	// does not measure speed.
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("dovecot exited: %v\n%s", err, logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot did not listen on %d:\n%s", d.port, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	d.tls = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	return d
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// client logs in as a person's mail client would: STARTTLS, then LOGIN.
func (d *dovecot) client(t *testing.T) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialStartTLS(fmt.Sprintf("127.0.0.1:%d", d.port), &imapclient.Options{TLSConfig: d.tls})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(d.user, d.password).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func (d *dovecot) appendMail(t *testing.T, raw []byte) {
	t.Helper()
	c := d.client(t)
	defer c.Close()
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// uids lists the UIDs in a folder.
func (d *dovecot) uids(t *testing.T, folder string) []imap.UID {
	t.Helper()
	c := d.client(t)
	defer c.Close()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return data.AllUIDs()
}

// TestDovecotEndToEnd runs intake against a real Dovecot over STARTTLS,
// with a password file and a processed folder (real MOVE and UIDPLUS):
// new mail opens incidents and is acknowledged, a reply and a second copy
// of a message join the right incident, an out-of-office reply gets no
// answer, every message ends in the processed folder exactly once, a
// second run changes nothing, and the daemon's IDLE loop picks up mail
// delivered while it waits.
func TestDovecotEndToEnd(t *testing.T) {
	d := startDovecot(t)
	eachDialect(t, func(t *testing.T, dialect string) {
		// One mailbox per dialect: log in once so Dovecot creates it,
		// then empty it and create the processed folder.
		c := d.client(t)
		for _, f := range []string{"Processed", "INBOX"} {
			c.Create(f, nil).Wait() // exists already in the second dialect
			sel, err := c.Select(f, nil).Wait()
			if err != nil {
				t.Fatal(err)
			}
			if sel.NumMessages == 0 {
				continue
			}
			all := imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}
			if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
				t.Fatalf("clearing %s: %v", f, err)
			}
			if err := c.Expunge().Close(); err != nil {
				t.Fatalf("clearing %s: %v", f, err)
			}
		}
		c.Close()

		ss, err := mailsim.StartSMTP(mailsim.SMTPOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer ss.Close()
		secret := filepath.Join(t.TempDir(), "imap.secret")
		os.WriteFile(secret, []byte(d.password+"\n"), 0o600)
		u := testutil.URL(t, dialect)
		cfg, err := config.Parse("dovecot.toml", fmt.Appendf(nil, `
[helpdesk]
address = %q
[database]
url = %q
[imap]
host = "127.0.0.1"
port = %d
security = "starttls"
tls_ca_file = %q
username = %q
password_file = %q
processed_folder = "Processed"
idle = true
timeout = "10s"
[smtp]
host = "127.0.0.1"
port = %d
security = "none"
`, d.user, u, d.port, d.caFile, d.user, secret, ss.Port))
		if err != nil {
			t.Fatal(err)
		}
		st := testutil.OpenURL(t, u)
		tmpl, err := templates.Load()
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		eng := workflow.NewEngine(st, cfg, tmpl, log)
		ml := mailer.New(st, cfg, log)
		once := func() mailbox.Stats {
			t.Helper()
			stats, err := mailbox.New(cfg, st, eng, log).RunOnce(context.Background())
			if err != nil {
				t.Fatalf("intake: %v", err)
			}
			if _, err := ml.Flush(context.Background()); err != nil {
				t.Fatalf("outbox: %v", err)
			}
			return stats
		}
		count := func(table string) int {
			var n int
			if err := st.DB().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
				t.Fatal(err)
			}
			return n
		}

		first := mail{from: "Alice <alice@example.com>", subject: "VPN drops every hour", body: "It drops.", id: "dv1@example.com"}
		d.appendMail(t, first.bytes())
		d.appendMail(t, mail{from: "bob@example.com", subject: "New starter laptop", body: "For Carol.", id: "dv2@example.com"}.bytes())
		if st := once(); st.Fetched != 2 || st.Outcomes["new_incident"] != 2 {
			t.Fatalf("first run: %+v", st)
		}
		sent := ss.Captured()
		if len(sent) != 2 {
			t.Fatalf("%d acknowledgements, want 2", len(sent))
		}
		var ackToAlice *mailparse.Message
		for _, s := range sent {
			m, err := mailparse.Parse(s.Data, mailparse.DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			if s.To[0] == "alice@example.com" {
				ackToAlice = m
			}
		}
		if ackToAlice == nil {
			t.Fatal("no acknowledgement to alice")
		}

		d.appendMail(t, mail{from: "alice@example.com", subject: "Re: VPN", body: "Again now.", id: "dv3@example.com", inReplyTo: ackToAlice.MessageID}.bytes())
		d.appendMail(t, first.bytes()) // the same message delivered twice
		d.appendMail(t, mail{from: "alice@example.com", subject: "Out of Office: [HD-1] VPN drops every hour", body: "Away.", id: "dv4@example.com",
			inReplyTo: ackToAlice.MessageID, headers: []string{"Auto-Submitted: auto-replied"}}.bytes())
		stats := once()
		if stats.Fetched != 3 || stats.Outcomes["threaded"] != 2 || stats.Outcomes["duplicate"] != 1 {
			t.Fatalf("second run: %+v", stats)
		}
		if n := len(ss.Captured()); n != 2 {
			t.Fatalf("%d mails sent, want still 2: replies and out-of-office get no answer", n)
		}
		if count("incidents") != 2 || count("messages") != 4 {
			t.Fatalf("%d incidents, %d messages; want 2 and 4", count("incidents"), count("messages"))
		}
		if in, done := d.uids(t, "INBOX"), d.uids(t, "Processed"); len(in) != 0 || len(done) != 5 {
			t.Fatalf("after intake: INBOX %v, Processed %v; want empty and 5", in, done)
		}
		if st := once(); st.Fetched != 0 {
			t.Fatalf("a third run fetched %d", st.Fetched)
		}

		// The daemon: IDLE on a real server, mail delivered while it waits.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		ready := make(chan struct{})
		go func() {
			done <- mailbox.New(cfg, st, eng, log).Run(ctx, func() { close(ready) })
		}()
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("daemon intake stopped: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("daemon intake never got ready")
		}
		d.appendMail(t, mail{from: "dan@example.com", subject: "Monitor flickers", body: "Since Monday.", id: "dv5@example.com"}.bytes())
		deadline := time.Now().Add(30 * time.Second) // Dovecot notifies IDLE within about a second
		for count("messages") != 5 {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("mail delivered during IDLE was not taken (messages: %d)", count("messages"))
			}
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("daemon intake: %v", err)
		}
		if inc, err := st.IncidentByKey(context.Background(), "HD-3"); err != nil || inc.Requester != "dan@example.com" {
			t.Fatalf("incident from IDLE delivery: %+v %v", inc, err)
		}
	})
}
