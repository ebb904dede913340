package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// check-config shows the database URL without a password in the
// authority or the query, and a URL that does not parse not at all.
func TestCheckConfigHidesDatabaseSecrets(t *testing.T) {
	cfg := writeConfig(t, "postgres://db.example/hd?user=hd&password=pw9XQ&sslmode=disable")
	code, out, stderr := helpdeskd(t, "", "-config", cfg, "check-config")
	if code != 0 || strings.Contains(out+stderr, "9XQ") || !strings.Contains(out, "user=hd") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	for _, u := range []string{"postgres://hd:pw9XQ@db example/hd", "postgres://hd:pw%zz9XQ@db/hd"} {
		code, out, stderr := helpdeskd(t, "", "-config", writeConfig(t, u), "check-config")
		if code != 2 || strings.Contains(out+stderr, "9XQ") || !strings.Contains(stderr, "[database] url") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", u, code, out, stderr)
		}
	}
}

// migrate and an MTA-pipe ingest that create the SQLite database create
// it (and its -wal, -shm) readable by the owner only under umask 022.
func TestCommandsCreatePrivateDatabase(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	for _, c := range [][]string{{"migrate"}, {"ingest"}} {
		path := filepath.Join(t.TempDir(), "helpdeskd.db")
		cfg := writeConfig(t, "sqlite:"+path)
		if code, out, stderr := helpdeskd(t, "From: a@example.org\r\nSubject: s\r\n\r\nx\r\n", append([]string{"-config", cfg}, c...)...); code != 0 {
			t.Fatalf("%s: exit %d %s %s", c[0], code, out, stderr)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if os.IsNotExist(err) && p != path {
				continue // SQLite removes them when the last connection closes
			}
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s mode %v, want 0600", c[0], filepath.Base(p), fi.Mode().Perm())
			}
		}
	}
}
