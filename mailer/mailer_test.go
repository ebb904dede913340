package mailer_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/internal/mailsim"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/mailer"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

const helpdesk = "support@example.com"

func eachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

type env struct {
	t    *testing.T
	smtp *mailsim.SMTPServer
	st   *store.Store
	m    *mailer.Mailer
}

// newEnv is a store of the dialect and a mailer that delivers to a
// capture server, directly or through port (a proxy) when port is not 0.
func newEnv(t *testing.T, dialect string, port int, connections int) *env {
	t.Helper()
	ss, err := mailsim.StartSMTP(mailsim.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	if port == 0 {
		port = ss.Port
	}
	u := testutil.URL(t, dialect)
	cfg, err := config.Parse("test.toml", fmt.Appendf(nil, `
[helpdesk]
address = %q
[database]
url = %q
[smtp]
host = "127.0.0.1"
port = %d
security = "none"
timeout = "10s"
connections = %d
`, helpdesk, u, port, connections))
	if err != nil {
		t.Fatal(err)
	}
	st := testutil.OpenURL(t, u)
	return &env{t: t, smtp: ss, st: st, m: mailer.New(st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))}
}

// queue adds n mails to the outbox, due now, and returns their Message-IDs.
func (e *env) queue(n int, problem *int64) []string {
	e.t.Helper()
	now := time.Now().UTC()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("m%d.%d@helpdesk.example.com", i, now.UnixNano())
		o := &store.Outbox{ProblemID: problem, Kind: "ack", MessageID: id, FromAddr: helpdesk,
			ToAddrs: fmt.Sprintf("user%d@example.com", i), Subject: fmt.Sprintf("Mail %d", i), TextBody: "Hello.",
			RcptKey: fmt.Sprintf("user%d@example.com", i), NextAttemptAt: now, CreatedAt: now}
		if err := e.st.EnqueueAll(context.Background(), []*store.Outbox{o}); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func (e *env) rows() []store.Outbox {
	e.t.Helper()
	var rows []store.Outbox
	if err := e.st.DB().Select(&rows, `SELECT * FROM outbox ORDER BY id`); err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// delivered counts the captured mails by Message-ID.
func (e *env) delivered() map[string]int {
	e.t.Helper()
	got := map[string]int{}
	for _, c := range e.smtp.Captured() {
		m, err := mailparse.Parse(c.Data, mailparse.DefaultOptions)
		if err != nil {
			e.t.Fatal(err)
		}
		got[m.MessageID]++
	}
	return got
}

// cutProxy forwards TCP to target and cuts the first connection on which
// the client starts its nth mail (at "MAIL FROM", before it reaches the
// server) or, with inBody, sends the text of its nth mail (after DATA was
// answered, before any of the text reaches the server).
type cutProxy struct {
	ln     net.Listener
	target string
	nth    int
	inBody bool
	cut    atomic.Bool
	conns  atomic.Int32
}

func newCutProxy(t *testing.T, target string, nth int, inBody bool) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, nth: nth, inBody: inBody}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			go p.serve(c)
		}
	}()
	return p
}

func (p *cutProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *cutProxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { io.Copy(c, s); c.Close() }()
	mails, data := 0, 0
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if !p.cut.Load() {
				if p.inBody && data == p.nth {
					p.cut.Store(true)
					return // the text of the nth mail never arrives
				}
				if bytes.HasPrefix(bytes.ToUpper(chunk), []byte("MAIL FROM:")) {
					mails++
					if !p.inBody && mails == p.nth {
						p.cut.Store(true)
						return
					}
				}
				if bytes.Equal(bytes.ToUpper(chunk), []byte("DATA\r\n")) {
					data++
				}
			}
			if _, err := s.Write(chunk); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestCutConnectionDefersOnlyTheMailInFlight cuts the one SMTP connection
// of a flush of 10 mails. Cut while the 4th mail's text is under way, only
// that mail is in doubt and waits for its back-off; cut when the 4th mail
// starts (the server never had it), nothing waits. Every other mail goes
// out in the same flush, on a new connection.
func TestCutConnectionDefersOnlyTheMailInFlight(t *testing.T) {
	for _, tc := range []struct {
		name     string
		inBody   bool
		deferred int
	}{{"mid-text", true, 1}, {"between-mails", false, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			eachDialect(t, func(t *testing.T, dialect string) {
				// The proxy needs the capture's address, the env the proxy's
				// port: start the env on a placeholder, then point it on.
				e := newEnv(t, dialect, 0, 1)
				p := newCutProxy(t, e.smtp.Addr, 4, tc.inBody)
				e.m.Cfg.SMTP.Port = p.port()
				ids := e.queue(10, nil)
				start := time.Now()
				st, err := e.m.Flush(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if !p.cut.Load() {
					t.Fatal("the proxy never cut the connection; the test proves nothing")
				}
				if st.Sent != 10-tc.deferred || st.Retried != tc.deferred || st.Failed != 0 {
					t.Fatalf("flush: %+v, want %d sent and %d deferred", st, 10-tc.deferred, tc.deferred)
				}
				if n := p.conns.Load(); n != 2 {
					t.Errorf("%d connections, want 2 (the cut one and its replacement)", n)
				}
				got := e.delivered()
				for i, id := range ids {
					want := 1
					if tc.deferred == 1 && i == 3 {
						want = 0
					}
					if got[id] != want {
						t.Errorf("mail %d delivered %d times, want %d", i+1, got[id], want)
					}
				}
				for i, o := range e.rows() {
					switch {
					case tc.deferred == 1 && i == 3:
						if o.Status != store.OutboxQueued || !o.NextAttemptAt.After(start.Add(50*time.Second)) || o.LastError == "" {
							t.Errorf("mail in flight: status %s, next attempt %v, error %q; want queued for its back-off",
								o.Status, o.NextAttemptAt, o.LastError)
						}
					case o.Status != store.OutboxSent:
						t.Errorf("mail %d: status %s (%s), want sent", i+1, o.Status, o.LastError)
					}
				}
			})
		})
	}
}

// TestProblemMailEventsCarryProblem: the "sent" and "delivery_failed"
// events of mail about a problem belong to the problem, so that "show
// PRB-N" lists them.
func TestProblemMailEventsCarryProblem(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, 0, 1)
		ctx := context.Background()
		now := time.Now().UTC()
		p := &store.Problem{Key: "PRB-1", Title: "VPN drops", Status: "open", Fingerprint: "vpn drops", CreatedAt: now, UpdatedAt: now}
		if err := e.st.InsertProblems(ctx, []*store.Problem{p}); err != nil {
			t.Fatal(err)
		}
		e.queue(2, &p.ID)
		e.smtp.Fail(func(rcpt string) *smtp.SMTPError {
			if strings.HasPrefix(rcpt, "user1@") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		})
		if st, err := e.m.Flush(ctx); err != nil || st.Sent != 1 || st.Failed != 1 {
			t.Fatalf("flush: %+v %v, want 1 sent and 1 failed", st, err)
		}
		// What "show PRB-1" prints.
		v, err := workflow.ShowProblem(ctx, e.st.Reader, p.Key)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, ev := range v.Events {
			kinds[ev.Kind]++
		}
		if kinds["sent"] != 1 || kinds["delivery_failed"] != 1 {
			t.Fatalf("events of %s: %v, want one sent and one delivery_failed", p.Key, kinds)
		}
	})
}

// TestStopMarksDeliveredAndReleasesTheRest ends the flush's context (a
// SIGTERM) while the 5th of 30 mails is being sent: the mails the server
// accepted are marked sent, the others are back in the queue, due at once
// with no attempt counted, and the next flush sends exactly those.
func TestStopMarksDeliveredAndReleasesTheRest(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, 0, 2)
		ids := e.queue(30, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var rcpts atomic.Int32
		e.smtp.Fail(func(string) *smtp.SMTPError {
			if rcpts.Add(1) == 5 {
				cancel()
			}
			return nil
		})
		st, err := e.m.Flush(ctx)
		if err != context.Canceled {
			t.Fatalf("flush: %v, want context.Canceled", err)
		}
		accepted := len(e.smtp.Captured())
		if accepted == 0 || accepted >= 30 {
			t.Fatalf("%d mails accepted before the stop; the test proves nothing", accepted)
		}
		if st.Sent != accepted {
			t.Errorf("flush counted %d sent, the server accepted %d", st.Sent, accepted)
		}
		counts := map[string]int{}
		for _, o := range e.rows() {
			counts[o.Status]++
			if o.Status == store.OutboxQueued && (o.Attempts != 0 || o.ClaimedHost != "" || o.NextAttemptAt.After(time.Now())) {
				t.Errorf("released row %d: attempts %d, claimed by %q, due %v; want as before its claim", o.ID, o.Attempts, o.ClaimedHost, o.NextAttemptAt)
			}
		}
		if counts[store.OutboxSending] != 0 || counts[store.OutboxSent] != accepted || counts[store.OutboxQueued] != 30-accepted {
			t.Fatalf("after the stop: %v, want %d sent and %d queued, none sending", counts, accepted, 30-accepted)
		}
		e.smtp.Fail(nil)
		if st, err := e.m.Flush(context.Background()); err != nil || st.Sent != 30-accepted {
			t.Fatalf("flush after the stop: %+v %v, want %d sent", st, err, 30-accepted)
		}
		got := e.delivered()
		for i, id := range ids {
			if got[id] != 1 {
				t.Errorf("mail %d delivered %d times, want once", i+1, got[id])
			}
		}
	})
}

// TestClaimsOfGoneProcessesReleased: rows claimed by a process of this
// host that has exited, by an earlier process that had this process's
// pid, or by an earlier flush of this process are sent at once; rows
// claimed by a live process or another host wait for their lease.
func TestClaimsOfGoneProcessesReleased(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, 0, 1)
		ctx := context.Background()
		self := mailer.Self()
		gone := exec.Command("true")
		if err := gone.Run(); err != nil {
			t.Fatal(err)
		}
		live := exec.Command("sleep", "60")
		if err := live.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { live.Process.Kill(); live.Wait() }()
		claimers := []struct {
			name    string
			c       store.Claimer
			release bool
		}{
			{"exited process", store.Claimer{Host: self.Host, PID: gone.Process.Pid, Instance: "a"}, true},
			{"earlier process with this pid", store.Claimer{Host: self.Host, PID: self.PID, Instance: "b"}, true},
			{"earlier flush of this process", self, true},
			{"live process", store.Claimer{Host: self.Host, PID: live.Process.Pid, Instance: "c"}, false},
			{"other host", store.Claimer{Host: "elsewhere/12345678", PID: gone.Process.Pid, Instance: "d"}, false},
		}
		want := map[string]int{}
		for _, cl := range claimers {
			ids := e.queue(2, nil)
			rows, err := e.st.ClaimOutbox(ctx, time.Now(), 10*time.Minute, 2, cl.c)
			if err != nil || len(rows) != 2 {
				t.Fatalf("claim for %s: %d rows, %v", cl.name, len(rows), err)
			}
			for _, id := range ids {
				if cl.release {
					want[id] = 1
				} else {
					want[id] = 0
				}
			}
		}
		st, err := e.m.Flush(ctx)
		if err != nil || st.Sent != 6 {
			t.Fatalf("flush: %+v %v, want the 6 mails of the gone flushes sent", st, err)
		}
		got := e.delivered()
		for i, cl := range claimers {
			for j := range 2 {
				id := e.rows()[2*i+j].MessageID
				if got[id] != want[id] {
					t.Errorf("%s: mail delivered %d times, want %d", cl.name, got[id], want[id])
				}
			}
		}
	})
}

// TestDateFollowsTheProcessClock: a mail delivered under "--now" (the
// mailer's Now) is dated by that clock, not the host's.
func TestDateFollowsTheProcessClock(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, 0, 1)
		at := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Second)
		e.m.Now = func() time.Time { return at }
		e.queue(1, nil)
		if st, err := e.m.Flush(context.Background()); err != nil || st.Sent != 1 {
			t.Fatalf("flush: %+v %v", st, err)
		}
		m, err := mailparse.Parse(e.smtp.Captured()[0].Data, mailparse.DefaultOptions)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Date.Equal(at) {
			t.Errorf("Date %v, want the process clock's %v", m.Date, at)
		}
	})
}
