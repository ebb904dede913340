// Package mailer delivers the outbox over SMTP with
// github.com/wneessen/go-mail.
//
// Rows are claimed with a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so
// several instances never take the same row), sent over [smtp]
// connections connections at once, and each marked sent, retried later (4xx, connection problems,
// timeouts) or failed (5xx, or too many attempts), each failure recorded
// on the incident.
//
// A row's Message-ID is fixed when it is queued. If the process dies after
// the server accepted a message but before the row was marked sent, the
// lease runs out and the same message, with the same Message-ID, is sent
// again: receivers and their helpdesks can recognise it. That is the
// strongest promise SMTP allows; a second, different message is never
// produced.
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
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	// take it over (a crashed sender's rows come back after it).
	Lease time.Duration
	// Batch is how many rows one connection carries.
	Batch int
}

// New returns a Mailer with defaults.
func New(st *store.Store, cfg *config.Config, log *slog.Logger) *Mailer {
	if log == nil {
		log = slog.Default()
	}
	return &Mailer{Store: st, Cfg: cfg, Log: log, Now: func() time.Time { return time.Now().UTC() },
		Lease: 10 * time.Minute, Batch: 50}
}

// Stats counts what one flush did.
type Stats struct {
	Sent, Retried, Failed int
}

// Flush sends every row that is due, batch after batch, until none is
// left or a batch could not reach the server.
func (m *Mailer) Flush(ctx context.Context) (Stats, error) {
	var total Stats
	for ctx.Err() == nil {
		rows, err := m.Store.ClaimOutbox(ctx, m.Now(), m.Lease, m.Batch)
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
// connections at once; each row is marked (sent, retry, failed) on its own
// as soon as the server answered, so a crash repeats at most the rows in
// flight.
func (m *Mailer) sendBatch(ctx context.Context, rows []store.Outbox) (Stats, error) {
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
			if ferr := m.fail(ctx, &rows[i], "cannot compose: "+err.Error()); ferr != nil {
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
	// as with one commit per mail, for a fraction of the commits.
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
			evs := make([]*store.Event, len(group))
			for i, g := range group {
				evs[i] = &store.Event{IncidentID: g.IncidentID, Kind: "sent", Actor: "helpdeskd",
					Detail: fmt.Sprintf("%s <%s> delivered to %s", g.Kind, g.MessageID, g.ToAddrs), CreatedAt: m.Now()}
			}
			if err := m.Store.OutboxSent(ctx, group, m.Now(), evs); err != nil {
				setErr(err)
			}
		}
	}()
	stop := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil || ctx.Err() != nil
	}
	worker := func() {
		c, err := m.client()
		if err == nil {
			err = c.DialWithContext(ctx)
		}
		if err != nil {
			// This connection could not be opened: the others take the
			// rows; if none could, the rows are retried below.
			mu.Lock()
			dialErr = err
			mu.Unlock()
			return
		}
		defer c.Close()
		for !stop() {
			k := int(next.Add(1) - 1)
			if k >= len(todo) {
				return
			}
			o := &rows[todo[k]]
			res, err := m.deliver(ctx, c, o, msgs[todo[k]])
			if res.Sent > 0 {
				marks <- o
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
	if firstErr != nil {
		return st, firstErr
	}
	// Rows no connection took: the server could not be reached.
	for k := min(int(next.Load()), len(todo)); k < len(todo); k++ {
		st.Retried++
		if rerr := m.retry(ctx, &rows[todo[k]], "connect: "+fmt.Sprint(dialErr)); rerr != nil {
			return st, rerr
		}
	}
	return st, nil
}

func (s *Stats) add(o Stats) {
	s.Sent += o.Sent
	s.Retried += o.Retried
	s.Failed += o.Failed
}

// deliver sends one row on an open connection and records a failure; a
// delivery is recorded by the caller's group commit. The error is a
// failure to record (the database), not of SMTP.
func (m *Mailer) deliver(ctx context.Context, c *mail.Client, o *store.Outbox, msg *mail.Msg) (Stats, error) {
	err := c.Send(msg)
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
	ev := &store.Event{IncidentID: o.IncidentID, Kind: "delivery_failed", Actor: "helpdeskd",
		Detail: fmt.Sprintf("%s <%s> to %s failed: %s", o.Kind, o.MessageID, o.ToAddrs, reason), CreatedAt: m.Now()}
	return m.Store.OutboxFailed(ctx, o, reason, ev)
}

// Compose builds the message of an outbox row (exported for tests and
// previews). Without a store it cannot read forwarded attachments: a row
// with some is an error.
func Compose(cfg *config.Config, o *store.Outbox) (*mail.Msg, error) {
	return (&Mailer{Cfg: cfg}).compose(context.Background(), o)
}

func (m *Mailer) compose(ctx context.Context, o *store.Outbox) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(o.FromAddr); err != nil {
		return nil, fmt.Errorf("from %q: %w", o.FromAddr, err)
	}
	to := splitList(o.ToAddrs)
	if len(to) == 0 {
		return nil, errors.New("no recipient")
	}
	if err := msg.To(to...); err != nil {
		return nil, fmt.Errorf("to %q: %w", o.ToAddrs, err)
	}
	if cc := splitList(o.CcAddrs); len(cc) > 0 {
		if err := msg.Cc(cc...); err != nil {
			return nil, fmt.Errorf("cc %q: %w", o.CcAddrs, err)
		}
	}
	if o.ReplyTo != "" {
		if err := msg.ReplyTo(o.ReplyTo); err != nil {
			return nil, fmt.Errorf("Reply-To %q: %w", o.ReplyTo, err)
		}
	}
	msg.Subject(oneLine(o.Subject))
	msg.SetDate()
	msg.SetMessageIDWithValue(o.MessageID)
	if o.InReplyTo != "" {
		msg.SetGenHeader(mail.HeaderInReplyTo, "<"+o.InReplyTo+">")
	}
	if refs := strings.Fields(o.Refs); len(refs) > 0 {
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
	if err != nil || len(atts) == 0 {
		return err
	}
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
