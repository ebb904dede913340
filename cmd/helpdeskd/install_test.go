package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/mailsim"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestCheckConfigConnect: check-config --connect logs in to the IMAP and
// SMTP servers of the configuration and says which step failed: a good
// login, a wrong password on each, a port where nothing listens.
func TestCheckConfigConnect(t *testing.T) {
	imapSrv, err := mailsim.StartIMAP("support@example.com", "imap-pass", mailsim.IMAPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer imapSrv.Close()
	// go-mail sends a password only over TLS: STARTTLS with a CA file.
	dir := t.TempDir()
	certPEM, keyPEM, err := mailsim.SelfSignedPEM("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	smtpSrv, err := mailsim.StartSMTP(mailsim.SMTPOptions{Username: "support@example.com", Password: "smtp-pass", TLS: true, Certificate: &cert})
	if err != nil {
		t.Fatal(err)
	}
	defer smtpSrv.Close()
	write := func(name string, imapPort int, imapPass string, smtpPort int, smtpPass string) string {
		p := filepath.Join(dir, name)
		text := fmt.Sprintf(`[helpdesk]
address = "support@example.com"
[database]
url = "sqlite:%s/h.db"
[imap]
host = "127.0.0.1"
port = %d
security = "none"
username = "support@example.com"
password = %q
timeout = "5s"
[smtp]
host = "127.0.0.1"
port = %d
security = "starttls"
tls_ca_file = %q
username = "support@example.com"
password = %q
timeout = "5s"
`, dir, imapPort, imapPass, smtpPort, caFile, smtpPass)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	good := write("good.toml", imapSrv.Port, "imap-pass", smtpSrv.Port, "smtp-pass")
	code, out, stderr := helpdeskd(t, "", "-config", good, "check-config", "--connect")
	if code != 0 || !strings.Contains(out, "imap: ok (logged in as support@example.com at 127.0.0.1:") ||
		!strings.Contains(out, "smtp: ok (logged in as support@example.com at 127.0.0.1:") {
		t.Fatalf("good logins: exit %d\n%s%s", code, out, stderr)
	}

	wrong := write("wrong.toml", imapSrv.Port, "nope", smtpSrv.Port, "nope")
	code, out, stderr = helpdeskd(t, "", "-config", wrong, "check-config", "--connect")
	if code != exitFailure || !strings.Contains(out, "imap: FAILED: imap: login as support@example.com:") ||
		!strings.Contains(out, fmt.Sprintf("smtp: FAILED: smtp: log in to 127.0.0.1:%d as support@example.com:", smtpSrv.Port)) ||
		!strings.Contains(out, "535") || !strings.Contains(stderr, "cannot connect: imap, smtp") {
		t.Fatalf("wrong passwords: exit %d\n%s%s", code, out, stderr)
	}

	ip, sp := closedPort(t), closedPort(t)
	closed := write("closed.toml", ip, "imap-pass", sp, "smtp-pass")
	code, out, stderr = helpdeskd(t, "", "-config", closed, "check-config", "--connect")
	if code != exitFailure || !strings.Contains(out, fmt.Sprintf("imap: FAILED: imap: connect to 127.0.0.1:%d:", ip)) ||
		!strings.Contains(out, fmt.Sprintf("smtp: FAILED: smtp: connect to 127.0.0.1:%d:", sp)) ||
		!strings.Contains(out, "connection refused") {
		t.Fatalf("closed ports: exit %d\n%s%s", code, out, stderr)
	}

	// Without --connect nothing is dialled.
	if code, out, _ := helpdeskd(t, "", "-config", closed, "check-config"); code != 0 || strings.Contains(out, "FAILED") {
		t.Fatalf("check-config without --connect: exit %d %s", code, out)
	}
}

// TestMigrateNamesTheDatabaseFile: migrate before the state directory
// exists, or as a user who cannot write it, says which file and which
// directory (SQLite itself says only "unable to open database file").
func TestMigrateNamesTheDatabaseFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "missing", "helpdeskd.db")
	cfg := writeConfig(t, "sqlite:"+db)
	code, _, stderr := helpdeskd(t, "", "-config", cfg, "migrate")
	if code == 0 || !strings.Contains(stderr, "sqlite database "+db+": its directory: stat "+filepath.Dir(db)+": no such file or directory") {
		t.Fatalf("migrate without the directory: exit %d, stderr %q", code, stderr)
	}
	if os.Getuid() == 0 {
		t.Log("running as root: the unwritable-directory case needs another user (systemd/install_test.sh covers it)")
		return
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	db = filepath.Join(ro, "helpdeskd.db")
	cfg = writeConfig(t, "sqlite:"+db)
	code, _, stderr = helpdeskd(t, "", "-config", cfg, "migrate")
	if code == 0 || !strings.Contains(stderr, "sqlite database "+db+": directory "+ro+" is not writable") {
		t.Fatalf("migrate in a read-only directory: exit %d, stderr %q", code, stderr)
	}
}

// TestDemoDir: demo --dir with a relative directory writes a
// configuration whose database path is absolute, prints hints that name
// it and a command that runs this program from here, and a second run on
// the same directory is refused, naming what is in it.
func TestDemoDir(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	code, out, stderr := helpdeskd(t, "", "demo", "--dir", "run1")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, stderr)
	}
	abs := filepath.Join(base, "run1")
	cfg, err := os.ReadFile(filepath.Join(abs, "helpdeskd.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `url = "sqlite:` + filepath.Join(abs, "helpdeskd.db") + `"`; !strings.Contains(string(cfg), want) {
		t.Fatalf("configuration lacks %s:\n%s", want, cfg)
	}
	// The test binary is built by "go test" like "go run" builds one:
	// the hint says "go run" with a package that exists from here.
	self := selfCommand()
	if !strings.HasPrefix(self, "go run ") {
		t.Fatalf("selfCommand under go-build = %q, want go run …", self)
	}
	if want := self + " -config " + filepath.Join(abs, "helpdeskd.toml") + " show HD-1"; !strings.Contains(out, want) {
		t.Fatalf("demo hints lack %q:\n%s", want, out)
	}
	// From another directory, with the printed configuration path.
	t.Chdir(t.TempDir())
	if code, out, stderr := helpdeskd(t, "", "-config", filepath.Join(abs, "helpdeskd.toml"), "show", "HD-1"); code != 0 || !strings.Contains(out, "HD-1") {
		t.Fatalf("show HD-1 from elsewhere: exit %d\n%s%s", code, out, stderr)
	}
	code, _, stderr = helpdeskd(t, "", "demo", "--dir", abs)
	if code != exitUsage || !strings.Contains(stderr, "--dir "+abs+" is not empty (helpdeskd.db") {
		t.Fatalf("second demo on the same directory: exit %d, stderr %q", code, stderr)
	}
}

// TestReprocessEmptyMessage: "quarantine reprocess" of an empty message
// keeps it in quarantine on both stores (SQLite refused the empty bytes
// it had read back: "NOT NULL constraint failed: quarantine.raw").
func TestReprocessEmptyMessage(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			cfg := writeConfig(t, testutil.URL(t, d))
			empty := filepath.Join(t.TempDir(), "empty.eml")
			if err := os.WriteFile(empty, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if code, out, stderr := helpdeskd(t, "", "-config", cfg, "ingest", empty); code != exitDataErr {
				t.Fatalf("ingest empty: exit %d\n%s%s", code, out, stderr)
			}
			code, out, stderr := helpdeskd(t, "", "-config", cfg, "quarantine", "reprocess", "1")
			if code != 0 || !strings.Contains(out, "quarantined") {
				t.Fatalf("reprocess empty: exit %d\n%s%s", code, out, stderr)
			}
		})
	}
}
