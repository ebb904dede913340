// Package mailer delivers the outbox over SMTP with
// github.com/wneessen/go-mail.
//
// Rows are claimed with a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so
// several instances never take the same row), sent over [smtp]
// connections connections at once, and each marked sent, retried later
// (4xx, timeouts, a lost connection) or failed (5xx, or too many
// attempts), each failure recorded on the incident or problem.
//
// A lost connection (no reply, or 421) puts in doubt only the mail that
// was in flight: it waits for its back-off; a mail the server never had
// (the connection was found dead at MAIL FROM) is sent again at once, and
// the rest of the batch goes on over a new connection.
//
// A row's Message-ID is fixed when it is queued. Every claim records the
// process that took it (Claimer: host, pid, a per-process nonce). On a
// stop (the context ends) the mails in flight are finished, every mail
// the server accepted is marked sent and the claims of the others are
// released, so a restart sends each of them once and at once. If the
// process dies instead (SIGKILL, a crash), the next flush on the same
// host finds its claims and releases them at once (see Flush);
// other hosts' claims come back when their lease runs out. A mail the
// server accepted in the dying process's last moment, before its mark was
// committed, is then sent again with the same Message-ID: receivers and
// their helpdesks can recognise it. That is the strongest promise SMTP
// allows; a second, different message is never produced.
//
// Every mail carries Auto-Submitted (RFC 3834) when it is automatic,
// X-Auto-Response-Suppress: All (so Exchange sends no out-of-office back)
// and the X-Helpdeskd-Loop header, by which our own mail is recognised if
// it comes back.
package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	netmail "net/mail"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/wneessen/go-mail"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
)

// LoopHeader is the header that marks our own mail (see workflow).
const LoopHeader = "X-Helpdeskd-Loop"

// Mailer sends the outbox.
type Mailer struct {
	Store *store.Store
	Cfg   *config.Config
	Log   *slog.Logger
	Now   func() time.Time
	// Lease is how long a claimed row is ours before another sender may
	// take it over (the rows of a sender that died on another host come
	// back after it; on this host they come back at the next flush).
	Lease time.Duration
	// Batch is how many rows one connection carries.
	Batch int
	// Claimer is this process, recorded with every claim it takes so that
	// its claims can be released at once when it is gone (see
	// Flush). New sets it to Self().
	Claimer store.Claimer
	// UnmarkedWindow is how many mails may be in flight or delivered and
	// not yet marked sent at once, the most a crash (SIGKILL) can make
	// go out twice; 4 × [smtp] connections when zero.
	UnmarkedWindow int
	// StopGrace bounds the database writes of a stop (marking what was
	// delivered, releasing the rest); 20s when zero.
	StopGrace time.Duration
}

// New returns a Mailer with defaults.
func New(st *store.Store, cfg *config.Config, log *slog.Logger) *Mailer {
	if log == nil {
		log = slog.Default()
	}
	return &Mailer{Store: st, Cfg: cfg, Log: log, Now: func() time.Time { return time.Now().UTC() },
		Lease: 10 * time.Minute, Batch: 50, Claimer: Self()}
}

// Stats counts what one flush did.
type Stats struct {
	Sent, Retried, Failed int
}

// Flush sends every row that is due, batch after batch, until none is
// left or a batch could not reach the server. It first releases the
// claims of processes of this host that are gone, and,
// when no other Flush of this process runs, those an earlier Flush of
// this process could not record.
//
// When ctx ends, Flush finishes the mails in flight, records them and
// gives back the claims of the rest (see sendBatch), and returns
// ctx.Err().
func (m *Mailer) Flush(ctx context.Context) (Stats, error) {
	var total Stats
	defer m.startFlush(ctx)()
	for ctx.Err() == nil {
		rows, err := m.Store.ClaimOutbox(ctx, m.Now(), m.Lease, m.Batch, m.Claimer)
		if err != nil {
			return total, err
		}
		if len(rows) == 0 {
			return total, nil
		}
		st, err := m.sendBatch(ctx, rows)
		total.Sent += st.Sent
		total.Retried += st.Retried
		total.Failed += st.Failed
		if err != nil {
			return total, err
		}
		if st.Sent == 0 && st.Failed == 0 {
			return total, nil // only retries: wait for their time
		}
	}
	return total, ctx.Err()
}

// Run flushes whenever wake fires and at least every interval.
func (m *Mailer) Run(ctx context.Context, wake <-chan struct{}, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if st, err := m.Flush(ctx); err != nil && ctx.Err() == nil {
			m.Log.Warn("outbox flush failed", "error", err)
		} else if st.Sent+st.Retried+st.Failed > 0 {
			m.Log.Info("outbox flushed", "sent", st.Sent, "retried", st.Retried, "failed", st.Failed)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-t.C:
		}
	}
}

func (m *Mailer) client() (*mail.Client, error) {
	s := m.Cfg.SMTP
	opts := []mail.Option{
		mail.WithPort(s.Port),
		mail.WithTimeout(s.Timeout.Duration),
	}
	helo := s.HELO
	if helo == "" {
		helo = m.Cfg.MessageIDDomain()
	}
	opts = append(opts, mail.WithHELO(helo))
	tlsCfg := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	if s.TLSCAFile != "" {
		pem, err := os.ReadFile(s.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("mailer: [smtp] tls_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mailer: [smtp] tls_ca_file: no certificate in %s", s.TLSCAFile)
		}
		tlsCfg.RootCAs = pool
	}
	switch s.Security {
	case "tls":
		opts = append(opts, mail.WithSSL(), mail.WithTLSConfig(tlsCfg))
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(tlsCfg))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if s.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(s.Username), mail.WithPassword(s.Password))
	}
	// No NOOP before and no RSET after each message: both cost a round
	// trip per mail, and neither is needed (a new MAIL FROM starts a new
	// transaction; a dead connection fails MAIL FROM and the row is
	// retried).
	opts = append(opts, mail.WithoutNoop(), mail.WithoutRset())
	return mail.NewClient(s.Host, opts...)
}

// sendBatch delivers claimed rows over up to [smtp] connections
// connections at once; each row is marked (sent, retry, failed) as soon
// as the server answered, so a crash repeats at most the rows in flight.
//
// When ctx ends (a stop), no new mail is started; the mails in flight are
// finished, every mail the server accepted is marked sent and the claims
// of the rows not tried are released, so nothing waits for a lease after
// a restart. Those writes use a context of their own, bounded by
// StopGrace.
func (m *Mailer) sendBatch(ctx context.Context, rows []store.Outbox) (Stats, error) {
	wctx, cancelW := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelW()
	grace := m.StopGrace
	if grace <= 0 {
		grace = 20 * time.Second
	}
	stopWrites := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancelW) })
	defer stopWrites()

	var st Stats
	msgs := make([]*mail.Msg, len(rows))
	var todo []int
	for i := range rows {
		msg, err := m.compose(ctx, &rows[i])
		var dbErr *readError
		if errors.As(err, &dbErr) {
			// The database did not answer: try again later.
			st.Retried++
			if rerr := m.retry(ctx, &rows[i], err.Error()); rerr != nil {
				return st, rerr
			}
			continue
		}
		if err != nil {
			// A row that cannot be composed will never be sendable.
			st.Failed++
			if ferr := m.fail(wctx, &rows[i], "cannot compose: "+err.Error()); ferr != nil {
				return st, ferr
			}
			continue
		}
		msgs[i] = msg
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return st, nil
	}
	var (
		mu       sync.Mutex
		next     atomic.Int64
		firstErr error
		dialErr  error
		unsent   []int64 // stopping: claims to give back
		wg       sync.WaitGroup
	)
	setErr := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	// Deliveries are marked sent by one writer that commits, as one
	// group, whatever the connections delivered while it wrote the
	// previous group: a crash can repeat only the mails of that moment,
	// as with one commit per mail, for a fraction of the commits. The
	// window bounds that moment: a connection starts a mail only while
	// fewer than UnmarkedWindow mails are in flight or delivered and not
	// yet marked, so a slow database makes delivery wait instead of
	// widening what a crash repeats.
	window := make(chan struct{}, m.unmarkedWindow())
	marks := make(chan *store.Outbox, len(todo))
	marked := make(chan struct{})
	go func() {
		defer close(marked)
		for o := range marks {
			group := []*store.Outbox{o}
		drain:
			for len(group) < 200 {
				select {
				case more, ok := <-marks:
					if !ok {
						break drain
					}
					group = append(group, more)
				default:
					break drain
				}
			}
			now := m.Now()
			evs := make([]*store.Event, len(group))
			for i, g := range group {
				evs[i] = &store.Event{IncidentID: g.IncidentID, ProblemID: g.ProblemID, Kind: "sent", Actor: "helpdeskd",
					Detail: fmt.Sprintf("%s <%s> delivered to %s", g.Kind, g.MessageID, g.ToAddrs), CreatedAt: now}
			}
			if err := m.Store.OutboxSent(wctx, group, now, evs); err != nil {
				setErr(err)
			}
			for range group {
				<-window
			}
		}
	}()
	stop := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil || ctx.Err() != nil
	}
	dial := func() (*mail.Client, error) {
		c, err := m.client()
		if err == nil {
			err = c.DialWithContext(ctx)
		}
		if err != nil {
			mu.Lock()
			dialErr = err
			mu.Unlock()
			return nil, err
		}
		return c, nil
	}
	worker := func() {
		var c *mail.Client
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		for !stop() {
			if c == nil {
				// A connection that could not be opened: the others take
				// the rows; if none could, the rows are retried below.
				var err error
				if c, err = dial(); err != nil {
					return
				}
			}
			window <- struct{}{}
			if stop() {
				<-window
				return
			}
			k := int(next.Add(1) - 1)
			if k >= len(todo) {
				<-window
				return
			}
			o := &rows[todo[k]]
			err := c.Send(msgs[todo[k]])
			if broken, inDoubt := connectionLost(err); broken {
				// This connection is gone; the next mail gets a new one.
				c.Close()
				c = nil
				if !inDoubt && ctx.Err() != nil {
					// Stopping: the server never had this mail; give
					// its claim back with the untried rows.
					mu.Lock()
					unsent = append(unsent, o.ID)
					mu.Unlock()
					<-window
					continue
				}
				if !inDoubt {
					// The server never had this mail: try it again at
					// once on a fresh connection.
					m.Log.Info("smtp connection lost before the mail was sent; sending again on a new connection",
						"message_id", o.MessageID, "error", err)
					if c, err = dial(); err != nil {
						err = fmt.Errorf("connect: %w", err)
					} else {
						err = c.Send(msgs[todo[k]])
						if broken, _ := connectionLost(err); broken {
							c.Close()
							c = nil
						}
					}
				}
			}
			res, err := m.record(wctx, o, err)
			if res.Sent > 0 {
				marks <- o // the writer frees its place in the window
			} else {
				<-window
			}
			mu.Lock()
			st.add(res)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	}
	for range min(m.Cfg.SMTP.Connections, len(todo)) {
		wg.Go(worker)
	}
	wg.Wait()
	close(marks)
	<-marked
	// Rows no connection took.
	untried := unsent
	for k := min(int(next.Load()), len(todo)); k < len(todo); k++ {
		untried = append(untried, rows[todo[k]].ID)
	}
	if firstErr != nil || ctx.Err() != nil {
		// Stopping: give the claims back, due as they were.
		if n, err := m.Store.ReleaseOutbox(wctx, untried, m.Claimer); err != nil {
			m.Log.Warn("outbox claims not released; they come back when their lease runs out", "rows", len(untried), "error", err)
		} else if n > 0 {
			m.Log.Info("outbox claims released on stop", "rows", n)
		}
		if firstErr != nil {
			return st, firstErr
		}
		return st, nil
	}
	// The server could not be reached.
	for k := min(int(next.Load()), len(todo)); k < len(todo); k++ {
		st.Retried++
		if rerr := m.retry(wctx, &rows[todo[k]], "connect: "+fmt.Sprint(dialErr)); rerr != nil {
			return st, rerr
		}
	}
	return st, nil
}

func (m *Mailer) unmarkedWindow() int {
	if m.UnmarkedWindow > 0 {
		return m.UnmarkedWindow
	}
	return 4 * max(m.Cfg.SMTP.Connections, 1)
}

// connectionLost tells whether err (from Send) means the connection is
// gone (no reply, or 421: the server is closing it), and if so whether
// the server may have accepted the mail all the same (the loss came
// after the message text was under way). A mail refused with a reply
// (4xx, 5xx) leaves the connection usable.
func connectionLost(err error) (lost, inDoubt bool) {
	if err == nil {
		return false, false
	}
	var se *mail.SendError
	if !errors.As(err, &se) {
		return true, true
	}
	switch code := se.ErrorCode(); {
	case code == 421:
		return true, se.Reason == mail.ErrSMTPDataClose || se.Reason == mail.ErrWriteContent
	case code != 0:
		return false, false
	}
	switch se.Reason {
	case mail.ErrSMTPMailFrom, mail.ErrSMTPRcptTo, mail.ErrSMTPData, mail.ErrSMTPReset, mail.ErrConnCheck:
		return true, false
	case mail.ErrWriteContent, mail.ErrSMTPDataClose, mail.ErrAmbiguous:
		return true, true
	}
	return false, false
}

func (s *Stats) add(o Stats) {
	s.Sent += o.Sent
	s.Retried += o.Retried
	s.Failed += o.Failed
}

// record records the outcome of sending one row (err from Send) unless
// it was delivered: deliveries are recorded by the caller's group
// commit. The error is a failure to record (the database), not of SMTP.
func (m *Mailer) record(ctx context.Context, o *store.Outbox, err error) (Stats, error) {
	switch {
	case err == nil:
		return Stats{Sent: 1}, nil
	case isPermanent(err) || o.Attempts >= m.Cfg.SMTP.MaxAttempts:
		reason := err.Error()
		if !isPermanent(err) {
			reason = fmt.Sprintf("gave up after %d attempts: %s", o.Attempts, reason)
		}
		return Stats{Failed: 1}, m.fail(ctx, o, reason)
	default:
		return Stats{Retried: 1}, m.retry(ctx, o, err.Error())
	}
}

func isPermanent(err error) bool {
	var se *mail.SendError
	if errors.As(err, &se) {
		if se.IsTemp() {
			return false
		}
		code := se.ErrorCode()
		return code >= 500 && code < 600
	}
	return false
}

// Backoff is the wait before attempt n+1: 1, 2, 4 … minutes, capped at
// one hour, with jitter so that many rows do not retry in step.
func Backoff(attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	d := time.Minute << min(attempts-1, 6)
	if d > time.Hour {
		d = time.Hour
	}
	return d + time.Duration(rand.Int64N(int64(d/10)+1))
}

func (m *Mailer) retry(ctx context.Context, o *store.Outbox, reason string) error {
	m.Log.Warn("delivery deferred", "message_id", o.MessageID, "to", o.ToAddrs, "attempt", o.Attempts, "error", reason)
	return m.Store.OutboxRetry(ctx, o, m.Now().Add(Backoff(o.Attempts)), reason)
}

func (m *Mailer) fail(ctx context.Context, o *store.Outbox, reason string) error {
	m.Log.Error("delivery failed", "message_id", o.MessageID, "to", o.ToAddrs, "error", reason)
	ev := &store.Event{IncidentID: o.IncidentID, ProblemID: o.ProblemID, Kind: "delivery_failed", Actor: "helpdeskd",
		Detail: fmt.Sprintf("%s <%s> to %s failed: %s", o.Kind, o.MessageID, o.ToAddrs, reason), CreatedAt: m.Now()}
	return m.Store.OutboxFailed(ctx, o, reason, ev)
}

// compose builds the message of a row. Every address header (From, To,
// Cc, Reply-To) passes through cleanAddresses, so a display name that
// decodes to control characters (CR LF) never reaches the wire, and the
// recipients of automatic mail (Auto-Submitted set, RFC 3834) are written
// as bare addresses: a display name taken from incoming mail ("Cheap
// pills at http://…") is not repeated to the victim. In-Reply-To and
// References carry only ids that ValidMsgID accepts. Forwarded
// attachments are read back from the stored messages they came with.
func (m *Mailer) compose(ctx context.Context, o *store.Outbox) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	from, err := cleanAddresses([]string{o.FromAddr}, false)
	if err != nil || len(from) != 1 {
		return nil, fmt.Errorf("from %q: not one address (%v)", o.FromAddr, err)
	}
	if err := msg.From(from[0]); err != nil {
		return nil, fmt.Errorf("from %q: %w", o.FromAddr, err)
	}
	bare := o.AutoSubmitted != ""
	to, err := cleanAddresses(splitList(o.ToAddrs), bare)
	if err != nil {
		return nil, fmt.Errorf("to %q: %w", o.ToAddrs, err)
	}
	if len(to) == 0 {
		return nil, errors.New("no recipient")
	}
	if err := msg.To(to...); err != nil {
		return nil, fmt.Errorf("to %q: %w", o.ToAddrs, err)
	}
	cc, err := cleanAddresses(splitList(o.CcAddrs), bare)
	if err != nil {
		return nil, fmt.Errorf("cc %q: %w", o.CcAddrs, err)
	}
	if len(cc) > 0 {
		if err := msg.Cc(cc...); err != nil {
			return nil, fmt.Errorf("cc %q: %w", o.CcAddrs, err)
		}
	}
	if o.ReplyTo != "" {
		rt, err := cleanAddresses(splitList(o.ReplyTo), false)
		if err == nil && len(rt) != 1 {
			err = fmt.Errorf("%d addresses, want one", len(rt))
		}
		if err != nil {
			return nil, fmt.Errorf("Reply-To %q: %w", o.ReplyTo, err)
		}
		if err := msg.ReplyTo(rt[0]); err != nil {
			return nil, fmt.Errorf("Reply-To %q: %w", o.ReplyTo, err)
		}
	}
	msg.Subject(oneLine(o.Subject))
	date := time.Now()
	if m.Now != nil {
		date = m.Now() // the process clock: "--now" reaches the Date field too
	}
	msg.SetDateWithValue(date)
	msg.SetMessageIDWithValue(o.MessageID)
	if ValidMsgID(o.InReplyTo) {
		msg.SetGenHeader(mail.HeaderInReplyTo, "<"+o.InReplyTo+">")
	}
	var refs []string
	for _, id := range strings.Fields(o.Refs) {
		if ValidMsgID(id) {
			refs = append(refs, id)
		}
	}
	if len(refs) > 0 {
		// One space-separated value: go-mail joins several values with ", ",
		// which strict parsers reject.
		msg.SetGenHeader(mail.HeaderReferences, "<"+strings.Join(refs, "> <")+">")
	}
	if o.AutoSubmitted != "" {
		msg.SetGenHeader(mail.Header("Auto-Submitted"), o.AutoSubmitted)
	}
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	msg.SetGenHeader(mail.Header(LoopHeader), strings.ToLower(m.Cfg.Helpdesk.Address))
	msg.SetBodyString(mail.TypeTextPlain, o.TextBody)
	if o.HTMLBody != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, o.HTMLBody)
	}
	if err := m.attach(ctx, msg, o); err != nil {
		return nil, err
	}
	return msg, nil
}

// attach adds the attachments a row forwards. They are stored by
// reference (store.OutboxAttachment): the raw message they came with is
// read and parsed again with the intake's limits, so the parts come in
// the order they were listed, and each is checked against the name and
// size it was listed with.
func (m *Mailer) attach(ctx context.Context, msg *mail.Msg, o *store.Outbox) error {
	atts, err := o.OutboxAttachments()
	if err != nil {
		return err
	}
	if err := m.attachForwarded(ctx, msg, atts); err != nil {
		return err
	}
	return m.attachFiles(ctx, msg, o)
}

// attachFiles adds a row's generated files (a summary's chart, inline by
// its Content-ID, and its register).
func (m *Mailer) attachFiles(ctx context.Context, msg *mail.Msg, o *store.Outbox) error {
	if o.Files == 0 {
		return nil
	}
	if m.Store == nil {
		return errors.New("files: no database to read them from")
	}
	files, err := m.Store.OutboxFiles(ctx, o.ID)
	if err != nil {
		return &readError{err}
	}
	if len(files) != o.Files {
		return fmt.Errorf("mail %d lists %d files, the database holds %d", o.ID, o.Files, len(files))
	}
	for _, f := range files {
		ct := mail.WithFileContentType(mail.ContentType(f.ContentType))
		if f.ContentID != "" {
			// go-mail writes the id as given: the angle brackets are ours.
			if err := msg.EmbedReader(f.Filename, bytes.NewReader(f.Data), ct, mail.WithFileContentID("<"+f.ContentID+">")); err != nil {
				return fmt.Errorf("file %q: %w", f.Filename, err)
			}
			continue
		}
		if err := msg.AttachReader(f.Filename, bytes.NewReader(f.Data), ct); err != nil {
			return fmt.Errorf("file %q: %w", f.Filename, err)
		}
	}
	return nil
}

// attachForwarded adds the attachments a row forwards from stored
// messages.
func (m *Mailer) attachForwarded(ctx context.Context, msg *mail.Msg, atts []store.OutboxAttachment) error {
	if len(atts) == 0 {
		return nil
	}
	var err error
	if m.Store == nil {
		return errors.New("attachments: no database to read them from")
	}
	in := m.Cfg.Intake
	opts := mailparse.Options{MaxBytes: int(in.MaxMessageBytes), MaxHeaderBytes: in.MaxHeaderBytes,
		MaxHeaderFields: in.MaxHeaderFields, MaxDepth: in.MaxMIMEDepth, MaxParts: in.MaxMIMEParts,
		MaxTextBytes: in.MaxTextBytes}
	raws := map[int64][]byte{}
	for i, a := range atts {
		raw, ok := raws[a.MessagePK]
		if !ok {
			if raw, err = m.Store.MessageRaw(ctx, a.MessagePK); err != nil {
				err = fmt.Errorf("attachment %q: message %d: %w", a.Filename, a.MessagePK, err)
				if errors.Is(err, store.ErrNotFound) {
					return err // gone for good
				}
				return &readError{err}
			}
			raws[a.MessagePK] = raw
		}
		part, err := mailparse.AttachmentData(raw, opts, a.Index)
		if err != nil {
			return fmt.Errorf("attachment %q: %w", a.Filename, err)
		}
		if part.Filename != a.Filename || int64(len(part.Data)) != a.Size {
			return fmt.Errorf("attachment %d of message %d is %q (%d bytes), listed as %q (%d bytes)",
				a.Index, a.MessagePK, part.Filename, len(part.Data), a.Filename, a.Size)
		}
		name := a.Filename
		if name == "" {
			name = fmt.Sprintf("attachment-%d", i+1)
		}
		msg.AttachReadSeeker(name, bytes.NewReader(part.Data), mail.WithFileContentType(mail.ContentType(a.ContentType)))
	}
	return nil
}

// readError is a failure to read a forwarded attachment from the
// database: temporary, unlike a part that no longer matches.
type readError struct{ err error }

func (e *readError) Error() string { return "reading attachments: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cleanAddresses reads each entry as one RFC 5322 mailbox ("Name <a@b>"
// or "a@b", encoded words allowed) and renders it again: with bare set
// as the address alone, otherwise with the display name decoded, its
// control and line-separator characters (CR, LF, U+2028 …) turned into
// spaces and runs of spaces joined. Control characters in the raw entry
// are read as spaces too. An entry that is not a mailbox is an error
// naming it.
func cleanAddresses(list []string, bare bool) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, s := range list {
		a, err := netmail.ParseAddress(strings.Map(controlToSpace, s))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		name := strings.Join(strings.Fields(strings.Map(controlToSpace, a.Name)), " ")
		if bare || name == "" {
			out = append(out, a.Address)
			continue
		}
		out = append(out, (&netmail.Address{Name: name, Address: a.Address}).String())
	}
	return out, nil
}

func controlToSpace(r rune) rune {
	if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) {
		return ' '
	}
	return r
}

// ValidMsgID reports whether id (without angle brackets) may be written
// as a msg-id in In-Reply-To or References. RFC 5322 §3.6.4 asks for
// id-left "@" id-right of atext and dots, or a no-fold-literal "[…]" of
// dtext on the right; real mail also has ids without "@" or with two
// (Exchange, list software, "a..b@x"), so any mix of atext, dots and "@"
// with at least one atext character is accepted, as is such a left side
// with a literal right side. Quotes, angle brackets, backslashes, commas,
// white space, control and non-ASCII characters and ids over 250 bytes
// are refused: an id that arrived malformed is not echoed.
func ValidMsgID(id string) bool {
	if id == "" || len(id) > 250 {
		return false
	}
	if at := strings.LastIndexByte(id, '@'); at >= 0 && strings.HasPrefix(id[at+1:], "[") {
		lit := id[at+1:]
		if len(lit) < 2 || !strings.HasSuffix(lit, "]") {
			return false
		}
		for i := 1; i < len(lit)-1; i++ {
			// dtext: printable ASCII but "[", "]" and "\\".
			if c := lit[i]; c < '!' || c > '~' || c == '[' || c == ']' || c == '\\' {
				return false
			}
		}
		id = id[:at]
	}
	atext := false
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case isAtext(c):
			atext = true
		case c == '.' || c == '@':
		default:
			return false
		}
	}
	return atext
}

// isAtext reports whether c is RFC 5322 §3.2.3 atext.
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// splitList splits a stored address list ("A <a@x>, b@y") at the commas
// that are outside quotes and angle brackets.
func splitList(s string) []string {
	var out []string
	depth := 0
	inQuote := false
	start := 0
	for i, r := range s {
		switch r {
		case '"':
			inQuote = !inQuote
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if !inQuote && depth == 0 {
				if t := strings.TrimSpace(s[start:i]); t != "" {
					out = append(out, t)
				}
				start = i + 1
			}
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}
