package mailbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"

	"github.com/helpdeskd/helpdeskd/config"
)

// session is one logged-in IMAP connection. Every command goes through
// do, which bounds it: go-imap v2 sets no deadline while it waits for the
// first byte of a reply, so a server that goes silent would otherwise hang
// intake for ever.
type session struct {
	c       *imapclient.Client
	timeout time.Duration
	updates chan struct{}
}

// errTimeout marks a command the server did not answer in time.
var errTimeout = errors.New("imap: server did not answer in time")

func dial(ctx context.Context, cfg config.IMAP) (*session, error) {
	s := &session{timeout: cfg.Timeout.Duration, updates: make(chan struct{}, 1)}
	tlsCfg := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.TLSCAFile != "" {
		pem, err := os.ReadFile(cfg.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("imap: [imap] tls_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("imap: [imap] tls_ca_file: no certificate in %s", cfg.TLSCAFile)
		}
		tlsCfg.RootCAs = pool
	}
	opts := &imapclient.Options{
		TLSConfig:   tlsCfg,
		Dialer:      &net.Dialer{Timeout: s.timeout},
		WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// Runs on the client's reader goroutine: never block, never
			// issue commands here.
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case s.updates <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	var c *imapclient.Client
	err := s.bounded(ctx, nil, func() error {
		var err error
		switch cfg.Security {
		case "tls":
			c, err = imapclient.DialTLS(addr, opts)
		case "starttls":
			c, err = imapclient.DialStartTLS(addr, opts)
		default:
			c, err = imapclient.DialInsecure(addr, opts)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("imap: connect to %s: %w", addr, err)
	}
	s.c = c
	if err := s.do(ctx, func() error { return c.Login(cfg.Username, cfg.Password).Wait() }); err != nil {
		c.Close()
		return nil, fmt.Errorf("imap: login as %s: %w", cfg.Username, err)
	}
	return s, nil
}

// do runs one IMAP command with the session's timeout. On timeout or
// cancellation the connection is closed, which makes the command return.
func (s *session) do(ctx context.Context, fn func() error) error {
	return s.bounded(ctx, s.c, fn)
}

func (s *session) bounded(ctx context.Context, c *imapclient.Client, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		if c != nil {
			c.Close()
		}
		<-done
		return fmt.Errorf("%w (%v)", errTimeout, s.timeout)
	case <-ctx.Done():
		if c != nil {
			c.Close()
		}
		<-done
		return ctx.Err()
	}
}

func (s *session) close(ctx context.Context) {
	if s == nil || s.c == nil {
		return
	}
	short := *s
	short.timeout = 5 * time.Second
	_ = short.do(ctx, func() error { return s.c.Logout().Wait() })
	s.c.Close()
}

// idle waits in IDLE until the server reports new mail, max passes, or
// ctx ends. It returns an error when the connection is gone.
func (s *session) idle(ctx context.Context, max time.Duration) error {
	var cmd *imapclient.IdleCommand
	if err := s.do(ctx, func() error {
		var err error
		cmd, err = s.c.Idle()
		return err
	}); err != nil {
		return fmt.Errorf("imap: idle: %w", err)
	}
	t := time.NewTimer(max)
	defer t.Stop()
	var closed bool
	select {
	case <-s.updates:
	case <-t.C:
	case <-ctx.Done():
	case <-s.c.Closed():
		closed = true
	}
	if closed {
		_ = cmd.Close()
		return errors.New("imap: connection closed during idle")
	}
	stop := context.WithoutCancel(ctx)
	if err := s.do(stop, func() error {
		if err := cmd.Close(); err != nil {
			return err
		}
		return cmd.Wait()
	}); err != nil {
		return fmt.Errorf("imap: end idle: %w", err)
	}
	return ctx.Err()
}

// moveSafely moves messages without risking them: MOVE when the server
// has it; otherwise COPY, and only if COPY succeeded, flag \Deleted and
// UID EXPUNGE just those messages. Never a bare EXPUNGE, which would also
// remove other clients' \Deleted mail; without UIDPLUS the messages stay
// flagged \Deleted in place and \Seen, for the mailbox owner to expunge.
func (s *session) moveSafely(ctx context.Context, uids []imap.UID, dest string) error {
	set := imap.UIDSetNum(uids...)
	caps := s.c.Caps()
	if caps.Has(imap.CapMove) {
		return s.do(ctx, func() error { _, err := s.c.Move(set, dest).Wait(); return err })
	}
	if err := s.do(ctx, func() error { _, err := s.c.Copy(set, dest).Wait(); return err }); err != nil {
		return fmt.Errorf("copy to %s: %w", dest, err)
	}
	flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}
	if err := s.do(ctx, func() error { return s.c.Store(set, flags, nil).Close() }); err != nil {
		return fmt.Errorf("flag copied messages deleted: %w", err)
	}
	if caps.Has(imap.CapUIDPlus) {
		return s.do(ctx, func() error { return s.c.UIDExpunge(set).Close() })
	}
	return nil
}

func (s *session) flagSeen(ctx context.Context, uids []imap.UID) error {
	flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}
	return s.do(ctx, func() error { return s.c.Store(imap.UIDSetNum(uids...), flags, nil).Close() })
}
