package mailbox_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/mailbox"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
)

func eachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

func TestEndToEnd(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, harnessOpts{})
		first := mail{from: "Alice <alice@example.com>", subject: "Printer jams", body: "The printer jams.", id: "a1@example.com"}
		h.deliver(first.bytes())
		h.once()

		inc := h.incident("HD-1")
		if inc.Requester != "alice@example.com" || inc.Status != store.StatusNew || inc.Subject != "Printer jams" {
			t.Fatalf("incident = %+v", inc)
		}
		sent := h.smtp.Captured()
		if len(sent) != 1 {
			t.Fatalf("%d mails sent, want 1 acknowledgement", len(sent))
		}
		ack, err := mailparse.Parse(sent[0].Data, mailparse.DefaultOptions)
		if err != nil {
			t.Fatal(err)
		}
		if ack.Subject != "[HD-1] Printer jams" || sent[0].To[0] != "alice@example.com" ||
			ack.Header("Auto-Submitted") != "auto-replied" || len(ack.InReplyTo) != 1 || ack.InReplyTo[0] != "a1@example.com" ||
			!strings.HasPrefix(ack.MessageID, "hd-1.") || ack.Header("X-Helpdeskd-Loop") != helpdesk {
			t.Fatalf("acknowledgement: subject %q to %v auto %q irt %v id %q", ack.Subject, sent[0].To, ack.Header("Auto-Submitted"), ack.InReplyTo, ack.MessageID)
		}
		for uid, flags := range h.mailboxState("INBOX") {
			if !hasFlag(flags, imap.FlagSeen) {
				t.Fatalf("uid %d not flagged \\Seen after commit", uid)
			}
		}

		// A reply through In-Reply-To only (the subject lost its tag).
		h.deliver(mail{from: "alice@example.com", subject: "Re: printer", body: "Still broken.", id: "a2@example.com", inReplyTo: ack.MessageID}.bytes())
		// A reply with only the tag, no References.
		h.deliver(mail{from: "alice@example.com", subject: "RE: [HD-1] Printer jams", body: "Model HP 4000.", id: "a3@example.com"}.bytes())
		// The first message again, under a new UID.
		h.deliver(first.bytes())
		// An out-of-office reply to the acknowledgement.
		h.deliver(mail{from: "alice@example.com", subject: "Automatic reply: [HD-1] Printer jams", body: "I am away.", id: "a4@example.com",
			inReplyTo: ack.MessageID, headers: []string{"Auto-Submitted: auto-replied"}}.bytes())
		h.once()

		if n := h.count("incidents"); n != 1 {
			t.Fatalf("%d incidents, want 1", n)
		}
		if n := h.count("messages"); n != 4 {
			t.Fatalf("%d messages stored, want 4 (first, two replies, out-of-office)", n)
		}
		if n := len(h.smtp.Captured()); n != 1 {
			t.Fatalf("%d mails sent, want still 1: nothing answers replies or the out-of-office", n)
		}
		msgs, _ := h.st.IncidentMessages(context.Background(), inc.ID)
		reasons := map[string]string{}
		for _, m := range msgs {
			reasons[m.MessageID] = m.ThreadReason
		}
		if !strings.HasPrefix(reasons["a2@example.com"], "reply to our message") || reasons["a3@example.com"] != "subject tag [HD-1]" {
			t.Fatalf("thread reasons = %v", reasons)
		}
		if got := h.incident("HD-1"); got.Status != store.StatusNew {
			t.Fatalf("status after an out-of-office = %s, want unchanged", got.Status)
		}

		// A second run changes nothing.
		st := h.once()
		if st.Fetched != 0 || h.count("messages") != 4 || len(h.smtp.Captured()) != 1 || h.count("events") == 0 {
			t.Fatalf("second run: fetched %d, messages %d, sent %d", st.Fetched, h.count("messages"), len(h.smtp.Captured()))
		}
		events := h.count("events")

		// The same UIDs fetched again (checkpoint lost): one record each.
		if _, err := h.st.DB().Exec(`UPDATE mailbox_state SET last_uid = 0`); err != nil {
			t.Fatal(err)
		}
		st = h.once()
		if st.Fetched != 5 || st.Outcomes["duplicate"] != 5 {
			t.Fatalf("refetch: fetched %d outcomes %v; want 5 duplicates", st.Fetched, st.Outcomes)
		}
		if h.count("messages") != 4 || h.count("incidents") != 1 || len(h.smtp.Captured()) != 1 || h.count("events") != events {
			t.Fatalf("refetch changed records: messages %d incidents %d sent %d", h.count("messages"), h.count("incidents"), len(h.smtp.Captured()))
		}
	})
}

func TestProcessedFolderMoveWithoutMOVECapability(t *testing.T) {
	for _, rev1 := range []bool{false, true} {
		name := "MOVE"
		if rev1 {
			name = "COPY+STORE fallback"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, "sqlite", harnessOpts{processed: "Processed", rev1Only: rev1})
			for i := 0; i < 4; i++ {
				h.deliver(mail{from: "bob@example.com", subject: "VPN down", body: "x", id: "v" + string(rune('a'+i)) + "@example.com"}.bytes())
			}
			h.once()
			if n := h.count("messages"); n != 4 {
				t.Fatalf("%d messages, want 4", n)
			}
			moved := h.mailboxState("Processed")
			if len(moved) != 4 {
				t.Fatalf("%d messages in Processed, want 4", len(moved))
			}
			left := h.mailboxState("INBOX")
			for uid, fl := range left {
				// Without UIDPLUS the copies stay flagged \Deleted for the
				// owner to expunge; never a bare EXPUNGE.
				if !rev1 || !hasFlag(fl, imap.FlagDeleted) {
					t.Fatalf("uid %d still in INBOX with flags %v", uid, fl)
				}
			}
		})
	}
}

func TestMoveToMissingFolderLosesNothing(t *testing.T) {
	h := newHarness(t, "sqlite", harnessOpts{processed: "", rev1Only: true})
	// The server creates "Archive" but COPY names "Archive/": COPY fails
	// with TRYCREATE, as it does for a folder that cannot be created.
	h.cfg.IMAP.ProcessedFolder = "Archive/"
	h.deliver(mail{from: "bob@example.com", subject: "keep me", body: "x", id: "k@example.com"}.bytes())
	if _, err := h.intake().RunOnce(context.Background()); err == nil {
		t.Fatal("move to an impossible folder reported success")
	}
	if n := len(h.mailboxState("INBOX")); n != 1 {
		t.Fatalf("INBOX holds %d messages after a failed move, want 1", n)
	}
	if n := h.count("messages"); n != 1 {
		t.Fatalf("%d messages stored, want 1 (committed before the move)", n)
	}
}

func TestCrashWindows(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		for _, point := range []string{"before commit", "after commit, before flag"} {
			t.Run(point, func(t *testing.T) {
				h := newHarness(t, dialect, harnessOpts{})
				for i := 0; i < 5; i++ {
					h.deliver(mail{from: "carol@example.com", subject: "Crash test " + string(rune('A'+i)), body: "x", id: string(rune('a'+i)) + "@c.example"}.bytes())
				}
				ctx, kill := context.WithCancel(context.Background())
				in := h.intake()
				if point == "before commit" {
					in.SetHooks(kill, nil)
				} else {
					in.SetHooks(nil, kill)
				}
				_, err := in.RunOnce(ctx)
				if err == nil {
					t.Fatal("the killed run reported success")
				}
				committed := h.count("messages")
				if point == "before commit" && committed != 0 {
					t.Fatalf("%d messages committed by a run killed before its commit", committed)
				}
				if point != "before commit" && committed != 2 {
					t.Fatalf("%d messages committed, want the first batch of 2", committed)
				}
				// Restart.
				st := h.once()
				if n := h.count("messages"); n != 5 {
					t.Fatalf("after restart %d messages, want 5", n)
				}
				if n := h.count("incidents"); n != 5 {
					t.Fatalf("after restart %d incidents, want 5", n)
				}
				if point != "before commit" && st.Finished < 5 {
					t.Fatalf("restart finished %d flags, want the 2 pending plus 3 new", st.Finished)
				}
				for uid, fl := range h.mailboxState("INBOX") {
					if !hasFlag(fl, imap.FlagSeen) {
						t.Fatalf("uid %d never flagged", uid)
					}
				}
				if n := len(h.smtp.Captured()); n != 5 {
					t.Fatalf("%d acknowledgements, want 5", n)
				}
			})
		}
	})
}

func TestDisconnectMidFetchLosesNothing(t *testing.T) {
	if raceDetector {
		t.Skip("go-imap beta.8 races internally when a FETCH literal is cut; .ci/run runs this test without -race")
	}
	h := newHarness(t, "sqlite", harnessOpts{})
	for i := 0; i < 6; i++ {
		h.deliver(mail{from: "dan@example.com", subject: "Disconnect " + string(rune('A'+i)), body: strings.Repeat("long body ", 500), id: string(rune('a'+i)) + "@d.example"}.bytes())
	}
	p := newProxy(t, h.imap.Addr)
	h.cfg.IMAP.Port = mustAtoi(p.port())
	p.cutAfter(9000) // greeting, login, select, search, part of the first fetch
	if _, err := h.intake().RunOnce(context.Background()); err == nil {
		t.Fatal("a run whose connection was cut reported success")
	}
	p.cutAfter(-1)
	h.once()
	if n := h.count("messages"); n != 6 {
		t.Fatalf("%d messages after reconnect, want 6", n)
	}
	if n := h.count("incidents"); n != 6 {
		t.Fatalf("%d incidents, want 6", n)
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// Greets, then never answers a command.
			c.Write([]byte("* OK IMAP4rev1 ready\r\n"))
			go func() {
				buf := make([]byte, 1024)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	h := newHarness(t, "sqlite", harnessOpts{timeout: "1s"})
	h.cfg.IMAP.Port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan error, 1)
	go func() { _, err := h.intake().RunOnce(context.Background()); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "did not answer") {
			t.Fatalf("silent server: %v, want a timeout error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("intake hung on a silent server")
	}
}

// TestTwoRunsNeverReadTheMailboxAtOnce starts two intake runs at once
// and records, through a proxy in front of the IMAP server, when each
// one's IMAP session began and ended: the sessions must not overlap (the
// second waited for the first's lock). The counts alone would hold
// without the lock, since the unique keys drop the second copy.
func TestTwoRunsNeverReadTheMailboxAtOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		rec := newSessionRecorder(t)
		h := newHarness(t, dialect, harnessOpts{imapPort: rec.port()})
		rec.setTarget(h.imap.Addr)
		for i := 0; i < 10; i++ {
			h.deliver(mail{from: "eve@example.com", subject: "Parallel " + string(rune('A'+i)), body: "x", id: string(rune('a'+i)) + "@e.example"}.bytes())
		}
		errs := make(chan error, 2)
		for i := 0; i < 2; i++ {
			go func() { _, err := h.intake().RunOnce(context.Background()); errs <- err }()
		}
		for i := 0; i < 2; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		ss := rec.sessions()
		if len(ss) != 2 {
			t.Fatalf("%d IMAP sessions, want 2", len(ss))
		}
		sort.Slice(ss, func(i, j int) bool { return ss[i].start.Before(ss[j].start) })
		if !ss[1].start.After(ss[0].end) {
			t.Fatalf("the two runs read the mailbox at once: sessions %s-%s and %s-%s overlap",
				ss[0].start.Format("15:04:05.000"), ss[0].end.Format("15:04:05.000"),
				ss[1].start.Format("15:04:05.000"), ss[1].end.Format("15:04:05.000"))
		}
		if n := h.count("messages"); n != 10 {
			t.Fatalf("%d messages, want 10", n)
		}
		if n := h.count("incidents"); n != 10 {
			t.Fatalf("%d incidents, want 10: the same mail was processed twice", n)
		}
	})
}

// sessionRecorder forwards TCP connections to an IMAP server and records
// when each began (accepted) and ended (the client closed its side). It
// holds the server's greeting back a little so that sessions that run at
// the same time certainly overlap.
type sessionRecorder struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	open   int // accepted, not ended
	done   []session
}

type session struct{ start, end time.Time }

func newSessionRecorder(t *testing.T) *sessionRecorder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &sessionRecorder{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.open++
			r.mu.Unlock()
			go r.serve(c, time.Now())
		}
	}()
	return r
}

func (r *sessionRecorder) port() string { return fmt.Sprint(r.ln.Addr().(*net.TCPAddr).Port) }

func (r *sessionRecorder) setTarget(addr string) { r.mu.Lock(); r.target = addr; r.mu.Unlock() }

func (r *sessionRecorder) serve(c net.Conn, start time.Time) {
	defer c.Close()
	r.mu.Lock()
	target := r.target
	r.mu.Unlock()
	if s, err := net.Dial("tcp", target); err == nil {
		go func() {
			time.Sleep(200 * time.Millisecond)
			io.Copy(c, s)
		}()
		io.Copy(s, c)
		s.Close()
	}
	end := time.Now()
	r.mu.Lock()
	r.open--
	r.done = append(r.done, session{start, end})
	r.mu.Unlock()
}

// sessions waits (up to 5 s) until every accepted session has ended and
// returns them.
func (r *sessionRecorder) sessions() []session {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		if r.open == 0 || time.Now().After(deadline) {
			defer r.mu.Unlock()
			return append([]session(nil), r.done...)
		}
		r.mu.Unlock()
	}
}

func TestSMTPTemporaryThenPermanentFailure(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, harnessOpts{})
		h.smtp.Fail(func(string) *smtp.SMTPError {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		})
		h.deliver(mail{from: "fay@example.com", subject: "Screen flickers", body: "x", id: "f1@example.com"}.bytes())
		h.once()
		if n := len(h.smtp.Captured()); n != 0 {
			t.Fatalf("%d sent during a 4xx", n)
		}
		var o store.Outbox
		if err := h.st.DB().Get(&o, `SELECT * FROM outbox`); err != nil {
			t.Fatal(err)
		}
		if o.Status != store.OutboxQueued || !strings.Contains(o.LastError, "451") {
			t.Fatalf("after 4xx: status %s error %q", o.Status, o.LastError)
		}
		h.smtp.Fail(nil)
		// Not due yet: the backoff holds it.
		if st, _ := h.mailer.Flush(context.Background()); st.Sent != 0 {
			t.Fatal("retried before its backoff")
		}
		h.mailer.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		if st, err := h.mailer.Flush(context.Background()); err != nil || st.Sent != 1 {
			t.Fatalf("retry: %+v %v", st, err)
		}
		h.mailer.Flush(context.Background())
		if n := len(h.smtp.Captured()); n != 1 {
			t.Fatalf("%d deliveries, want exactly 1", n)
		}

		// 5xx: recorded on the incident as failed, never retried.
		h.smtp.Fail(func(string) *smtp.SMTPError {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		})
		h.deliver(mail{from: "gone@example.com", subject: "Mouse broken", body: "x", id: "g1@example.com"}.bytes())
		h.once()
		inc := h.incident("HD-2")
		evs, _ := h.st.IncidentEvents(context.Background(), inc.ID)
		found := false
		for _, e := range evs {
			found = found || (e.Kind == "delivery_failed" && strings.Contains(e.Detail, "550"))
		}
		if !found {
			t.Fatalf("no delivery_failed event with the 550 on %s: %+v", inc.Key, evs)
		}
		h.smtp.Fail(nil)
		h.mailer.Flush(context.Background())
		if n := len(h.smtp.Captured()); n != 1 {
			t.Fatalf("a permanently failed mail was sent later (%d deliveries)", n)
		}
	})
}

func TestSMTPServerDown(t *testing.T) {
	h := newHarness(t, "sqlite", harnessOpts{})
	h.deliver(mail{from: "hal@example.com", subject: "Keyboard", body: "x", id: "h1@example.com"}.bytes())
	h.smtp.Close()
	if _, err := h.intake().RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := h.mailer.Flush(context.Background())
	if err != nil || st.Retried != 1 {
		t.Fatalf("flush with the server down: %+v %v; want one retry later", st, err)
	}
	var status string
	h.st.DB().Get(&status, `SELECT status FROM outbox`)
	if status != store.OutboxQueued {
		t.Fatalf("outbox status %s, want queued", status)
	}
}

func TestUIDValidityChangeRescansWithoutDuplicates(t *testing.T) {
	h := newHarness(t, "sqlite", harnessOpts{})
	h.deliver(mail{from: "ivy@example.com", subject: "Monitor", body: "x", id: "i1@example.com"}.bytes())
	h.once()
	// The server renumbers the mailbox (a restore, a migration): the
	// stored UIDVALIDITY no longer matches, and the old message shows up
	// unseen again beside a new one.
	if _, err := h.st.DB().Exec(`UPDATE mailbox_state SET uidvalidity = uidvalidity + 100`); err != nil {
		t.Fatal(err)
	}
	h.unsee()
	h.deliver(mail{from: "ivy@example.com", subject: "Keyboard", body: "x", id: "i2@example.com"}.bytes())
	st, err := h.intake().RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Rescan || st.Outcomes["duplicate"] != 1 || st.Outcomes["new_incident"] != 1 {
		t.Fatalf("rescan %v outcomes %v, want a rescan with 1 duplicate and 1 new", st.Rescan, st.Outcomes)
	}
	if n := h.count("incidents"); n != 2 {
		t.Fatalf("%d incidents, want 2", n)
	}
}

func mustAtoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestParallelDeliveryEachOnce: several SMTP connections share the
// outbox; every acknowledgement goes out exactly once and is marked sent.
// (A server that cannot be reached at all: TestSMTPServerDown.)
func TestParallelDeliveryEachOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, harnessOpts{})
		h.cfg.SMTP.Connections = 4
		h.mailer.Batch = 25
		const n = 60
		for i := range n {
			h.deliver(mail{from: fmt.Sprintf("user%d@example.com", i), subject: fmt.Sprintf("Problem %d", i), body: "x", id: fmt.Sprintf("p%d@example.com", i)}.bytes())
		}
		h.once()
		got := h.smtp.Captured()
		seen := map[string]int{}
		for _, c := range got {
			m, err := mailparse.Parse(c.Data, mailparse.DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			seen[m.MessageID]++
		}
		if len(got) != n || len(seen) != n {
			t.Fatalf("%d deliveries of %d distinct messages, want %d of %d", len(got), len(seen), n, n)
		}
		var sent int
		if err := h.st.DB().Get(&sent, `SELECT COUNT(*) FROM outbox WHERE status = 'sent'`); err != nil {
			t.Fatal(err)
		}
		if sent != n {
			t.Fatalf("%d outbox rows marked sent, want %d", sent, n)
		}
		if st, err := h.mailer.Flush(context.Background()); err != nil || st.Sent != 0 || len(h.smtp.Captured()) != n {
			t.Fatalf("second flush: %+v %v, %d deliveries", st, err, len(h.smtp.Captured()))
		}
	})
}

// TestRoutedRequestReachesProvider: through real IMAP and SMTP, a request
// that a route sends to a provider reaches the provider's intake address,
// tagged and with Reply-To the helpdesk. The provider's system answers
// with its ticket number and our tag, later with only its number: both
// thread into the incident; the agent's reply is relayed to the requester
// and stamps the first response; the requester's answer is relayed back.
func TestRoutedRequestReachesProvider(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, harnessOpts{extra: `
[[team]]
name = "it"
members = ["alice.admin@example.com"]
[[provider]]
name = "acme"
domains = ["acme-it.example"]
intake = "servicedesk@acme-it.example"
ticket_pattern = 'ACME-\d+'
relay = true
[[route]]
name = "printing"
keywords = ["printer"]
assign = "acme"
[routing]
default_assignee = "it"
[commands]
trusted_authserv_ids = ["mx.example.com"]
`})
		border := "Received: from out.example.net (out.example.net [192.0.2.7]) by mx.example.com with ESMTPS; Mon, 23 Nov 2026 09:00:00 +0000"
		acmeAR := "Authentication-Results: mx.example.com; dkim=pass header.d=acme-it.example\r\n" + border
		h.deliver(mail{from: "Carol <carol@example.com>", subject: "Printer jams", body: "On floor 2.", id: "c1@example.com"}.bytes())
		h.once()
		var toProvider *mailparse.Message
		for _, c := range h.smtp.Captured() {
			if c.To[0] == "servicedesk@acme-it.example" {
				m, err := mailparse.Parse(c.Data, mailparse.DefaultOptions)
				if err != nil {
					t.Fatal(err)
				}
				toProvider = m
			}
		}
		if toProvider == nil || toProvider.Subject != "[HD-1] Printer jams" || len(toProvider.ReplyTo) != 1 ||
			toProvider.ReplyTo[0].Addr != helpdesk || !strings.Contains(toProvider.Text, "On floor 2.") {
			t.Fatalf("mail to the provider: %+v (captured %d)", toProvider, len(h.smtp.Captured()))
		}
		sent := len(h.smtp.Captured())
		h.deliver(mail{from: "noreply@acme-it.example", subject: "[ACME-4711] received: [HD-1] Printer jams", body: "We have your request.",
			id: "p0@acme-it.example", inReplyTo: toProvider.MessageID, headers: []string{"Auto-Submitted: auto-replied", acmeAR}}.bytes())
		h.deliver(mail{from: "Dave <agent@acme-it.example>", subject: "[ACME-4711] Technician booked", body: "A technician comes on Tuesday.",
			id: "p1@acme-it.example", headers: []string{acmeAR}}.bytes())
		st := h.once()
		if st.Outcomes["threaded"] != 2 {
			t.Fatalf("provider mail: %v", st.Outcomes)
		}
		var relayed *mailparse.Message
		for _, c := range h.smtp.Captured()[sent:] {
			if c.To[0] == "carol@example.com" {
				relayed, _ = mailparse.Parse(c.Data, mailparse.DefaultOptions)
			}
		}
		if len(h.smtp.Captured()) != sent+1 || relayed == nil || !strings.Contains(relayed.Text, "A technician comes on Tuesday.") ||
			relayed.Subject != "[HD-1] Printer jams" || strings.Contains(string(h.smtp.Captured()[sent].Data), "agent@acme-it.example") {
			t.Fatalf("relay to the requester: %+v (%d mails)", relayed, len(h.smtp.Captured())-sent)
		}
		if inc := h.incident("HD-1"); inc.FirstResponseAt == nil {
			t.Error("the agent's reply did not stamp the first response")
		}
		sent = len(h.smtp.Captured())
		h.deliver(mail{from: "carol@example.com", subject: "Re: [HD-1] Printer jams", body: "Tuesday is fine.", id: "c2@example.com",
			inReplyTo: relayed.MessageID, headers: []string{"Authentication-Results: mx.example.com; dkim=pass header.d=example.com", border}}.bytes())
		h.once()
		got := h.smtp.Captured()[sent:]
		if len(got) != 1 || got[0].To[0] != "servicedesk@acme-it.example" || !strings.Contains(string(got[0].Data), "Tuesday is fine.") {
			t.Fatalf("relay to the provider: %d mails %+v", len(got), got)
		}
		if inc := h.incident("HD-1"); inc.Assignee != "acme" || inc.MessageCount != 4 {
			t.Fatalf("HD-1 = %+v", inc)
		}
	})
}

// TestProblemThreadOverIMAPAndSMTP: a repeat that reaches the threshold
// sends the problem contact a [PRB-1] notice through the SMTP server, with
// the headers go-mail actually wrote; the contact's reply to it, built as
// a mail client builds one from those headers, comes back through IMAP,
// joins the problem and records the root cause and workaround.
func TestProblemThreadOverIMAPAndSMTP(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, harnessOpts{extra: `
[[team]]
name = "it"
members = ["alice.admin@example.com"]
problem_contact = "it-lead@example.com"
[routing]
default_assignee = "it"
[problems]
threshold = 2
[commands]
trusted_authserv_ids = ["mx.example.com"]
`})
		h.deliver(mail{from: "Carol <carol@example.com>", subject: "Outlook crashes on start", body: "Since today.", id: "c1@example.com"}.bytes())
		h.deliver(mail{from: "Dan <dan@example.com>", subject: "outlook keeps crashing when starting", body: "Me too.", id: "d1@example.com"}.bytes())
		h.once()
		var notice, ackDan *mailparse.Message
		for _, c := range h.smtp.Captured() {
			m, err := mailparse.Parse(c.Data, mailparse.DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.To[0] == "it-lead@example.com":
				notice = m
			case c.To[0] == "dan@example.com":
				ackDan = m
			}
		}
		if notice == nil || !strings.HasPrefix(notice.Subject, "[PRB-1] ") || !strings.HasPrefix(notice.MessageID, "prb-1.") ||
			len(notice.References) == 0 || notice.References[0] != "prb-1@example.com" || len(notice.InReplyTo) != 1 {
			t.Fatalf("problem notice as sent: %+v", notice)
		}
		if ackDan == nil || !strings.Contains(ackDan.Text, "known problem") || !strings.Contains(ackDan.Text, "PRB-1") {
			t.Fatalf("acknowledgement of the repeat: %+v", ackDan)
		}
		refs := strings.Join(append(append([]string{}, notice.References...), notice.MessageID), "> <")
		h.deliver(mail{from: "Lee <it-lead@example.com>", subject: "RE: " + notice.Subject, id: "l1@example.com",
			inReplyTo: notice.MessageID, references: "<" + refs + ">",
			headers: []string{"Authentication-Results: mx.example.com; dkim=pass header.d=example.com",
				"Received: from out.example.com (out.example.com [192.0.2.7]) by mx.example.com with ESMTPS; Mon, 23 Nov 2026 09:00:00 +0000"},
			body: "#root-cause the 2611 update broke the profile cache\r\n#workaround outlook.exe /resetnavpane\r\n\r\nLee"}.bytes())
		if st := h.once(); st.Outcomes["threaded"] != 1 {
			t.Fatalf("the reply: %v", st.Outcomes)
		}
		pr, err := h.st.ProblemByKey(context.Background(), "PRB-1")
		if err != nil {
			t.Fatal(err)
		}
		if pr.RootCause != "the 2611 update broke the profile cache" || pr.Workaround != "outlook.exe /resetnavpane" || pr.IncidentCount != 2 {
			t.Fatalf("PRB-1 after the reply: %+v", pr)
		}
		for _, key := range []string{"HD-1", "HD-2"} {
			if inc := h.incident(key); inc.MessageCount != 1 {
				t.Errorf("%s has %d messages: the reply went to an incident", key, inc.MessageCount)
			}
		}
	})
}

// shortBodyProxy forwards IMAP to target and, while armed, shortens the
// BODY[] literal of one UID in FETCH responses to keep bytes, leaving
// RFC822.SIZE as the server sent it: a server that loses a message's
// text while it is being fetched.
type shortBodyProxy struct {
	ln     net.Listener
	target string
	uid    string
	keep   int
	armed  atomic.Bool
	hits   atomic.Int32
}

var literalAtEnd = regexp.MustCompile(`\{(\d+)\}\r\n$`)

func newShortBodyProxy(t *testing.T, target string, uid imap.UID, keep int) *shortBodyProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &shortBodyProxy{ln: ln, target: target, uid: fmt.Sprint(uid), keep: keep}
	p.armed.Store(true)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *shortBodyProxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { io.Copy(s, c); s.Close() }()
	r := bufio.NewReader(s)
	w := bufio.NewWriter(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		m := literalAtEnd.FindStringSubmatch(line)
		if m == nil {
			w.WriteString(line)
			if r.Buffered() == 0 {
				if w.Flush() != nil {
					return
				}
			}
			continue
		}
		n, _ := strconv.Atoi(m[1])
		keep := n
		if p.armed.Load() && strings.Contains(line, "BODY[] {") && regexp.MustCompile(`[( ]UID `+p.uid+`[ )]`).MatchString(line) {
			keep = min(p.keep, n)
			p.hits.Add(1)
			line = line[:len(line)-len(m[0])] + fmt.Sprintf("{%d}\r\n", keep)
		}
		w.WriteString(line)
		if _, err := io.CopyN(w, r, int64(keep)); err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, r, int64(n-keep)); err != nil {
			return
		}
	}
}

// TestShortFetchIsRetried: the server answers the FETCH of the 3rd of 5
// messages with an empty (then a truncated) body while RFC822.SIZE says
// more. The run fails as a temporary failure; the messages before it are
// stored and flagged, it and those after it are neither stored, nor
// checkpointed, nor flagged; the next run stores all five, each once and
// whole.
func TestShortFetchIsRetried(t *testing.T) {
	for _, keep := range []int{0, 40} {
		t.Run(fmt.Sprintf("keep-%d-bytes", keep), func(t *testing.T) {
			eachDialect(t, func(t *testing.T, dialect string) {
				h := newHarness(t, dialect, harnessOpts{})
				var raws [][]byte
				for i := range 5 {
					raw := mail{from: "ivy@example.com", subject: fmt.Sprintf("Short fetch %d", i+1),
						body: strings.Repeat("text of the message ", 20), id: fmt.Sprintf("s%d@i.example", i+1)}.bytes()
					raws = append(raws, raw)
					h.deliver(raw)
				}
				p := newShortBodyProxy(t, h.imap.Addr, 3, keep)
				h.cfg.IMAP.Port = mustAtoi(fmt.Sprint(p.ln.Addr().(*net.TCPAddr).Port))
				_, err := h.intake().RunOnce(context.Background())
				if !errors.Is(err, mailbox.ErrShortFetch) || !strings.Contains(err.Error(), "UID 3") {
					t.Fatalf("run with a short body: %v, want ErrShortFetch naming UID 3", err)
				}
				if p.hits.Load() == 0 {
					t.Fatal("the proxy shortened nothing; the test proves nothing")
				}
				if n := h.count("messages"); n != 2 {
					t.Errorf("%d messages stored, want the 2 before the short one", n)
				}
				if n := h.count("quarantine"); n != 0 {
					t.Errorf("%d messages quarantined, want none", n)
				}
				_, last, _, err := h.st.Checkpoint(context.Background(), h.intake().Identity())
				if err != nil || last != 2 {
					t.Errorf("checkpoint at UID %d (%v), want 2", last, err)
				}
				flags := h.mailboxState("INBOX")
				for uid := imap.UID(1); uid <= 5; uid++ {
					if seen := hasFlag(flags[uid], imap.FlagSeen); seen != (uid <= 2) {
						t.Errorf("UID %d flagged \\Seen: %v, want %v", uid, seen, uid <= 2)
					}
				}

				p.armed.Store(false)
				h.once()
				if n := h.count("messages"); n != 5 {
					t.Fatalf("%d messages after the next run, want 5", n)
				}
				for i, raw := range raws {
					var size int
					if err := h.st.DB().Get(&size, h.st.DB().Rebind(`SELECT size FROM messages WHERE message_id = ?`),
						fmt.Sprintf("s%d@i.example", i+1)); err != nil {
						t.Fatalf("message %d: %v", i+1, err)
					}
					if size != len(raw) {
						t.Errorf("message %d stored with %d bytes, want %d", i+1, size, len(raw))
					}
				}
				for uid, fs := range h.mailboxState("INBOX") {
					if !hasFlag(fs, imap.FlagSeen) {
						t.Errorf("UID %d not flagged \\Seen after the next run", uid)
					}
				}
			})
		})
	}
}
