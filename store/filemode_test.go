package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/helpdeskd/helpdeskd/store"
)

// A new SQLite database, its -wal and -shm are readable by the owner
// only, under the usual umask 022; an existing file keeps its mode.
func TestNewSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "helpdeskd.db")
	st, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertMessages(ctx, []*store.Message{msg("fm1@x", "fm1")}, [][]byte{[]byte("From: a@x\r\n\r\nx")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}

	shared := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	st2, err := store.Open(ctx, "sqlite:"+shared)
	if err != nil {
		t.Fatal(err)
	}
	st2.Close()
	if fi, _ := os.Stat(shared); fi.Mode().Perm() != 0o640 {
		t.Errorf("existing file: mode %v, want 0640 kept", fi.Mode().Perm())
	}
}

// A postgres URL that does not parse is refused without quoting it.
func TestUnparsablePostgresURLIsNotQuoted(t *testing.T) {
	for _, u := range []string{"postgres://hd:s3cret@ho st/db", "postgres://hd:s3%zzcret@db/hd", "postgres://hd:s3cret@[::1/db"} {
		_, err := store.Open(context.Background(), u)
		if err == nil || strings.Contains(err.Error(), "s3") {
			t.Errorf("%s: %v", u, err)
		}
	}
}
