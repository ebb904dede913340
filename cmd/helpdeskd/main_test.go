package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
)

func helpdeskd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, dbURL string) string {
	p := filepath.Join(t.TempDir(), "helpdeskd.toml")
	os.WriteFile(p, []byte("[helpdesk]\naddress = \"support@example.com\"\n[database]\nurl = \""+dbURL+"\"\n"), 0o600)
	return p
}

func TestCheckConfigExitStatus(t *testing.T) {
	good := writeConfig(t, "sqlite:/tmp/x.db")
	if code, out, _ := helpdeskd(t, "", "-config", good, "check-config"); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("good config: %d %s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[helpdesk]\naddress = \"support@example.com\"\n[imap]\nhost = \"imap.example.com\"\nport = 0\nusername = \"u\"\npassword = \"p\"\n"), 0o600)
	code, _, stderr := helpdeskd(t, "", "-config", bad, "check-config")
	if code != 2 || !strings.Contains(stderr, "bad.toml:5: [imap] port: must be 1-65535, got 0") {
		t.Fatalf("bad config: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := helpdeskd(t, "", "nonsense"); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
}

func TestIngestExitCodesAndJSON(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			cfg := writeConfig(t, testutil.URL(t, d))
			msg := "From: Ann <ann@example.com>\r\nSubject: Printer\r\nMessage-ID: <p1@example.com>\r\n\r\nbroken\r\n"
			code, out, stderr := helpdeskd(t, msg, "-config", cfg, "ingest", "--json")
			if code != 0 {
				t.Fatalf("ingest: %d %s", code, stderr)
			}
			var r map[string]string
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("json line %q: %v", out, err)
			}
			if r["source"] != "stdin" || r["outcome"] != "new_incident" || r["incident"] != "HD-1" || r["kind"] != "human" {
				t.Fatalf("json = %v", r)
			}
			// A retried pipe delivery: the same message again.
			_, out, _ = helpdeskd(t, msg, "-config", cfg, "ingest", "--json")
			if !strings.Contains(out, `"outcome":"duplicate"`) {
				t.Fatalf("retried delivery: %s", out)
			}
			empty := filepath.Join(t.TempDir(), "empty.eml")
			os.WriteFile(empty, nil, 0o644)
			if code, out, _ := helpdeskd(t, "", "-config", cfg, "ingest", "--json", empty); code != 65 || !strings.Contains(out, "quarantined") {
				t.Fatalf("empty message: exit %d %s", code, out)
			}
			code, out, _ = helpdeskd(t, "", "-config", cfg, "show", "HD-1", "--json")
			var v map[string]any
			if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
				t.Fatalf("show: %d %s", code, out)
			}
			for _, k := range []string{"key", "subject", "status", "priority", "requester", "assignee", "category", "problem",
				"created_at", "first_response_at", "resolved_at", "response_due", "resolution_due", "escalation_level", "messages"} {
				if _, ok := v[k]; !ok {
					t.Errorf("show --json lacks %q", k)
				}
			}
			m := v["messages"].([]any)[0].(map[string]any)
			for _, k := range []string{"message_id", "direction", "from", "subject", "received_at", "kind", "thread_reason", "text", "new_text"} {
				if _, ok := m[k]; !ok {
					t.Errorf("show --json message lacks %q", k)
				}
			}
			code, out, _ = helpdeskd(t, "", "-config", cfg, "incidents", "--json")
			if code != 0 || !strings.Contains(out, `"messages": 1`) {
				t.Fatalf("incidents --json: %d %s", code, out)
			}
		})
	}
}

func TestIngestTempFailWhenDatabaseIsDown(t *testing.T) {
	cfg := writeConfig(t, "postgres://nobody@127.0.0.1:1/none?sslmode=disable")
	code, _, stderr := helpdeskd(t, "From: a@x\r\n\r\nx\r\n", "-config", cfg, "ingest")
	if code != 75 {
		t.Fatalf("database down: exit %d (%s), want 75 so the MTA retries", code, stderr)
	}
}

func TestDemo(t *testing.T) {
	code, out, stderr := helpdeskd(t, "", "demo", "--dir", t.TempDir())
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"new_incident HD-1", "threaded HD-1", "follow-up: bob@staff.demo.example's open HD-2", "duplicate HD-2", "threaded HD-3", "ignored", "HD-6", "not acknowledged", "0 still queued",
		"assigned to acme", "sent → servicedesk@acme.demo.example", "acme's ticket ACME-1042", "first response by acme",
		"repeat: part of PRB-1", "sent → it-lead@staff.demo.example: \"[PRB-1] New problem", "threaded PRB-1", "3 command(s)",
		"PRB-1  known_error  2 incidents", "workaround: start Outlook with /safe",
		"sent → it-team@staff.demo.example: \"[HD-2] SLA warning", "sent → it-lead@staff.demo.example: \"[HD-2] Escalation level 1",
		"threaded HD-2", "1 command(s)", "Acme's own target (acme-contract), first response for P3 within 2h around the clock: met",
		"first response for P3 within 4h around the clock: breached",
		"sent → it-lead@staff.demo.example: \"[HD-7] Major incident declared", "sent → it-lead@staff.demo.example: \"[HD-7] Escalation level 1",
		"sent → it-lead@staff.demo.example: \"[HD-7] Major incident report requested", "major incident report correspondence (report partial)",
		"\"[HD-7] Major incident report incomplete", "major incident report correspondence (report received)", "HD-7's report (\"helpdeskd show HD-7\"): accepted",
		"prevention: Disk space is now monitored",
		"sent → management@demo.example: \"Demo IT Helpdesk: weekly accountability summary, week"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// The acknowledged breach climbs no further; the others do.
	if strings.Contains(out, "[HD-2] Escalation level 2: first response") || !strings.Contains(out, "[HD-3] Escalation level 2: first response") {
		t.Errorf("level 2 after #ack:\n%s", out)
	}
}

// TestProblemsCommands: repeats ingested through the pipe become a
// problem that "problems", "show PRB-N" and "incidents --json" report
// with the field names of the design.
func TestProblemsCommands(t *testing.T) {
	p := filepath.Join(t.TempDir(), "helpdeskd.toml")
	os.WriteFile(p, []byte("[helpdesk]\naddress = \"support@example.com\"\n[database]\nurl = \"sqlite:"+filepath.Join(t.TempDir(), "h.db")+"\"\n[problems]\nthreshold = 2\n"), 0o600)
	for i, subj := range []string{"Outlook crashes on start", "outlook keeps crashing when starting", "Printer jams"} {
		mail := "From: u" + string(rune('a'+i)) + "@example.com\r\nSubject: " + subj + "\r\nMessage-ID: <pc" + string(rune('a'+i)) + "@x>\r\n\r\nbody\r\n"
		if code, _, stderr := helpdeskd(t, mail, "-config", p, "ingest"); code != 0 {
			t.Fatalf("ingest: %d %s", code, stderr)
		}
	}
	code, out, stderr := helpdeskd(t, "", "-config", p, "problems", "--json")
	var ps []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ps) != nil || len(ps) != 1 || ps[0]["key"] != "PRB-1" || ps[0]["incidents"] != float64(2) ||
		ps[0]["status"] != "open" {
		t.Fatalf("problems --json: %d %s %s", code, out, stderr)
	}
	code, out, _ = helpdeskd(t, "", "-config", p, "show", "prb-1", "--json")
	var shown map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil {
		t.Fatalf("show PRB-1: %d %s", code, out)
	}
	if incs, _ := shown["incidents"].([]any); len(incs) != 2 {
		t.Errorf("show PRB-1 incidents: %v", shown["incidents"])
	}
	code, out, _ = helpdeskd(t, "", "-config", p, "incidents")
	if code != 0 || !strings.Contains(out, "PROBLEM") || !regexp.MustCompile(`HD-1 .* PRB-1 `).MatchString(out) || !regexp.MustCompile(`HD-3 .* - `).MatchString(out) {
		t.Errorf("incidents: the problem column:\n%s", out)
	}
	code, out, _ = helpdeskd(t, "", "-config", p, "incidents", "--json")
	var list []map[string]any
	json.Unmarshal([]byte(out), &list)
	if code != 0 || len(list) != 3 || list[0]["problem"] != "PRB-1" || list[1]["problem"] != "PRB-1" || list[2]["problem"] != nil {
		t.Errorf("incidents --json problem fields: %s", out)
	}
	if code, _, stderr := helpdeskd(t, "", "-config", p, "show", "PRB-9"); code != 1 || !strings.Contains(stderr, "no problem PRB-9") {
		t.Errorf("unknown problem: %d %s", code, stderr)
	}
	// "similar" explains the decision for a subject, changing nothing.
	code, out, stderr = helpdeskd(t, "", "-config", p, "similar", "--json", "Re: Outlook crash at startup")
	var sim struct {
		Fingerprint      string
		Similarity       float64
		Verdict, Problem string
		Matches          []struct {
			Key, Problem string
			Similarity   float64
			Same         bool `json:"same_issue"`
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &sim) != nil || sim.Fingerprint != "crash outlook start" || sim.Similarity != 0.75 ||
		len(sim.Matches) != 2 || !sim.Matches[0].Same || sim.Matches[0].Problem != "PRB-1" || sim.Matches[0].Similarity != 1 ||
		sim.Verdict != "join" || sim.Problem != "PRB-1" {
		t.Errorf("similar --json: %d %s %s", code, out, stderr)
	}
	code, out, _ = helpdeskd(t, "", "-config", p, "similar", "Paper jam in the printer")
	if code != 0 || !strings.Contains(out, "fingerprint: jam paper printer") || !regexp.MustCompile(`HD-3\s+0\.\d\d`).MatchString(out) || strings.Contains(out, "PRB-1") ||
		!strings.Contains(out, "verdict: it would open a new problem: 1 earlier occurrence of the window and this one reach the threshold of 2") {
		t.Errorf("similar: %d\n%s", code, out)
	}
	// Words in common, but another kind of fault: the rule is named.
	code, out, _ = helpdeskd(t, "", "-config", p, "similar", "Outlook slow")
	if code != 0 || !regexp.MustCompile(`HD-1\s+0\.00\s+PRB-1\s+ua@example.com\s.*different kinds of fault: slowness / availability`).MatchString(out) {
		t.Errorf("similar names the rule that keeps reports apart: %d\n%s", code, out)
	}
	if code, out, _ = helpdeskd(t, "", "-config", p, "similar", "Re: 12345"); code != 0 || !strings.Contains(out, "no words to compare") {
		t.Errorf("similar of numbers only: %d %s", code, out)
	}
	if code, _, stderr = helpdeskd(t, "", "-config", p, "similar"); code != 2 || !strings.Contains(stderr, "usage: helpdeskd similar") {
		t.Errorf("similar without a subject: %d %s", code, stderr)
	}
	if code, out, _ = helpdeskd(t, "", "-config", p, "problems", "--json"); code != 0 || strings.Count(out, `"key"`) != 1 {
		t.Errorf("similar changed the problems: %s", out)
	}
}

// TestIngestNow: "ingest --now" receives the mail at that time, as
// "run --once --now" does, so a week can be replayed.
func TestIngestNow(t *testing.T) {
	p := filepath.Join(t.TempDir(), "helpdeskd.toml")
	os.WriteFile(p, []byte("[helpdesk]\naddress = \"support@example.com\"\n[database]\nurl = \"sqlite:"+filepath.Join(t.TempDir(), "h.db")+"\"\n"), 0o600)
	mail := "From: ann@example.com\r\nSubject: VPN down\r\nMessage-ID: <now1@x>\r\n\r\nbody\r\n"
	if code, _, stderr := helpdeskd(t, mail, "-config", p, "ingest", "--now", "2026-11-02T09:15:00Z"); code != 0 {
		t.Fatalf("ingest --now: %d %s", code, stderr)
	}
	code, out, _ := helpdeskd(t, "", "-config", p, "incidents", "--json")
	if code != 0 || !strings.Contains(out, `"created_at": "2026-11-02T09:15:00Z"`) {
		t.Errorf("incidents after ingest --now:\n%s", out)
	}
	if code, _, stderr := helpdeskd(t, mail, "-config", p, "ingest", "--now", "yesterday"); code != 2 || !strings.Contains(stderr, "RFC 3339") {
		t.Errorf("a bad --now: %d %s", code, stderr)
	}
}

// TestSimilarAsOfNow: "similar --now T" shows the problems as they were
// at T: an incident linked to a problem opened after T is shown in none,
// and the verdict is the one a report at T would have had.
func TestSimilarAsOfNow(t *testing.T) {
	p := filepath.Join(t.TempDir(), "helpdeskd.toml")
	os.WriteFile(p, []byte("[helpdesk]\naddress = \"support@example.com\"\n[database]\nurl = \"sqlite:"+filepath.Join(t.TempDir(), "h.db")+"\"\n[problems]\nthreshold = 2\n"), 0o600)
	for i, at := range []string{"2026-11-02T09:00:00Z", "2026-11-02T11:00:00Z"} {
		mail := "From: u" + string(rune('a'+i)) + "@example.com\r\nSubject: Scanner offline\r\nMessage-ID: <sn" + string(rune('a'+i)) + "@x>\r\n\r\nbody\r\n"
		if code, _, stderr := helpdeskd(t, mail, "-config", p, "ingest", "--now", at); code != 0 {
			t.Fatalf("ingest: %d %s", code, stderr)
		}
	}
	var sim struct {
		Verdict, Problem string
		Matches          []struct{ Key, Problem string }
	}
	code, out, _ := helpdeskd(t, "", "-config", p, "similar", "--json", "--now", "2026-11-02T10:00:00Z", "scanner is offline")
	if code != 0 || json.Unmarshal([]byte(out), &sim) != nil || len(sim.Matches) != 1 || sim.Matches[0].Key != "HD-1" || sim.Matches[0].Problem != "" || sim.Verdict != "open" {
		t.Errorf("similar at 10:00, before PRB-1 opened: %d %s", code, out)
	}
	code, out, _ = helpdeskd(t, "", "-config", p, "similar", "--json", "--now", "2026-11-02T12:00:00Z", "scanner is offline")
	if code != 0 || json.Unmarshal([]byte(out), &sim) != nil || len(sim.Matches) != 2 || sim.Matches[0].Problem != "PRB-1" || sim.Verdict != "join" || sim.Problem != "PRB-1" {
		t.Errorf("similar at 12:00, after PRB-1 opened: %d %s", code, out)
	}
}

// TestSimilarAfterNotProblem: when staff parted every incident of a
// problem, "similar" says a like report joins that problem, as the
// intake does.
func TestSimilarAfterNotProblem(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "helpdeskd.toml")
	os.WriteFile(p, []byte("[helpdesk]\naddress = \"support@example.com\"\n[database]\nurl = \"sqlite:"+filepath.Join(dir, "h.db")+
		"\"\n[[team]]\nname = \"it\"\nmembers = [\"alice.admin@example.com\"]\n[routing]\ndefault_assignee = \"it\"\n[problems]\nthreshold = 2\n"+
		"[commands]\ntrusted_authserv_ids = [\"mx.example.com\"]\n"), 0o600)
	ar := "Authentication-Results: mx.example.com; dkim=pass header.d=example.com\r\n" +
		"Received: from out.example.net (out.example.net [192.0.2.7]) by mx.example.com (Postfix) with ESMTPS id 4Q1; Mon, 23 Nov 2026 09:00:00 +0000\r\n"
	mails := []string{
		"From: ua@example.com\r\nSubject: Outlook crashes on start\r\nMessage-ID: <sp1@x>\r\n\r\nbody\r\n",
		"From: ub@example.com\r\nSubject: Outlook crashes on start\r\nMessage-ID: <sp2@x>\r\n\r\nbody\r\n",
		"From: alice.admin@example.com\r\nSubject: Re: [HD-1] x\r\nMessage-ID: <sp3@x>\r\n" + ar + "\r\n#not-problem\r\n",
		"From: alice.admin@example.com\r\nSubject: Re: [HD-2] x\r\nMessage-ID: <sp4@x>\r\n" + ar + "\r\n#not-problem\r\n",
	}
	for _, m := range mails {
		if code, _, stderr := helpdeskd(t, m, "-config", p, "ingest"); code != 0 {
			t.Fatalf("ingest: %d %s", code, stderr)
		}
	}
	var sim struct{ Verdict, Problem string }
	if _, list, _ := helpdeskd(t, "", "-config", p, "incidents", "--all"); !regexp.MustCompile(`HD-1 .* - `).MatchString(list) {
		t.Fatalf("#not-problem not applied:\n%s", list)
	}
	code, out, _ := helpdeskd(t, "", "-config", p, "similar", "--json", "Outlook crashes on start")
	if code != 0 || json.Unmarshal([]byte(out), &sim) != nil || sim.Verdict != "join" || sim.Problem != "PRB-1" {
		t.Errorf("similar after #not-problem on every incident: %d %s", code, out)
	}
}
