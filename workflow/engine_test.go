package workflow_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/lib/pq"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/templates"
	"github.com/helpdeskd/helpdeskd/workflow"
)

func newEngine(t testing.TB, dialect string, extra string) (*workflow.Engine, *store.Store) {
	t.Helper()
	u := testutil.URL(t, dialect)
	cfg, err := config.Parse("t.toml", []byte(fmt.Sprintf("[helpdesk]\naddress = \"support@example.com\"\n%s\n[database]\nurl = %q\n", extra, u)))
	if err != nil {
		t.Fatal(err)
	}
	st := testutil.OpenURL(t, u)
	tmpl, err := templates.Load()
	if err != nil {
		t.Fatal(err)
	}
	eng := workflow.NewEngine(st, cfg, tmpl, slog.New(slog.NewTextHandler(io.Discard, nil)))
	clock := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	eng.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	return eng, st
}

func ingest(t testing.TB, eng *workflow.Engine, raws ...[]byte) []workflow.Result {
	t.Helper()
	var batch []workflow.Inbound
	for i, r := range raws {
		batch = append(batch, workflow.Inbound{Raw: r, Source: workflow.Source{Kind: "file", Name: fmt.Sprint(i)}})
	}
	res, err := eng.Ingest(context.Background(), batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func raw(from, subject, id string, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: support@example.com\r\nSubject: %s\r\n", from, subject)
	if id != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", id)
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\nbody\r\n")
	return b.Bytes()
}

// wantRows checks the number of rows in tables.
func wantRows(t *testing.T, st *store.Store, want map[string]int) {
	t.Helper()
	for table, w := range want {
		var n int
		if err := st.DB().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
			t.Fatal(err)
		}
		if n != w {
			t.Errorf("%s: %d rows, want %d", table, n, w)
		}
	}
}

func outcomes(rs []workflow.Result) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, string(r.Outcome)+" "+r.Incident)
	}
	return strings.Join(parts, "; ")
}

func TestOddMessages(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			big := &bytes.Buffer{}
			big.WriteString("From: a@example.com\r\nSubject: big\r\nMessage-ID: <big@x>\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=dump.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n")
			line := strings.Repeat("QUFB", 19) + "\r\n" // 76 chars
			for big.Len() < 20<<20 {
				big.WriteString(line)
			}
			big.WriteString("--B--\r\n")
			cases := []struct {
				name, want string
				raw        []byte
			}{
				{"no Message-ID", "new_incident", raw("a@example.com", "no id", "")},
				{"broken MIME", "new_incident", []byte("From: b@example.com\r\nSubject: broken\r\nMessage-ID: <br@x>\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--X\r\nContent-Type: text/plain\r\n\r\nlost closing boundary")},
				{"empty", "quarantined", []byte{}},
				{"garbage", "quarantined", []byte("\x00\x01\x02 not a mail at all \xff\xfe")},
				{"20 MB attachment", "new_incident", big.Bytes()},
			}
			for _, c := range cases {
				res := ingest(t, eng, c.raw)
				if string(res[0].Outcome) != c.want {
					t.Errorf("%s: outcome %s (%s), want %s", c.name, res[0].Outcome, res[0].Reason, c.want)
				}
			}
			// The message without a Message-ID is recognised when it comes again.
			if res := ingest(t, eng, raw("a@example.com", "no id", "")); res[0].Outcome != workflow.OutcomeDuplicate {
				t.Errorf("no Message-ID, second time: %s", res[0].Outcome)
			}
			// So is broken mail in quarantine: one record.
			ingest(t, eng, []byte("\x00\x01\x02 not a mail at all \xff\xfe"))
			items, _ := st.ListQuarantine(context.Background())
			if len(items) != 2 {
				t.Errorf("%d quarantined, want 2 (empty and garbage, once each)", len(items))
			}
			var atts string
			st.DB().Get(&atts, `SELECT attachments FROM messages WHERE message_id = 'big@x'`)
			if !strings.Contains(atts, `"filename":"dump.bin"`) || !strings.Contains(atts, `"size":15`) {
				t.Errorf("20 MB attachment metadata = %s", clipS(atts))
			}
		})
	}
}

func clipS(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// TestLimitsRecordWithDefects: past each parser limit ([intake]) the
// message is still recorded, raw bytes whole, with a defect naming the
// limit.
func TestLimitsRecordWithDefects(t *testing.T) {
	nested := "From: n@example.com\r\nSubject: nested\r\nMessage-ID: <n@x>\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
	for i := 0; i < 5; i++ {
		nested += fmt.Sprintf("--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
	}
	nested += "--b5\r\nContent-Type: text/plain\r\n\r\ndeep\r\n"
	many := "From: m@example.com\r\nSubject: fields\r\nMessage-ID: <m@x>\r\n" + strings.Repeat("X-Junk: 1\r\n", 50) + "\r\nbody\r\n"
	for _, c := range []struct {
		name, extra, defect string
		raw                 []byte
	}{
		{"message size", "max_message_bytes = 2048", "only the first 2048", append(raw("a@example.com", "huge", "h@x"), bytes.Repeat([]byte("x"), 4096)...)},
		{"header size", "max_header_bytes = 1024", "fields past 1024 bytes were dropped", []byte("From: b@example.com\r\nSubject: big header\r\nMessage-ID: <hb@x>\r\nX-Big: " + strings.Repeat("y", 3000) + "\r\n\r\nbody\r\n")},
		{"header fields", "max_header_fields = 10", "53 header fields", []byte(many)},
		{"mime depth", "max_mime_depth = 3", "nested deeper than 3", []byte(nested)},
	} {
		t.Run(c.name, func(t *testing.T) {
			eng, st := newEngine(t, "sqlite", "")
			cfg, err := config.Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\n[intake]\n"+c.extra+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			eng.Parse = workflow.ParseOptions(cfg)
			res := ingest(t, eng, c.raw)
			if res[0].Outcome != workflow.OutcomeNewIncident {
				t.Fatalf("%+v", res[0])
			}
			var defects string
			var size int
			st.DB().QueryRow(`SELECT m.defects, length(r.raw) FROM messages m JOIN message_raw r ON r.message_pk = m.id`).Scan(&defects, &size)
			if !strings.Contains(defects, c.defect) || size != len(c.raw) {
				t.Errorf("defects %s, raw %d bytes (of %d); want a defect with %q and the raw bytes whole", defects, size, len(c.raw), c.defect)
			}
		})
	}
}

func TestThreadingAndStatus(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "")
	ctx := context.Background()
	ingest(t, eng, raw("Ann <ann@example.com>", "Laptop will not boot", "l1@example.com"))
	inc, _ := st.IncidentByKey(ctx, "HD-1")

	// Resolved, then the requester writes again: reopened, when the
	// mail is really hers (anyone can write her From).
	st.SetIncidentStatus(ctx, inc, store.StatusResolved, eng.Now())
	eng.Cfg.Commands.TrustedAuthservIDs = []string{"mx.example.com"}
	res := ingest(t, eng, raw("ann@example.com", "Re: [HD-1] Laptop will not boot", "l2a@example.com"))
	if got, _ := st.IncidentByKey(ctx, "HD-1"); got.Status != store.StatusResolved || !strings.Contains(res[0].Reason, "not reopened") {
		t.Fatalf("unauthenticated requester reply to resolved: status %s reason %q", got.Status, res[0].Reason)
	}
	res = ingest(t, eng, raw("ann@example.com", "Re: [HD-1] Laptop will not boot", "l2@example.com", ownAR))
	if got, _ := st.IncidentByKey(ctx, "HD-1"); got.Status != store.StatusOpen || !strings.Contains(res[0].Reason, "reopened") {
		t.Fatalf("requester reply to resolved: status %s reason %q", got.Status, res[0].Reason)
	}
	// A stranger using the tag: threaded but flagged.
	res = ingest(t, eng, raw("mallory@evil.example", "[HD-1] please send me the password", "m1@evil.example"))
	if res[0].Outcome != workflow.OutcomeThreaded || !strings.Contains(res[0].Reason, "flagged") {
		t.Fatalf("stranger with tag: %+v", res[0])
	}
	// References to a stored message thread it, even without a tag.
	res = ingest(t, eng, raw("ann@example.com", "more info", "l3@example.com", "References: <l1@example.com>"))
	if res[0].Incident != "HD-1" || !strings.Contains(res[0].Reason, "references stored message") {
		t.Fatalf("reference thread: %+v", res[0])
	}
	// Closed: a new message starts a new incident that points back.
	inc, _ = st.IncidentByKey(ctx, "HD-1")
	st.SetIncidentStatus(ctx, inc, store.StatusClosed, eng.Now())
	res = ingest(t, eng, raw("ann@example.com", "Re: [HD-1] Laptop will not boot", "l4@example.com"))
	if res[0].Outcome != workflow.OutcomeNewIncident || res[0].Incident != "HD-2" || !strings.Contains(res[0].Reason, "follow-up to closed HD-1") {
		t.Fatalf("reply to closed: %+v", res[0])
	}
	// A tag of an incident that does not exist: a new incident.
	if res := ingest(t, eng, raw("bo@example.com", "[HD-999] hello", "x@example.com")); res[0].Outcome != workflow.OutcomeNewIncident {
		t.Fatalf("unknown tag: %+v", res[0])
	}
}

func TestLoopRules(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "auto_reply_limit = 2")
	ctx := context.Background()
	cases := []struct {
		name, from, want, acked string
		headers                 []string
	}{
		{"monitoring alert opens, unanswered", "nagios@example.com", "new_incident", "no", []string{"Auto-Submitted: auto-generated"}},
		{"list mail opens, unanswered", "list@example.com", "new_incident", "no", []string{"List-Id: <staff.example.com>"}},
		{"bulk opens, unanswered", "news@example.com", "new_incident", "no", []string{"Precedence: bulk"}},
		{"vacation reply to nothing is ignored", "away@example.com", "ignored", "no", []string{"Auto-Submitted: auto-replied"}},
		{"bounce to nothing is ignored", "MAILER-DAEMON@mx.example.com", "ignored", "no", nil},
		{"our own address is ignored", "support@example.com", "ignored", "no", nil},
		{"our loop header is ignored", "someone@example.com", "ignored", "no", []string{"X-Helpdeskd-Loop: support@example.com"}},
		{"null return path is a bounce: ignored", "x@example.com", "ignored", "no", []string{"Return-Path: <>"}},
		{"human is answered", "human@example.com", "new_incident", "yes", nil},
	}
	for i, c := range cases {
		res := ingest(t, eng, raw(c.from, fmt.Sprintf("case %d", i), fmt.Sprintf("c%d@x", i), c.headers...))
		if string(res[0].Outcome) != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, res[0].Outcome, res[0].Reason, c.want)
		}
		acked := strings.Contains(res[0].Reason, "; acknowledged")
		if acked != (c.acked == "yes") {
			t.Errorf("%s: acknowledged=%v (%s)", c.name, acked, res[0].Reason)
		}
	}
	// The per-address hourly limit: 2 acknowledgements, then none.
	for i := 0; i < 4; i++ {
		ingest(t, eng, raw("chatty@example.com", fmt.Sprintf("issue %d", i), fmt.Sprintf("ch%d@x", i)))
	}
	n, _ := st.CountAutoMail(ctx, "chatty@example.com", time.Time{})
	if n != 2 {
		t.Fatalf("%d acknowledgements to one address within an hour, want the limit 2", n)
	}
}

func TestBatchKeepsGoodMessagesWhenOneFails(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "")
	res := ingest(t, eng, raw("a@example.com", "one", "1@x"), []byte{}, raw("b@example.com", "two", "2@x"))
	if outcomes(res) != "new_incident HD-1; quarantined ; new_incident HD-2" {
		t.Fatalf("batch outcomes: %s", outcomes(res))
	}
	var n int
	st.DB().Get(&n, `SELECT COUNT(*) FROM message_raw`)
	if n != 2 {
		t.Fatalf("%d raw messages kept, want 2", n)
	}
}

// TestBatchRetriesWithoutFailedMessage breaks one message in the middle of
// its work, after it has written to the transaction, with a real database
// error (on PostgreSQL it aborts the whole transaction). The others must
// commit exactly once, with no trace of the failed attempt.
func TestBatchRetriesWithoutFailedMessage(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			workflow.SetFailHook(eng, func(ctx context.Context, tx *store.Tx, subject string) error {
				if subject != "two" {
					return nil
				}
				// NUL is invalid in PostgreSQL text: the statement fails and
				// the transaction is aborted.
				if _, err := tx.IncidentByKey(ctx, "HD-\x00"); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				return errors.New("simulated failure")
			})
			res := ingest(t, eng, raw("a@example.com", "one", "1@x"), raw("b@example.com", "two", "2@x"), raw("c@example.com", "three", "3@x"))
			if got := outcomes(res); got != "new_incident HD-1; quarantined ; new_incident HD-2" {
				t.Fatalf("batch outcomes: %s", got)
			}
			if !strings.Contains(res[1].Reason, "processing failed") {
				t.Errorf("reason of the failed message: %q", res[1].Reason)
			}
			wantRows(t, st, map[string]int{"messages": 2, "message_raw": 2, "incidents": 2, "outbox": 2, "quarantine": 1, "events": 4})
		})
	}
}

// TestBatchWriteFailureFindsTheMessage: when the batch's multi-row write
// fails (here a message row pointing to an incident that does not exist),
// no message can be blamed yet; the batch runs again writing message by
// message, the culprit is quarantined, and the rest commits once.
func TestBatchWriteFailureFindsTheMessage(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			workflow.SetRowHook(eng, func(m *store.Message) {
				if m.Subject == "Out of office" {
					bogus := int64(999999)
					m.IncidentID = &bogus
				}
			})
			res := ingest(t, eng, raw("a@example.com", "one", "1@x"),
				raw("b@example.com", "Out of office", "2@x", "Auto-Submitted: auto-replied"),
				raw("c@example.com", "three", "3@x"))
			if got := outcomes(res); got != "new_incident HD-1; quarantined ; new_incident HD-2" {
				t.Fatalf("batch outcomes: %s", got)
			}
			wantRows(t, st, map[string]int{"messages": 2, "message_raw": 2, "incidents": 2, "outbox": 2, "quarantine": 1, "events": 4})
		})
	}
}

// TestOneBatchSeesItsOwnMessages: within one batch (one transaction,
// written at its end), later messages see what earlier ones decided: a
// reply threads into the incident its original opened, a second copy is a
// duplicate, a tag of a just-opened incident finds it, and the hourly
// acknowledgement limit counts the batch's own acknowledgements.
func TestOneBatchSeesItsOwnMessages(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "auto_reply_limit = 2")
			res := ingest(t, eng,
				raw("a@example.com", "VPN down", "v1@x"),
				raw("a@example.com", "Re: VPN down", "v2@x", "In-Reply-To: <v1@x>"),
				raw("a@example.com", "VPN down", "v1@x"),
				raw("b@example.com", "Re: [HD-1] VPN down", "v3@x"),
				raw("a@example.com", "Printer", "p1@x"),
				raw("a@example.com", "Scanner", "s1@x"))
			if got := outcomes(res); got != "new_incident HD-1; threaded HD-1; duplicate HD-1; threaded HD-1; new_incident HD-2; new_incident HD-3" {
				t.Fatalf("outcomes: %s", got)
			}
			if !strings.Contains(res[3].Reason, "flagged") {
				t.Errorf("a tag from someone not on the thread is flagged: %s", res[3].Reason)
			}
			if !strings.Contains(res[5].Reason, "limit reached") {
				t.Errorf("third acknowledgement to one address in the batch: %s", res[5].Reason)
			}
			inc, err := st.IncidentByKey(context.Background(), "HD-1")
			if err != nil || inc.MessageCount != 3 {
				t.Fatalf("HD-1: %+v %v; want 3 messages", inc, err)
			}
			var n int
			st.DB().Get(&n, `SELECT COUNT(*) FROM outbox`)
			if n != 2 {
				t.Errorf("%d acknowledgements queued, want 2", n)
			}
		})
	}
}

func TestReprocessQuarantine(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "")
	workflow.SetFailHook(eng, func(context.Context, *store.Tx, string) error { return errors.New("a bug of this version") })
	ingest(t, eng, raw("a@example.com", "failed once", "q@x"))
	workflow.SetFailHook(eng, nil) // the fixed version
	r, err := eng.Reprocess(context.Background(), 1)
	if err != nil || r.Outcome != workflow.OutcomeNewIncident {
		t.Fatalf("reprocess: %+v %v", r, err)
	}
	q, _ := st.GetQuarantine(context.Background(), 1)
	if q.Status != "reprocessed" || q.MessagePK == nil {
		t.Fatalf("quarantine after reprocess: %+v", q)
	}
}

func TestShowIncidentJSONFields(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "")
	ingest(t, eng, raw("Ann <ann@example.com>", "Laptop", "s1@example.com"))
	v, err := workflow.ShowIncident(context.Background(), st.Reader, "HD-1")
	if err != nil {
		t.Fatal(err)
	}
	msgs := v.Messages.([]workflow.MessageView)
	if len(msgs) != 2 || msgs[0].Direction != "in" || msgs[1].Direction != "out" || msgs[1].Kind != "auto_reply" {
		t.Fatalf("messages = %+v", msgs)
	}
	if len(v.Events) < 2 || v.Events[0].Kind != "created" {
		t.Fatalf("events = %+v", v.Events)
	}
}

// dsn is a delivery status notification for our mail msgID to rcpt.
func dsn(rcpt, msgID string) []byte {
	return []byte("From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n" +
		"To: support@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Message-ID: <dsn-1@mx.example.net>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.example.net.\r\n\r\n" +
		"<" + rcpt + ">: host mx.example.org said: 550 5.1.1 <" + rcpt + ">: Recipient address rejected: User unknown\r\n\r\n" +
		"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n" +
		"Final-Recipient: rfc822; " + rcpt + "\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 <" + rcpt + ">: Recipient address rejected: User unknown\r\n\r\n" +
		"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@example.com\r\nTo: " + rcpt + "\r\n" +
		"Message-ID: <" + msgID + ">\r\nSubject: [HD-1] Printer\r\n\r\n--B--\r\n")
}

// TestBounceOfOurMail: a delivery report about one of our mails joins its
// incident without reopening it or opening another, marks the outbox row
// bounced and records who failed and why; a report about mail we never
// sent is ignored.
func TestBounceOfOurMail(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			ctx := context.Background()
			ingest(t, eng, raw("gone@example.org", "Printer", "p1@x"))
			var ackID string
			if err := st.DB().Get(&ackID, `SELECT message_id FROM outbox`); err != nil {
				t.Fatal(err)
			}
			res := ingest(t, eng, dsn("gone@example.org", ackID), dsn("x@example.org", "someone-else@example.net"))
			if got := outcomes(res); got != "threaded HD-1; ignored " {
				t.Fatalf("outcomes: %s (%s | %s)", got, res[0].Reason, res[1].Reason)
			}
			var status, lastErr string
			st.DB().QueryRow(st.DB().Rebind(`SELECT status, last_error FROM outbox WHERE message_id = ?`), ackID).Scan(&status, &lastErr)
			if status != store.OutboxBounced || !strings.Contains(lastErr, "gone@example.org") || !strings.Contains(lastErr, "5.1.1") || !strings.Contains(lastErr, "permanent") {
				t.Fatalf("outbox row after the bounce: %s %q", status, lastErr)
			}
			inc, _ := st.IncidentByKey(ctx, "HD-1")
			if inc.Status != store.StatusNew {
				t.Errorf("status after a bounce: %s, want unchanged", inc.Status)
			}
			evs, _ := st.IncidentEvents(ctx, inc.ID)
			found := false
			for _, e := range evs {
				found = found || (e.Kind == "delivery_bounced" && strings.Contains(e.Detail, "gone@example.org"))
			}
			if !found {
				t.Errorf("no delivery_bounced event naming the failed address: %+v", evs)
			}
			wantRows(t, st, map[string]int{"incidents": 1})
		})
	}
}

const routingConfig = `
[[team]]
name = "it"
members = ["alice.admin@example.com", "bob.admin@example.com"]
chain = ["it-lead@example.com"]

[[provider]]
name = "acme"
domains = ["acme-it.example"]
intake = "servicedesk@acme-it.example"
ticket_pattern = 'ACME-\d+'

[[route]]
name = "lab"
from_domains = ["lab.example.com"]
assign = "it"
category = "lab"

[[route]]
name = "printing"
keywords = ["printer", "toner", "access point"]
assign = "acme"
category = "printing"
priority = "P2"
informed = ["office.manager@example.com"]

[routing]
default_assignee = "it"
`

// withRouting gives eng the teams, providers, routes and commands of a
// configuration snippet.
func withRouting(t testing.TB, eng *workflow.Engine, conf string) {
	t.Helper()
	cfg, err := config.Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\n"+conf))
	if err != nil {
		t.Fatal(err)
	}
	eng.Cfg.Teams, eng.Cfg.Providers, eng.Cfg.Routes, eng.Cfg.Routing, eng.Cfg.Commands, eng.Cfg.Problems = cfg.Teams, cfg.Providers, cfg.Routes, cfg.Routing, cfg.Commands, cfg.Problems
	eng.Cfg.Calendars, eng.Cfg.SLAs, eng.Cfg.PriorityRules, eng.Cfg.Escalation = cfg.Calendars, cfg.SLAs, cfg.PriorityRules, cfg.Escalation
	eng.Cfg.Major = cfg.Major
	if len(eng.Cfg.Commands.TrustedAuthservIDs) == 0 {
		// The border MTA of these tests; mail carries its results as
		// acmeAR and ownAR below.
		eng.Cfg.Commands.TrustedAuthservIDs = []string{"mx.example.com"}
	}
}

// Authentication-Results of the trusted border MTA for mail from the
// provider's domain and from the organisation's own.
const (
	acmeAR = "Authentication-Results: mx.example.com; dkim=pass header.d=acme-it.example\r\n" + borderReceived
	ownAR  = "Authentication-Results: mx.example.com; dkim=pass header.d=example.com\r\n" + borderReceived
)

// TestRoutingAndNotices: a new incident goes to the first matching route
// (whole-word keywords in the subject or the first lines, sender domains),
// else the default assignee; the assignee is notified (a team's members,
// a provider's intake), the informed get a notice, all tagged with Reply-To
// the helpdesk; the provider's automatic answer threads in without a reply.
func TestRoutingAndNotices(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, routingConfig)
			ctx := context.Background()
			res := ingest(t, eng,
				raw("carol@example.com", "Printer on floor 2 jams", "r1@x"),
				raw("dan@example.com", "Need more printers", "r2@x"),
				raw("erin@lab.example.com", "Printer in the lab", "r3@x"),
				[]byte("From: frank@example.com\r\nSubject: Help\r\nMessage-ID: <r4@x>\r\n\r\nThe access point in room 4 blinks red.\r\n"))
			want := []struct{ key, assignee, category, priority string }{
				{"HD-1", "acme", "printing", "P2"}, {"HD-2", "it", "", "P3"}, {"HD-3", "it", "lab", "P3"}, {"HD-4", "acme", "printing", "P2"},
			}
			for i, w := range want {
				inc, err := st.IncidentByKey(ctx, w.key)
				if err != nil || inc.Assignee != w.assignee || inc.Category != w.category || string(inc.Priority) != w.priority {
					t.Errorf("%s: %+v %v; want %s/%s/%s (%s)", w.key, inc, err, w.assignee, w.category, w.priority, res[i].Reason)
				}
			}
			var rows []store.Outbox
			if err := st.DB().Select(&rows, `SELECT * FROM outbox ORDER BY id`); err != nil {
				t.Fatal(err)
			}
			byKind := map[string][]store.Outbox{}
			for _, o := range rows {
				byKind[o.Kind] = append(byKind[o.Kind], o)
			}
			if n := len(byKind["ack"]); n != 4 {
				t.Errorf("%d acknowledgements, want 4", n)
			}
			prov := byKind["notify_provider"]
			if len(prov) != 2 || prov[0].ToAddrs != "servicedesk@acme-it.example" || prov[0].Subject != "[HD-1] Printer on floor 2 jams" ||
				prov[0].ReplyTo != "support@example.com" || prov[0].AutoSubmitted != "auto-generated" || !strings.Contains(prov[0].TextBody, "Printer on floor 2 jams") {
				t.Fatalf("provider notices: %+v", prov)
			}
			team := byKind["notify_team"]
			if len(team) != 2 || team[0].ToAddrs != "alice.admin@example.com, bob.admin@example.com" || team[0].Subject != "[HD-2] Need more printers" {
				t.Errorf("team notices: %+v", team)
			}
			if inf := byKind["informed"]; len(inf) != 2 || inf[0].ToAddrs != "office.manager@example.com" {
				t.Errorf("informed notices: %+v", inf)
			}
			// The provider's ticket system acknowledges our notice.
			res = ingest(t, eng, raw("noreply@acme-it.example", "ACME-4711 received: [HD-1] Printer on floor 2 jams", "a1@acme",
				"In-Reply-To: <"+prov[0].MessageID+">", "Auto-Submitted: auto-replied"))
			if got := outcomes(res); got != "threaded HD-1" {
				t.Errorf("provider acknowledgement: %s (%s)", got, res[0].Reason)
			}
			var n int
			st.DB().Get(&n, `SELECT COUNT(*) FROM outbox`)
			if n != len(rows) {
				t.Errorf("the provider's acknowledgement was answered: %d outbox rows, was %d", n, len(rows))
			}
			inc, _ := st.IncidentByKey(ctx, "HD-1")
			evs, _ := st.IncidentEvents(ctx, inc.ID)
			var kinds []string
			for _, e := range evs {
				kinds = append(kinds, e.Kind)
			}
			if !strings.Contains(strings.Join(kinds, ","), "created,routed,notified,notified,acknowledged") {
				t.Errorf("HD-1 events: %v", kinds)
			}
		})
	}
}

// TestFirstResponse: the first human reply from the assignee stamps
// first_response_at; the requester's replies, automatic mail and staff of
// another assignee never do, and a second reply does not move it.
func TestFirstResponse(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "")
	withRouting(t, eng, routingConfig)
	ctx := context.Background()
	ingest(t, eng, raw("carol@example.com", "Printer jams", "f1@x"))
	stamp := func() *time.Time {
		inc, _ := st.IncidentByKey(ctx, "HD-1")
		return inc.FirstResponseAt
	}
	steps := []struct {
		name    string
		raw     []byte
		stamped bool
	}{
		{"requester", raw("carol@example.com", "Re: [HD-1] Printer jams", "f2@x"), false},
		{"provider auto-ack", raw("noreply@acme-it.example", "Re: [HD-1] Printer jams", "f3@x", "Auto-Submitted: auto-replied"), false},
		{"other team's member", raw("alice.admin@example.com", "Re: [HD-1] Printer jams", "f4@x"), false},
		{"forged provider agent (no authentication)", raw("agent@acme-it.example", "Re: [HD-1] Printer jams", "f4b@x"), false},
		{"provider agent", raw("agent@acme-it.example", "Re: [HD-1] Printer jams", "f5@x", acmeAR), true},
	}
	for _, s := range steps {
		res := ingest(t, eng, s.raw)
		if got := stamp() != nil; got != s.stamped {
			t.Fatalf("after %s: first response stamped=%v, want %v (%s)", s.name, got, s.stamped, res[0].Reason)
		}
		forged := strings.HasPrefix(s.name, "forged")
		if flagged := strings.Contains(res[0].Reason, "flagged: sender not authenticated: not counted as the first response"); flagged != forged {
			t.Errorf("%s: flagged=%v, want %v: %s", s.name, flagged, forged, res[0].Reason)
		}
	}
	first := *stamp()
	ingest(t, eng, raw("agent2@acme-it.example", "Re: [HD-1] Printer jams", "f6@x", acmeAR))
	if !stamp().Equal(first) {
		t.Errorf("a second reply moved first_response_at from %v to %v", first, *stamp())
	}
}

// TestProviderTicketNumbers (threading rule 3): the provider's ticket
// number is learned from its first message that carries both it and our
// tag (here its automatic acknowledgement); later mail from the provider
// that carries only its number threads in. The same number from anyone
// else means nothing.
func TestProviderTicketNumbers(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, routingConfig)
			ingest(t, eng, raw("carol@example.com", "Printer jams", "t1@x"))
			// A forged provider mail with our tag and a number teaches
			// nothing.
			res := ingest(t, eng, raw("noreply@acme-it.example", "[ACME-666] received: [HD-1] Printer jams", "t1b@evil", "Auto-Submitted: auto-replied"))
			if !strings.Contains(res[0].Reason, "ACME-666 not learned") {
				t.Errorf("forged provider mail: %s", res[0].Reason)
			}
			res = ingest(t, eng,
				raw("noreply@acme-it.example", "[ACME-4711] received: [HD-1] Printer jams", "t2@acme", "Auto-Submitted: auto-replied", acmeAR),
				raw("agent@acme-it.example", "Re: [ACME-4711] Technician booked for Tuesday", "t3@acme"),
				raw("mallory@example.net", "ACME-4711 urgent", "t4@x"))
			if got := outcomes(res); got != "threaded HD-1; threaded HD-1; new_incident HD-2" {
				t.Fatalf("outcomes: %s (%s | %s)", got, res[0].Reason, res[1].Reason)
			}
			if !strings.Contains(res[1].Reason, "acme's ticket ACME-4711") {
				t.Errorf("reason: %s", res[1].Reason)
			}
			// Learned for good: a later batch threads by it too.
			res = ingest(t, eng, raw("agent@acme-it.example", "ACME-4711 closed", "t5@acme"))
			if got := outcomes(res); got != "threaded HD-1" {
				t.Errorf("later reply by ticket number: %s", got)
			}
			var n int
			st.DB().Get(&n, `SELECT COUNT(*) FROM provider_tickets`)
			if n != 1 {
				t.Errorf("%d tickets learned, want 1", n)
			}
		})
	}
}

// TestRelay: with relay on, a provider's human reply reaches the requester
// (new text only, from the helpdesk, tagged) and the requester's answer
// reaches the provider's intake; automatic mail is never relayed; with
// relay off the provider's replies are not relayed, but the requester's
// still reach the provider.
func TestRelay(t *testing.T) {
	for _, relay := range []bool{true, false} {
		t.Run(fmt.Sprint("relay=", relay), func(t *testing.T) {
			eng, st := newEngine(t, "sqlite", "")
			conf := strings.Replace(routingConfig, "ticket_pattern = 'ACME-\\d+'", fmt.Sprintf("ticket_pattern = 'ACME-\\d+'\nrelay = %v", relay), 1)
			withRouting(t, eng, conf)
			ingest(t, eng, raw("Carol <carol@example.com>", "Printer jams", "y1@x"))
			res := ingest(t, eng,
				raw("noreply@acme-it.example", "[ACME-7] received: [HD-1] Printer jams", "y2@acme", "Auto-Submitted: auto-replied"),
				[]byte("From: Dave Agent <dave@acme-it.example>\r\nSubject: RE: [HD-1] Printer jams\r\nMessage-ID: <y3@acme>\r\n"+acmeAR+"\r\n\r\n"+
					"A technician comes on Tuesday.\r\n\r\nDave\r\n-- \r\nDave Agent, ACME IT, +1 555 0100\r\n\r\n"+
					"-----Original Message-----\r\nFrom: support@example.com\r\nSent: Monday\r\n\r\nold text\r\n"),
				raw("carol@example.com", "Re: [HD-1] Printer jams", "y4@x", ownAR))
			if got := outcomes(res); got != "threaded HD-1; threaded HD-1; threaded HD-1" {
				t.Fatalf("outcomes: %s", got)
			}
			var rows []store.Outbox
			st.DB().Select(&rows, `SELECT * FROM outbox WHERE kind LIKE 'relay%' ORDER BY id`)
			if !relay {
				if len(rows) != 1 || rows[0].Kind != "relay_to_assignee" {
					t.Fatalf("with relay = false, want only the requester's reply relayed to the provider: %+v", rows)
				}
				return
			}
			if len(rows) != 2 {
				t.Fatalf("%d relays, want 2 (agent → requester, requester → provider): %+v", len(rows), rows)
			}
			toReq, toProv := rows[0], rows[1]
			if toReq.Kind != "relay_to_requester" || toReq.ToAddrs != "carol@example.com" || toReq.Subject != "[HD-1] Printer jams" ||
				!strings.Contains(toReq.TextBody, "A technician comes on Tuesday.") || strings.Contains(toReq.TextBody, "old text") ||
				strings.Contains(toReq.TextBody, "dave@acme-it.example") || strings.Contains(toReq.TextBody, "555 0100") {
				t.Errorf("relay to the requester: %+v", toReq)
			}
			if toProv.Kind != "relay_to_assignee" || toProv.ToAddrs != "servicedesk@acme-it.example" || toProv.AutoSubmitted == "" {
				t.Errorf("relay to the provider: %+v", toProv)
			}
			// The same reply delivered again is not relayed twice.
			ingest(t, eng, raw("carol@example.com", "Re: [HD-1] Printer jams", "y4@x", ownAR))
			var n int
			st.DB().Get(&n, `SELECT COUNT(*) FROM outbox WHERE kind LIKE 'relay%'`)
			if n != 2 {
				t.Errorf("%d relays after a duplicate delivery, want 2", n)
			}
		})
	}
}

// TestMailLoopDrill: a provider's system acknowledges every mail it gets
// (without Auto-Submitted, as some do) and the requester is on holiday
// with an out-of-office reply to everything. Each side answers whatever
// helpdeskd sends it, round after round; the mail must stop.
func TestMailLoopDrill(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "")
	conf := strings.Replace(routingConfig, "ticket_pattern = 'ACME-\\d+'", "ticket_pattern = 'ACME-\\d+'\nrelay = true", 1)
	withRouting(t, eng, conf)
	ingest(t, eng, raw("carol@example.com", "Printer jams", "d0@x"))
	answered := map[int64]bool{}
	counts := []int{}
	settled := false
	for round := 0; round < 8; round++ {
		var rows []store.Outbox
		if err := st.DB().Select(&rows, `SELECT * FROM outbox ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		counts = append(counts, len(rows))
		var replies [][]byte
		for _, o := range rows {
			if answered[o.ID] {
				continue
			}
			answered[o.ID] = true
			switch {
			case strings.Contains(o.ToAddrs, "servicedesk@acme-it.example"):
				replies = append(replies, raw("servicedesk@acme-it.example", "Ticket ACME-9 received: "+o.Subject, fmt.Sprintf("ack%d@acme", o.ID),
					"In-Reply-To: <"+o.MessageID+">"))
			case strings.Contains(o.ToAddrs, "carol@example.com"):
				replies = append(replies, raw("carol@example.com", "Out of office: "+o.Subject, fmt.Sprintf("ooo%d@x", o.ID),
					"In-Reply-To: <"+o.MessageID+">", "Auto-Submitted: auto-replied"))
			}
		}
		if len(replies) == 0 {
			settled = true
			break
		}
		ingest(t, eng, replies...)
	}
	if !settled || counts[len(counts)-1] > 10 {
		t.Fatalf("mail keeps flowing: outbox sizes per round %v", counts)
	}
	t.Logf("outbox sizes per round: %v", counts)
	var incidents int
	st.DB().Get(&incidents, `SELECT COUNT(*) FROM incidents`)
	if incidents != 1 {
		t.Errorf("%d incidents, want 1", incidents)
	}
}

// TestOutlookConversation (threading rule 4): a reply whose client dropped
// In-Reply-To and References and changed the subject still joins the
// incident of its Outlook conversation (the first 22 bytes of
// Thread-Index); another conversation does not.
func TestOutlookConversation(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, _ := newEngine(t, d, "")
			root := bytes.Repeat([]byte{0x01}, 22)
			idx := func(b []byte) string { return "Thread-Index: " + base64.StdEncoding.EncodeToString(b) }
			reply := append(append([]byte{}, root...), 1, 2, 3, 4, 5)
			other := bytes.Repeat([]byte{0x02}, 22)
			res := ingest(t, eng,
				raw("carol@example.com", "Laptop battery", "o1@x", idx(root)),
				raw("carol@example.com", "Also the charger", "o2@x", idx(reply)),
				raw("carol@example.com", "Monitor", "o3@x", idx(other)))
			if got := outcomes(res); got != "new_incident HD-1; threaded HD-1; new_incident HD-2" {
				t.Fatalf("outcomes: %s (%s)", got, res[1].Reason)
			}
			if !strings.Contains(res[1].Reason, "Outlook conversation") {
				t.Errorf("reason: %s", res[1].Reason)
			}
			res = ingest(t, eng, raw("carol@example.com", "RE: charger", "o4@x", idx(append(reply, 9, 9, 9, 9, 9))))
			if got := outcomes(res); got != "threaded HD-1" {
				t.Errorf("a later batch: %s", got)
			}
			if workflow.ConversationID("not base64!") != "" || workflow.ConversationID(base64.StdEncoding.EncodeToString([]byte("short"))) != "" {
				t.Error("a broken Thread-Index gave a conversation id")
			}
		})
	}
}

// TestTransientErrorIsNotTheMessagesFault: a deadlock or a lost
// connection while a message is processed fails the batch as a whole (to
// be retried later); the message is not quarantined.
func TestTransientErrorIsNotTheMessagesFault(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "")
	workflow.SetFailHook(eng, func(context.Context, *store.Tx, string) error {
		return &pq.Error{Code: "40P01", Message: "deadlock detected"}
	})
	_, err := eng.Ingest(context.Background(), []workflow.Inbound{{Raw: raw("a@example.com", "x", "tr@x"), Source: workflow.Source{Kind: "file"}}}, nil)
	if err == nil || !store.IsTransient(err) {
		t.Fatalf("ingest: %v; want the transient error", err)
	}
	wantRows(t, st, map[string]int{"messages": 0, "quarantine": 0, "incidents": 0})
}

// TestConcurrentWritersKeepCounts: two processes' batches that thread
// into the same incidents at the same time (PostgreSQL: both can write)
// lose no update: the incidents they share are locked until commit.
func TestConcurrentWritersKeepCounts(t *testing.T) {
	u := testutil.URL(t, "postgres")
	mk := func() *workflow.Engine {
		cfg, err := config.Parse("t.toml", []byte(fmt.Sprintf("[helpdesk]\naddress = \"support@example.com\"\nauto_reply_limit = 100000\n[database]\nurl = %q\n", u)))
		if err != nil {
			t.Fatal(err)
		}
		tmpl, _ := templates.Load()
		return workflow.NewEngine(testutil.OpenURL(t, u), cfg, tmpl, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	a, b := mk(), mk()
	ingest(t, a, raw("carol@example.com", "Shared one", "s1@x"), raw("dan@example.com", "Shared two", "s2@x"))
	// Besides the deadlocks that happen, one message in 7 fails as a
	// deadlock victim would: its batch must be retried, not dropped.
	var calls, retries atomic.Int64
	victim := func(context.Context, *store.Tx, string) error {
		if calls.Add(1)%7 == 0 {
			return &pq.Error{Code: "40P01", Message: "deadlock detected (injected)"}
		}
		return nil
	}
	workflow.SetFailHook(a, victim)
	workflow.SetFailHook(b, victim)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for w, eng := range []*workflow.Engine{a, b} {
		wg.Go(func() {
			for i := range n {
				var batch []workflow.Inbound
				for _, parent := range []string{"s1@x", "s2@x"} {
					batch = append(batch, workflow.Inbound{Raw: raw("carol@example.com", "Re: shared", fmt.Sprintf("w%d-%d-%s", w, i, parent), "In-Reply-To: <"+parent+">")})
				}
				// A deadlock victim's batch is retried, as intake would.
				for attempt := 1; ; attempt++ {
					_, err := eng.Ingest(context.Background(), batch, nil)
					if err == nil {
						break
					}
					if !store.IsTransient(err) || attempt == 20 {
						errs <- fmt.Errorf("writer %d, batch %d, attempt %d: %w", w, i, attempt, err)
						return
					}
					retries.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if retries.Load() == 0 {
		t.Fatal("no batch was retried: the injected deadlocks did not happen")
	}
	t.Logf("%d batches retried after a transient error", retries.Load())
	st := testutil.OpenURL(t, u)
	for _, key := range []string{"HD-1", "HD-2"} {
		inc, err := st.IncidentByKey(context.Background(), key)
		if err != nil || inc.MessageCount != 1+2*n {
			t.Errorf("%s: %d messages counted, want %d (%v)", key, inc.MessageCount, 1+2*n, err)
		}
	}
}
