package mailbox_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/internal/mailsim"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/mailbox"
	"github.com/helpdeskd/helpdeskd/mailer"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/templates"
	"github.com/helpdeskd/helpdeskd/workflow"
)

const helpdesk = "support@example.com"

// harness is a helpdesk wired to real servers on loopback.
type harness struct {
	t      *testing.T
	imap   *mailsim.IMAPServer
	smtp   *mailsim.SMTPServer
	cfg    *config.Config
	st     *store.Store
	eng    *workflow.Engine
	mailer *mailer.Mailer
}

type harnessOpts struct {
	imapPort  string // override (proxies, silent servers)
	processed string
	rev1Only  bool
	timeout   string
	dbURL     string
	extra     string // more configuration, appended
}

func newHarness(t *testing.T, dialect string, o harnessOpts) *harness {
	t.Helper()
	var folders []string
	if o.processed != "" {
		folders = []string{o.processed}
	}
	is, err := mailsim.StartIMAP(helpdesk, "secret", mailsim.IMAPOptions{Rev1Only: o.rev1Only, Folders: folders})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { is.Close() })
	ss, err := mailsim.StartSMTP(mailsim.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	u := o.dbURL
	if u == "" {
		u = testutil.URL(t, dialect)
	}
	host, port := "127.0.0.1", fmt.Sprint(is.Port)
	if o.imapPort != "" {
		port = o.imapPort
	}
	timeout := "10s"
	if o.timeout != "" {
		timeout = o.timeout
	}
	text := fmt.Sprintf(`
[helpdesk]
address = %q
[database]
url = %q
[imap]
host = %q
port = %s
security = "none"
username = %q
password = "secret"
processed_folder = %q
timeout = %q
batch_size = 3
[smtp]
host = "127.0.0.1"
port = %d
security = "none"
[intake]
batch_size = 2
%s
`, helpdesk, u, host, port, helpdesk, o.processed, timeout, ss.Port, o.extra)
	cfg, err := config.Parse("test.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	st := testutil.OpenURL(t, u)
	tmpl, err := templates.Load()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := workflow.NewEngine(st, cfg, tmpl, log)
	return &harness{t: t, imap: is, smtp: ss, cfg: cfg, st: st, eng: eng, mailer: mailer.New(st, cfg, log)}
}

func (h *harness) intake() *mailbox.Intake {
	in := mailbox.New(h.cfg, h.st, h.eng, slog.New(slog.NewTextHandler(io.Discard, nil)))
	in.LockWait = 5 * time.Second
	return in
}

func (h *harness) deliver(raw []byte) {
	h.t.Helper()
	if err := h.imap.Append("INBOX", raw); err != nil {
		h.t.Fatal(err)
	}
}

// once is "run --once" without the tick: intake, then the outbox.
func (h *harness) once() mailbox.Stats {
	h.t.Helper()
	st, err := h.intake().RunOnce(context.Background())
	if err != nil {
		h.t.Fatalf("intake: %v", err)
	}
	if _, err := h.mailer.Flush(context.Background()); err != nil {
		h.t.Fatalf("outbox: %v", err)
	}
	return st
}

func (h *harness) count(table string) int {
	h.t.Helper()
	var n int
	if err := h.st.DB().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) incident(key string) *store.Incident {
	h.t.Helper()
	inc, err := h.st.IncidentByKey(context.Background(), key)
	if err != nil {
		h.t.Fatalf("incident %s: %v", key, err)
	}
	return inc
}

// login opens a second IMAP session on folder, as a person's client would.
func (h *harness) login(folder string, readOnly bool) *imapclient.Client {
	h.t.Helper()
	c, err := imapclient.DialInsecure(h.imap.Addr, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := c.Login(helpdesk, "secret").Wait(); err != nil {
		h.t.Fatal(err)
	}
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: readOnly}).Wait(); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// mailboxState reads UIDs and flags of a folder over IMAP.
func (h *harness) mailboxState(folder string) map[imap.UID][]imap.Flag {
	h.t.Helper()
	c := h.login(folder, true)
	defer c.Close()
	msgs, err := c.Fetch(imap.NumSet(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}), &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil && !strings.Contains(err.Error(), "No matching") {
		// an empty mailbox answers 1:* with an error on some servers
		return map[imap.UID][]imap.Flag{}
	}
	out := map[imap.UID][]imap.Flag{}
	for _, m := range msgs {
		out[m.UID] = m.Flags
	}
	return out
}

func hasFlag(fs []imap.Flag, f imap.Flag) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// mail builds a message.
type mail struct {
	from, subject, body, id string
	inReplyTo, references   string
	headers                 []string
}

func (m mail) bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n", m.from, helpdesk, m.subject)
	if m.id != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", m.id)
	}
	if m.inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\n", m.inReplyTo)
	}
	if m.references != "" {
		fmt.Fprintf(&b, "References: %s\r\n", m.references)
	}
	for _, x := range m.headers {
		b.WriteString(x + "\r\n")
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n" + m.body + "\r\n")
	return b.Bytes()
}

// proxy forwards TCP to target and can cut every connection after the
// server has sent a number of bytes.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	budget int // bytes server→client before the cut; <0: unlimited
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, budget: -1}
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

func (p *proxy) port() string { return fmt.Sprint(p.ln.Addr().(*net.TCPAddr).Port) }

func (p *proxy) cutAfter(n int) { p.mu.Lock(); p.budget = n; p.mu.Unlock() }

func (p *proxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	p.mu.Lock()
	budget := p.budget
	p.mu.Unlock()
	go io.Copy(s, c)
	if budget < 0 {
		io.Copy(c, s)
		return
	}
	io.CopyN(c, s, int64(budget))
}

// unsee removes \Seen from every message of INBOX, as a mailbox restore
// would.
func (h *harness) unsee() {
	h.t.Helper()
	c := h.login("INBOX", false)
	defer c.Close()
	all := imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}
	if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		h.t.Fatal(err)
	}
}
