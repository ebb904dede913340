package templates_test

import (
	"flag"
	"os"
	"path/filepath"
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

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the problem mail tests")

// TestProblemMailsGolden: the problem notice (new and repeat), the digest
// (one occurrence and several) and the requester's notice, rendered in
// full (subject, text, HTML) and equal to testdata/*.golden ("go test
// ./templates -run Golden -update" rewrites them after the change is
// checked by hand); what comes from mail (titles, subjects, requesters)
// is escaped in HTML and cannot break the subject line.
func TestProblemMailsGolden(t *testing.T) {
	set, err := templates.Load()
	if err != nil {
		t.Fatal(err)
	}
	occ := []workflow.ProblemOccurrence{
		{Key: "HD-3", Date: "2026-11-30 09:12 CET", Requester: "carol@example.com", Status: "new", Subject: "Scanner <b>offline</b>"},
		{Key: "HD-6", Date: "2026-11-30 09:40 CET", Requester: "dan@example.com", Status: "in_progress", Subject: "scanner is offline & beeping"},
	}
	base := workflow.ProblemData{HelpdeskName: "IT Helpdesk", Problem: "PRB-2", Title: "Scanner offline\r\nBcc: x@evil <script>", Key: "HD-6",
		Incidents: []string{"HD-3", "HD-6"}, Occurrences: occ, Reason: `HD-3 and HD-6 match "offline scan"`, Reporters: 2}
	cases := map[string]struct {
		mail string
		data workflow.ProblemData
	}{
		"problem-new": {"problem", func() workflow.ProblemData { d := base; d.New = true; return d }()},
		"problem-repeat": {"problem", func() workflow.ProblemData {
			d := base
			d.Workaround, d.Recurred = "Use the <2nd floor> scanner", true
			return d
		}()},
		"problem-linked": {"problem", base},
		"digest-one": {"problem_digest", func() workflow.ProblemData {
			d := base
			d.Occurrences = occ[1:]
			d.Since = "2026-11-30 09:12 CET"
			return d
		}()},
		"digest-two": {"problem_digest", func() workflow.ProblemData { d := base; d.Since = "2026-11-30 05:00 CET"; return d }()},
		"problem-requester": {"problem_requester", func() workflow.ProblemData {
			d := base
			d.Incidents, d.Occurrences, d.Reason, d.Others = nil, nil, "", true
			return d
		}()},
		// Alone in the problem (linked by hand): no "others have
		// reported it".
		"problem-requester-alone": {"problem_requester", func() workflow.ProblemData {
			d := base
			d.Incidents, d.Occurrences, d.Reason = nil, nil, ""
			return d
		}()},
	}
	for name, c := range cases {
		r, err := set.Render(c.mail, c.data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.ContainsAny(r.Subject, "\r\n") {
			t.Errorf("%s: subject on more than one line: %q", name, r.Subject)
		}
		if strings.Contains(r.HTML, "<script>") || strings.Contains(r.HTML, "<b>offline") || strings.Contains(r.HTML, "<2nd floor>") {
			t.Errorf("%s: HTML not escaped:\n%s", name, r.HTML)
		}
		got := "Subject: " + r.Subject + "\n\n" + r.Text + "\n----\n" + r.HTML
		path := filepath.Join("testdata", name+".golden")
		if *updateGolden {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run with -update once to write it)", name, err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s; run with -update after checking the change:\n%s", name, path, got)
		}
	}
}
