package templates_test

import (
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/templates"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// TestResolutionAndRelayMails: the resolution notice and a relay with
// attachments, rendered in full (text), with what comes from mail
// escaped in HTML and the subject on one line.
func TestResolutionAndRelayMails(t *testing.T) {
	set, err := templates.Load()
	if err != nil {
		t.Fatal(err)
	}
	r, err := set.Render("resolution", workflow.ResolutionData{HelpdeskName: "IT Helpdesk", Key: "HD-7", Subject: "Printer\r\nBcc: x@evil <jams>",
		RequesterName: "Jürgen", Resolver: "IT team", Text: "Replaced the <fuser>."})
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "[HD-7] Resolved: Printer Bcc: x@evil <jams>" {
		t.Errorf("subject %q", r.Subject)
	}
	want := `Hello Jürgen,

your request HD-7 (Printer
Bcc: x@evil <jams>) has been resolved by IT team.

Replaced the <fuser>.

If it is not solved, reply to this email (keep [HD-7] in the
subject): the request is reopened (once it is closed, a follow-up request
is opened). Otherwise there is nothing to do.

IT Helpdesk
`
	if got := strings.ReplaceAll(r.Text, "\r", ""); got != want {
		t.Errorf("resolution text:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(r.HTML, "Replaced the &lt;fuser&gt;.") || strings.Contains(r.HTML, "<fuser>") || strings.Contains(r.HTML, "<jams>") {
		t.Errorf("resolution HTML not escaped:\n%s", r.HTML)
	}
	r, err = set.Render("relay", workflow.RelayData{HelpdeskName: "IT Helpdesk", Key: "HD-7", Subject: "[HD-7] Printer [ACME-1]", From: "ACME Services",
		Text: "Fixed.", Attachments: []workflow.AttachmentLine{
			{Filename: "a.png", Type: "image/png", Size: "1.8 kB", Attached: true},
			{Filename: "<b>.zip", Type: "application/zip", Size: "30 MB", Why: "not attached: over the 10 MB limit"}}})
	if err != nil {
		t.Fatal(err)
	}
	want = `ACME Services wrote about HD-7:

Fixed.

Attachments:
  a.png (image/png, 1.8 kB)
  <b>.zip (application/zip, 30 MB): not attached: over the 10 MB limit

--
Reply to this email to answer; keep [HD-7] in the subject.
IT Helpdesk
`
	if r.Text != want {
		t.Errorf("relay text:\n%s\nwant:\n%s", r.Text, want)
	}
	if !strings.Contains(r.HTML, "<li>&lt;b&gt;.zip (application/zip, 30 MB): not attached: over the 10 MB limit</li>") {
		t.Errorf("relay HTML:\n%s", r.HTML)
	}
}

// A subject from mail of any length renders as one header line SMTP
// accepts.
func TestLongSubjectClipped(t *testing.T) {
	set, err := templates.Load()
	if err != nil {
		t.Fatal(err)
	}
	r, err := set.Render("ack", workflow.AckData{HelpdeskName: "IT", Key: "HD-1", Subject: strings.Repeat("x", 5000)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(r.Subject)); n != templates.MaxSubjectRunes || !strings.HasSuffix(r.Subject, "…") {
		t.Errorf("subject of %d runes: %.60q", n, r.Subject)
	}
}
