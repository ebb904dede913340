package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
)

// TestAdminCommandsAndAttachment: the administrator's commands on the
// host change the incident, answer with what they did, and exit 1 with
// the reason for a bad argument or an unknown incident, 2 for bad usage;
// "attachment" writes an attachment as show numbers it.
func TestAdminCommandsAndAttachment(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "helpdeskd.toml")
			os.WriteFile(cfg, []byte("[helpdesk]\naddress = \"support@example.com\"\n[database]\nurl = \""+testutil.URL(t, d)+"\"\n"+
				"[[team]]\nname = \"it\"\nmembers = [\"alice@example.com\"]\n[routing]\ndefault_assignee = \"it\"\n"), 0o600)
			photo := bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 0, 1, 2}, 50)
			msg := "From: Ann <ann@example.com>\r\nSubject: Screen black\r\nMessage-ID: <s1@example.com>\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nSee the photo.\r\n" +
				"--B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"photo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				base64.StdEncoding.EncodeToString(photo) + "\r\n--B--\r\n"
			if code, _, stderr := helpdeskd(t, msg, "-config", cfg, "ingest"); code != 0 {
				t.Fatalf("ingest: %d %s", code, stderr)
			}
			for _, c := range []struct {
				args     []string
				code     int
				out, err string
			}{
				{[]string{"priority", "HD-1", "P1"}, 0, "HD-1 priority P3 → P1", ""},
				{[]string{"priority", "HD-1", "urgent"}, 1, "", `HD-1 #priority urgent: refused, bad argument "urgent": want P1 to P5; nothing was changed`},
				{[]string{"note", "HD-1", "called", "her"}, 0, "HD-1 internal note: called her", ""},
				{[]string{"note", "HD-1", " ", ""}, 2, "", "the note's TEXT is empty"},
				{[]string{"accept", "HD-1"}, 1, "", "no complete report to judge (report none)"},
				{[]string{"reject", "HD-1"}, 2, "", "usage: helpdeskd reject KEY REASON"},
				{[]string{"major", "HD-1", "off"}, 0, "HD-1 no longer a major incident", ""},
				{[]string{"major", "HD-1"}, 0, "HD-1 major incident declared", ""},
				{[]string{"resolve", "HD-1", "Replaced", "the", "cable."}, 0, "HD-1 new → resolved", ""},
				{[]string{"close", "HD-9"}, 1, "", "no incident HD-9"},
				{[]string{"assign", "HD-1"}, 2, "", "usage: helpdeskd assign KEY NAME"},
				{[]string{"close", "HD-1", "now"}, 2, "", `unexpected "now"`},
				{[]string{"assign", "hd-1", "nobody"}, 1, "", `bad argument "nobody": not a team or provider`},
			} {
				code, out, stderr := helpdeskd(t, "", append([]string{"-config", cfg}, c.args...)...)
				if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(stderr, c.err) {
					t.Errorf("%v: exit %d, out %q, err %q; want %d, %q, %q", c.args, code, out, stderr, c.code, c.out, c.err)
				}
			}
			_, out, _ := helpdeskd(t, "", "-config", cfg, "show", "HD-1")
			for _, want := range []string{"status resolved, priority P1", "attachment [1] photo.png (image/png, 350 bytes)",
				"command          admin:", "#resolve: new → resolved (on the host)", "resolution_notice",
				"major incident; report requested", "report_requested"} {
				if !strings.Contains(out, want) {
					t.Errorf("show lacks %q:\n%s", want, out)
				}
			}
			_, out, _ = helpdeskd(t, "", "-config", cfg, "show", "HD-1", "--json")
			if !strings.Contains(out, `"attachments": [`) || !strings.Contains(out, `"filename": "photo.png"`) {
				t.Errorf("show --json lacks the attachment:\n%s", out)
			}
			file := filepath.Join(t.TempDir(), "out.png")
			if code, _, stderr := helpdeskd(t, "", "-config", cfg, "attachment", "HD-1", "1", "-o", file); code != 0 {
				t.Fatalf("attachment: %d %s", code, stderr)
			}
			if got, _ := os.ReadFile(file); !bytes.Equal(got, photo) {
				t.Errorf("extracted %d bytes, want the %d of the photo", len(got), len(photo))
			}
			for _, c := range []struct {
				args []string
				code int
				err  string
			}{
				{[]string{"attachment", "HD-1", "2", "-o", file}, 1, "HD-1 has no attachment 2: its attachments are numbered 1 to 1"},
				{[]string{"attachment", "HD-7", "1", "-o", file}, 1, "no incident HD-7"},
				{[]string{"attachment", "HD-1", "x", "-o", file}, 2, `helpdeskd attachment: INDEX must be a number from 1, got "x"`},
				{[]string{"attachment", "HD-1", "1", "-o", filepath.Join(file, "no-such-dir", "x")}, 1, "helpdeskd attachment: open "},
				{[]string{"attachment", "HD-1", "1"}, 2, "usage: helpdeskd attachment KEY INDEX -o FILE"},
			} {
				code, _, stderr := helpdeskd(t, "", append([]string{"-config", cfg}, c.args...)...)
				if code != c.code || !strings.Contains(stderr, c.err) {
					t.Errorf("%v: exit %d, err %q; want %d, %q", c.args, code, stderr, c.code, c.err)
				}
			}
		})
	}
}
