package workflow_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/internal/mailsim"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/mailer"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// e2eEngine is an engine with routingConfig (team "it" without a relay
// key: the default), commands trusting mx.example.com, extra config
// appended, and an SMTP capture to deliver the outbox to.
func e2eEngine(t *testing.T, dialect, extra string) (*workflow.Engine, *store.Store, *mailsim.SMTPServer) {
	t.Helper()
	eng, st := newEngine(t, dialect, "")
	withRouting(t, eng, routingConfig+"[commands]\ntrusted_authserv_ids = [\"mx.example.com\"]\n"+extra)
	srv, err := mailsim.StartSMTP(mailsim.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	eng.Cfg.SMTP.Host, eng.Cfg.SMTP.Port, eng.Cfg.SMTP.Security = "127.0.0.1", srv.Port, "none"
	return eng, st, srv
}

// deliver sends the outbox through the SMTP capture and returns every
// mail captured so far, parsed, with its raw bytes.
func deliver(t *testing.T, eng *workflow.Engine, st *store.Store, srv *mailsim.SMTPServer) []wireMail {
	t.Helper()
	m := mailer.New(st, eng.Cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	st.DB().Get(&n, `SELECT COUNT(*) FROM outbox WHERE status = 'sent'`)
	caps, err := srv.WaitFor(n, 5*time.Second)
	if err != nil {
		t.Fatalf("%v: %d captured, %d sent", err, len(caps), n)
	}
	var out []wireMail
	for _, c := range caps {
		msg, err := mailparse.Parse(c.Data, mailparse.Options{KeepAttachments: true})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, wireMail{msg: msg, raw: c.Data, to: c.To})
	}
	return out
}

type wireMail struct {
	msg *mailparse.Message
	raw []byte
	to  []string
}

// find returns the captured mails whose subject contains subj and that
// went to rcpt.
func find(mails []wireMail, rcpt, subj string) []wireMail {
	var out []wireMail
	for _, m := range mails {
		for _, to := range m.to {
			if strings.EqualFold(to, rcpt) && strings.Contains(m.msg.Subject, subj) {
				out = append(out, m)
			}
		}
	}
	return out
}

func statusOf(t *testing.T, st *store.Store, key string) store.Status {
	t.Helper()
	inc, err := st.IncidentByKey(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return inc.Status
}

// TestTeamConversationEndToEnd: with a team that says nothing about
// relay (the default), the requester's follow-up reaches the members,
// a member's answer reaches the requester (new text, threaded into the
// requester's conversation, signed with the team's display name) and
// the incident becomes open; a #note does not reach the requester.
func TestTeamConversationEndToEnd(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, srv := e2eEngine(t, d, "")
			ingest(t, eng, raw("Carol <carol@example.com>", "Laptop does not boot", "c1@x"))
			ingest(t, eng, raw("carol@example.com", "Re: [HD-1] Laptop does not boot", "c2@x", "In-Reply-To: <c1@x>", ownAR))
			if s := statusOf(t, st, "HD-1"); s != store.StatusNew {
				t.Errorf("status before any response: %s", s)
			}
			ingest(t, eng, []byte("From: Alice <alice.admin@example.com>\r\nTo: support@example.com\r\nSubject: Re: [HD-1] Laptop does not boot\r\n"+
				"Message-ID: <a1@x>\r\n"+ownAR+"\r\n\r\nPlease hold the power button for 30 seconds.\r\n\r\n> old quoted text\r\n"))
			if s := statusOf(t, st, "HD-1"); s != store.StatusOpen {
				t.Errorf("status after the first response: %s, want open", s)
			}
			ingest(t, eng, commandMail("alice.admin@example.com", "#note\r\nthe BIOS battery is probably dead, do not tell her yet\r\n", "a2@x", trustedAR))
			// A #note that is refused (no authentication) is still not relayed.
			ingest(t, eng, commandMail("alice.admin@example.com", "#note\r\nthe BIOS battery again\r\n", "a3@x"))
			ingest(t, eng, raw("bob.admin@example.com", "Re: [HD-1] Laptop does not boot", "b1@x", ownAR))
			mails := deliver(t, eng, st, srv)

			// The requester's follow-up reached both members.
			for _, m := range []string{"alice.admin@example.com", "bob.admin@example.com"} {
				if got := find(mails, m, "[HD-1]"); len(got) < 2 {
					t.Errorf("%s got %d mails about HD-1, want the notice and the follow-up", m, len(got))
				}
			}
			toCarol := find(mails, "carol@example.com", "[HD-1]")
			var relays []wireMail
			for _, m := range toCarol {
				if strings.Contains(m.msg.Text, "wrote about HD-1") {
					relays = append(relays, m)
				}
			}
			if len(relays) != 2 {
				t.Fatalf("carol got %d relays, want 2 (alice's answer and bob's, not the note)", len(relays))
			}
			// Captured in any order (the mailer uses two connections).
			if !strings.Contains(relays[0].msg.Text, "power button") {
				relays[0], relays[1] = relays[1], relays[0]
			}
			r := relays[0]
			if !strings.HasPrefix(r.msg.Text, "IT team wrote about HD-1:\n\nPlease hold the power button for 30 seconds.") ||
				strings.Contains(r.msg.Text, "old quoted text") || strings.Contains(r.msg.Text, "it wrote") {
				t.Errorf("relay text:\n%s", r.msg.Text)
			}
			for _, m := range toCarol {
				if strings.Contains(m.msg.Text, "BIOS") || strings.Contains(m.msg.Text, "#note") {
					t.Errorf("the #note reached the requester:\n%s", m.msg.Text)
				}
			}
			if r.msg.Header("Auto-Submitted") != "auto-generated" {
				t.Errorf("relay Auto-Submitted = %q", r.msg.Header("Auto-Submitted"))
			}
			// Threaded into carol's conversation: her messages and our
			// acknowledgement to her.
			ack := outboxOf(t, st, "ack")[0]
			if got := r.msg.InReplyTo; len(got) != 1 || got[0] != "c2@x" {
				t.Errorf("relay In-Reply-To = %v, want her last message c2@x", got)
			}
			refs := strings.Join(r.msg.References, " ")
			for _, id := range []string{"c1@x", ack.MessageID, "c2@x"} {
				if !strings.Contains(refs, id) {
					t.Errorf("relay References %q lack %s", refs, id)
				}
			}
			// The second relay continues the thread with the first.
			if refs2 := strings.Join(relays[1].msg.References, " "); !strings.Contains(refs2, r.msg.MessageID) {
				t.Errorf("second relay References %q lack the first relay <%s>", refs2, r.msg.MessageID)
			}
		})
	}
}

// TestProviderRelayCarriesItsTicketAndDisplayName: relays to a provider
// whose ticket number is known carry it as its mail wrote it; the
// provider's answer reaches the requester under its display name.
func TestProviderRelayCarriesItsTicketAndDisplayName(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, srv := e2eEngine(t, d, "")
			eng.Cfg.Providers[0].DisplayName = "ACME Services"
			ingest(t, eng, raw("carol@example.com", "Printer jams", "p1@x"))
			ingest(t, eng, raw("noreply@acme-it.example", "[ACME-4711] received: [HD-1] Printer jams", "p2@acme", "Auto-Submitted: auto-replied", acmeAR))
			ingest(t, eng, raw("carol@example.com", "Re: [HD-1] Printer jams", "p3@x", ownAR))
			ingest(t, eng, raw("dave@acme-it.example", "RE: [ACME-4711] Printer jams", "p4@acme", acmeAR))
			mails := deliver(t, eng, st, srv)
			toProv := find(mails, "servicedesk@acme-it.example", "[HD-1]")
			var relay *wireMail
			for i := range toProv {
				if strings.Contains(toProv[i].msg.Text, "wrote about HD-1") {
					relay = &toProv[i]
				}
			}
			if relay == nil {
				t.Fatalf("no relay to the provider: %d mails", len(toProv))
			}
			if relay.msg.Subject != "[HD-1] Printer jams [ACME-4711]" {
				t.Errorf("relay subject to the provider = %q", relay.msg.Subject)
			}
			notice := outboxOf(t, st, "notify_provider")[0]
			if !strings.Contains(strings.Join(relay.msg.References, " "), notice.MessageID) {
				t.Errorf("relay to the provider References %v lack our notice <%s>", relay.msg.References, notice.MessageID)
			}
			toCarol := find(mails, "carol@example.com", "[HD-1]")
			found := false
			for _, m := range toCarol {
				if strings.HasPrefix(m.msg.Text, "ACME Services wrote about HD-1:") {
					found = true
				}
				if strings.Contains(m.msg.Text, "acme wrote") {
					t.Errorf("config name in a mail to the requester:\n%s", m.msg.Text)
				}
			}
			if !found {
				t.Errorf("no relay to carol under the display name")
			}
			// Without display_name: the name capitalised.
			eng.Cfg.Providers[0].DisplayName = ""
			if got := eng.Cfg.DisplayName("acme"); got != "Acme" {
				t.Errorf("default provider display name %q", got)
			}
		})
	}
}

// TestResolutionNotice: #resolve tells the requester, threaded, with what
// the resolver wrote (without the command line, HTML-escaped) and how to
// reopen; the same text is not relayed again; #close after it is silent;
// a second #resolve is not told twice; after a reopen, a new resolution
// is told again; an incident opened by monitoring gets nothing.
func TestResolutionNotice(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, srv := e2eEngine(t, d, "")
			ingest(t, eng, raw("Carol <carol@example.com>", "Laptop does not boot", "r1@x"))
			ingest(t, eng, commandMail("alice.admin@example.com", "#resolve\r\nReplaced the <b>CMOS</b> battery.\r\n", "r2@x", trustedAR))
			if s := statusOf(t, st, "HD-1"); s != store.StatusResolved {
				t.Fatalf("status %s", s)
			}
			ingest(t, eng, commandMail("alice.admin@example.com", "#resolve\r\n", "r3@x", trustedAR))
			ingest(t, eng, commandMail("alice.admin@example.com", "#close\r\n", "r4@x", trustedAR))
			rows := outboxOf(t, st, "resolution")
			if len(rows) != 1 {
				t.Fatalf("%d resolution notices, want 1", len(rows))
			}
			if n := len(outboxOf(t, st, "relay_to_requester")); n != 0 {
				t.Errorf("%d relays besides the resolution notice", n)
			}
			o := rows[0]
			if o.Subject != "[HD-1] Resolved: Laptop does not boot" || o.ToAddrs != "carol@example.com" || o.AutoSubmitted != "auto-generated" ||
				o.InReplyTo != outboxOf(t, st, "ack")[0].MessageID || !strings.Contains(o.Refs, "r1@x") {
				t.Errorf("resolution notice: %+v", o)
			}
			if !strings.Contains(o.TextBody, "has been resolved by IT team.\n\nReplaced the <b>CMOS</b> battery.\n") || strings.Contains(o.TextBody, "#resolve") ||
				!strings.Contains(o.TextBody, "reply to this email") {
				t.Errorf("resolution text:\n%s", o.TextBody)
			}
			if !strings.Contains(o.HTMLBody, "Replaced the &lt;b&gt;CMOS&lt;/b&gt; battery.") {
				t.Errorf("resolution HTML not escaped:\n%s", o.HTMLBody)
			}
			mails := deliver(t, eng, st, srv)
			if got := find(mails, "carol@example.com", "Resolved:"); len(got) != 1 || got[0].msg.Header("Auto-Submitted") != "auto-generated" {
				t.Errorf("resolution on the wire: %d", len(got))
			}

			// Reopened by the requester and resolved again: told again.
			ingest(t, eng, raw("Jürgen <juergen@example.com>", "VPN drops", "v1@x"))
			inc2 := "HD-2"
			ingest(t, eng, bytes.ReplaceAll(commandMail("alice.admin@example.com", "#resolve\r\n", "v2@x", trustedAR), []byte("[HD-1] Printer jams"), []byte("[HD-2] VPN drops")))
			ingest(t, eng, raw("juergen@example.com", "Re: [HD-2] VPN drops", "v3@x", ownAR))
			if s := statusOf(t, st, inc2); s != store.StatusOpen {
				t.Fatalf("HD-2 after the requester's reply: %s", s)
			}
			ingest(t, eng, bytes.ReplaceAll(commandMail("alice.admin@example.com", "#resolve\r\nFor real now.\r\n", "v4@x", trustedAR), []byte("[HD-1] Printer jams"), []byte("[HD-2] VPN drops")))
			var n int
			st.DB().Get(&n, `SELECT COUNT(*) FROM outbox WHERE kind = 'resolution' AND to_addrs LIKE '%juergen@example.com%'`)
			if n != 2 {
				t.Errorf("%d resolution notices for HD-2 after resolve, reopen, resolve; want 2", n)
			}

			// Monitoring: nothing.
			ingest(t, eng, raw("nagios@example.com", "PROBLEM: disk full on db1", "m1@x", "Auto-Submitted: auto-generated"))
			ingest(t, eng, bytes.ReplaceAll(commandMail("alice.admin@example.com", "#resolve\r\nCleaned up.\r\n", "m2@x", trustedAR), []byte("[HD-1] Printer jams"), []byte("[HD-3] PROBLEM")))
			if s := statusOf(t, st, "HD-3"); s != store.StatusResolved {
				t.Fatalf("HD-3: %s", s)
			}
			st.DB().Get(&n, `SELECT COUNT(*) FROM outbox WHERE kind = 'resolution' AND to_addrs LIKE '%nagios%'`)
			if n != 0 {
				t.Errorf("monitoring got a resolution notice")
			}
			v, _ := workflow.ShowIncident(context.Background(), st.Reader, "HD-3")
			if !hasEventView(v.Events, "resolution_not_sent") {
				t.Errorf("no resolution_not_sent event on HD-3: %+v", v.Events)
			}

			// Resolved, reopened and resolved again within one batch (one
			// time for all): two notices.
			ingest(t, eng, raw("erin@example.com", "Mouse broken", "e1@x"))
			hd4 := func(body, id string) []byte {
				return bytes.ReplaceAll(commandMail("alice.admin@example.com", body, id, trustedAR), []byte("[HD-1] Printer jams"), []byte("[HD-4] Mouse broken"))
			}
			ingest(t, eng, hd4("#resolve\r\nNew mouse.\r\n", "e2@x"), raw("erin@example.com", "Re: [HD-4] Mouse broken", "e3@x", ownAR), hd4("#resolve\r\nAnother one.\r\n", "e4@x"))
			st.DB().Get(&n, `SELECT COUNT(*) FROM outbox WHERE kind = 'resolution' AND to_addrs LIKE '%erin@example.com%'`)
			if n != 2 {
				t.Errorf("%d resolution notices for two resolutions in one batch, want 2", n)
			}
		})
	}
}

func hasEventView(evs []workflow.EventView, kind string) bool {
	for _, e := range evs {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// TestAssignNoticeQuotesTheRequest: after #assign the new assignee's
// notice quotes the incident's first message and forwards its
// attachments, not the command mail.
func TestAssignNoticeQuotesTheRequest(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, _ := e2eEngine(t, d, "")
			ingest(t, eng, withAttachments("carol@example.com", "Laptop does not boot", "q1@x", "The screen stays black after the logo.",
				attachment{"photo.png", "image/png", bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 100)}))
			ingest(t, eng, commandMail("alice.admin@example.com", "#assign acme\r\nThis is hardware, ACME please.\r\n", "q2@x", trustedAR))
			rows := outboxOf(t, st, "notify_provider")
			if len(rows) != 1 {
				t.Fatalf("%d provider notices", len(rows))
			}
			o := rows[0]
			if !strings.Contains(o.TextBody, "---- The request ----\n\nThe screen stays black after the logo.") || strings.Contains(o.TextBody, "#assign") ||
				o.InReplyTo != "q1@x" {
				t.Errorf("assign notice:\n%s\nIn-Reply-To %s", o.TextBody, o.InReplyTo)
			}
			if !strings.Contains(o.Attachments, `"filename":"photo.png"`) {
				t.Errorf("assign notice attachments: %s", o.Attachments)
			}
		})
	}
}

type attachment struct {
	name, ctype string
	data        []byte
}

// withAttachments is a multipart/mixed mail with a text part and
// base64 attachments.
func withAttachments(from, subject, id, text string, atts ...attachment) []byte {
	var b bytes.Buffer
	// Authenticated by the border MTA, as staff and employees are.
	fmt.Fprintf(&b, "From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BOUND\r\n\r\n", from, subject, id, ownAR)
	fmt.Fprintf(&b, "--BOUND\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", text)
	for _, a := range atts {
		fmt.Fprintf(&b, "--BOUND\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n", a.ctype, a.name)
		enc := base64.StdEncoding.EncodeToString(a.data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	b.WriteString("--BOUND--\r\n")
	return b.Bytes()
}

// TestAttachmentsForwardedListedAndExtracted: a requester's attachments
// go with the notice to the team and with the relay of a follow-up, on
// the wire, byte for byte, within forward_attachments_max; one over it is
// listed by name and said to be not attached. show --json lists them per
// message, and each can be extracted by its index; a wrong index is a
// clear error.
func TestAttachmentsForwardedListedAndExtracted(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, srv := e2eEngine(t, d, "")
			eng.Cfg.Routing.ForwardAttachmentsMax.Bytes = 5000
			shot := bytes.Repeat([]byte("screenshot-bytes\x00\xff"), 100) // 1,800 bytes
			dump := bytes.Repeat([]byte("D"), 6000)
			ingest(t, eng, withAttachments("carol@example.com", "Laptop does not boot", "w1@x", "See the screenshot.",
				attachment{"screen shot.png", "image/png", shot}, attachment{"memory.dmp", "application/octet-stream", dump}))
			log := []byte("line 1\nline 2\n")
			ingest(t, eng, withAttachments("carol@example.com", "Re: [HD-1] Laptop does not boot", "w2@x", "And the log.",
				attachment{"boot.log", "text/plain", log}))
			mails := deliver(t, eng, st, srv)
			got := find(mails, "alice.admin@example.com", "[HD-1]")
			if len(got) != 2 {
				t.Fatalf("alice got %d mails, want the notice and the relay", len(got))
			}
			n, r := got[0].msg, got[1].msg
			if strings.Contains(n.Text, "wrote about") {
				n, r = r, n
			}
			if len(n.Attachments) != 1 || n.Attachments[0].Filename != "screen shot.png" || !bytes.Equal(n.Attachments[0].Data, shot) ||
				n.Attachments[0].ContentType != "image/png" {
				t.Errorf("notice attachments on the wire: %s", attSummary(n.Attachments))
			}
			if !strings.Contains(n.Text, "screen shot.png (image/png, 1.8 kB)") ||
				!strings.Contains(n.Text, "memory.dmp (application/octet-stream, 6.0 kB): not attached: over the 5.0 kB limit") {
				t.Errorf("notice does not list the attachments:\n%s", n.Text)
			}
			if len(r.Attachments) != 1 || r.Attachments[0].Filename != "boot.log" || !bytes.Equal(r.Attachments[0].Data, log) {
				t.Errorf("relay attachments on the wire: %s", attSummary(r.Attachments))
			}

			v, err := workflow.ShowIncident(context.Background(), st.Reader, "HD-1")
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(v)
			for _, want := range []string{
				`"attachments":[{"index":1,"filename":"screen shot.png","content_type":"image/png","size":1800},{"index":2,"filename":"memory.dmp","content_type":"application/octet-stream","size":6000}]`,
				`"attachments":[{"index":3,"filename":"boot.log","content_type":"text/plain","size":14}]`,
			} {
				if !bytes.Contains(js, []byte(want)) {
					t.Errorf("show --json lacks %s", want)
				}
			}
			for i, want := range [][]byte{shot, dump, log} {
				a, data, err := workflow.ExtractAttachment(context.Background(), st.Reader, workflow.ParseOptions(eng.Cfg), "HD-1", i+1)
				if err != nil || !bytes.Equal(data, want) || a.Index != i+1 {
					t.Errorf("extract %d: %+v %v (%d bytes)", i+1, a, err, len(data))
				}
			}
			if _, _, err := workflow.ExtractAttachment(context.Background(), st.Reader, workflow.ParseOptions(eng.Cfg), "HD-1", 4); err == nil ||
				!strings.Contains(err.Error(), "HD-1 has no attachment 4: its attachments are numbered 1 to 3") {
				t.Errorf("wrong index: %v", err)
			}
			// A stored message that no longer holds the attachment a row
			// refers to: the row fails, naming it; nothing else is sent.
			ingest(t, eng, withAttachments("carol@example.com", "Re: [HD-1] Laptop does not boot", "w3@x", "One more.",
				attachment{"more.txt", "text/plain", []byte("more")}))
			if _, err := st.DB().Exec(`UPDATE message_raw SET raw = $1 WHERE message_pk = (SELECT id FROM messages WHERE message_id = 'w3@x')`,
				[]byte("From: carol@example.com\r\nSubject: x\r\n\r\nno attachment\r\n")); err != nil {
				t.Fatal(err)
			}
			m := mailer.New(st, eng.Cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if _, err := m.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			var status, lastErr string
			st.DB().QueryRow(`SELECT status, last_error FROM outbox WHERE kind = 'relay_to_assignee' ORDER BY id DESC LIMIT 1`).Scan(&status, &lastErr)
			if status != store.OutboxFailed || !strings.Contains(lastErr, `attachment "more.txt"`) {
				t.Errorf("relay whose attachment is gone: %s %q", status, lastErr)
			}
		})
	}
}

// TestShowDecodesNames: outgoing mail to a name with non-ASCII letters,
// and the events that name it, are shown decoded.
func TestShowDecodesNames(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, srv := e2eEngine(t, d, "")
			ingest(t, eng, raw("=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.com>", "Laptop does not boot", "n1@x"))
			ingest(t, eng, commandMail("alice.admin@example.com", "#resolve\r\n", "n2@x", trustedAR))
			deliver(t, eng, st, srv) // the "sent" events name the recipients
			v, err := workflow.ShowIncident(context.Background(), st.Reader, "HD-1")
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(v)
			if bytes.Contains(js, []byte("=?utf-8?")) {
				t.Errorf("show has encoded words: %s", js)
			}
			// Automatic mail goes to the bare address (a display name
			// from incoming mail is not repeated); the name is decoded
			// where it is shown.
			if !bytes.Contains(js, []byte(`"from":"Jürgen Müller \u003cjuergen@example.com\u003e"`)) ||
				!bytes.Contains(js, []byte(`Requester: Jürgen Müller \u003cjuergen@example.com\u003e`)) ||
				!bytes.Contains(js, []byte(`"to":"juergen@example.com"`)) {
				t.Errorf("show does not name Jürgen: %s", js)
			}
		})
	}
}

// TestAdminCommands: the administrator's commands on the host run the
// email commands' code (the new assignee is notified, the requester told
// of the resolution), are on the audit trail as admin:USER, and refuse
// bad arguments and unknown incidents.
func TestAdminCommands(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st, _ := e2eEngine(t, d, "")
			ctx := context.Background()
			ingest(t, eng, raw("carol@example.com", "Laptop does not boot", "h1@x"))
			steps := []struct {
				cmd, text, want string
			}{
				{"priority", "P1", "HD-1 priority P3 → P1"},
				{"assign", "acme", "HD-1 assigned it → acme"},
				{"note", "called her", "HD-1 internal note: called her"},
				{"resolve", "Replaced the disk.", "HD-1 new → resolved"},
				{"close", "", "HD-1 resolved → closed"},
				{"reopen", "", "HD-1 closed → open"},
			}
			for _, s := range steps {
				got, err := eng.Admin(ctx, "HD-1", s.cmd, s.text, "admin:root")
				if err != nil || got != s.want {
					t.Errorf("%s %s: %q %v, want %q", s.cmd, s.text, got, err, s.want)
				}
			}
			inc, _ := st.IncidentByKey(ctx, "HD-1")
			if inc.Priority != "P1" || inc.Assignee != "acme" || inc.Status != store.StatusOpen {
				t.Errorf("incident: %+v", inc)
			}
			if rows := outboxOf(t, st, "notify_provider"); len(rows) != 1 || !strings.Contains(rows[0].TextBody, "assigned by admin:root") {
				t.Errorf("provider notice: %+v", rows)
			}
			if rows := outboxOf(t, st, "resolution"); len(rows) != 1 || !strings.Contains(rows[0].TextBody, "Replaced the disk.") {
				t.Errorf("resolution notice: %+v", rows)
			}
			v, _ := workflow.ShowIncident(ctx, st.Reader, "HD-1")
			n := 0
			for _, e := range v.Events {
				if e.Kind == "command" && e.Actor == "admin:root" {
					n++
				}
			}
			if n != len(steps) {
				t.Errorf("%d command events by admin:root, want %d: %+v", n, len(steps), v.Events)
			}
			_, err := eng.Admin(ctx, "HD-1", "priority", "urgent", "admin:root")
			var refused *workflow.RefusedError
			if !errors.As(err, &refused) || !strings.Contains(err.Error(), `bad argument "urgent": want P1 to P5`) {
				t.Errorf("bad priority: %v", err)
			}
			if _, err := eng.Admin(ctx, "HD-1", "assign", "nobody", "admin:root"); !errors.As(err, &refused) {
				t.Errorf("bad assignee: %v", err)
			}
			if _, err := eng.Admin(ctx, "HD-9", "close", "", "admin:root"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown incident: %v", err)
			}
			if _, err := eng.Admin(ctx, "HD-1", "category", "x", "admin:root"); !errors.As(err, &refused) {
				t.Errorf("not an administrator command: %v", err)
			}
		})
	}
}

func attSummary(atts []mailparse.Attachment) string {
	var parts []string
	for _, a := range atts {
		parts = append(parts, fmt.Sprintf("%s %s %d bytes", a.Filename, a.ContentType, len(a.Data)))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}
