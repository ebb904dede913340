// Package mailsim runs real mail servers on loopback for the demo and for
// tests: an IMAP server (go-imap v2 imapserver + imapmemserver) holding
// the helpdesk's mailbox, and an SMTP server (go-smtp) that captures what
// helpdeskd sends, writes each message as an .eml file, and delivers mail
// addressed to the helpdesk into the IMAP inbox, so a person can write to
// the demo with any mail client.
//
// Nothing here is a mock: helpdeskd talks to these servers over TCP with
// the same code it uses against Dovecot and Postfix.
package mailsim

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// IMAPServer is an in-memory IMAP server on 127.0.0.1.
type IMAPServer struct {
	Addr     string
	Host     string
	Port     int
	User     string
	Password string

	srv  *imapserver.Server
	ln   net.Listener
	user *imapmemserver.User
}

// IMAPOptions tune the server.
type IMAPOptions struct {
	// Rev1Only advertises only IMAP4rev1 (+IDLE), so clients must use the
	// MOVE fallback and cannot rely on UIDPLUS.
	Rev1Only bool
	// Folders to create besides INBOX.
	Folders []string
}

// StartIMAP starts the server with one user owning INBOX.
func StartIMAP(user, password string, opts IMAPOptions) (*IMAPServer, error) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(user, password)
	if err := u.Create("INBOX", nil); err != nil {
		return nil, err
	}
	for _, f := range opts.Folders {
		if err := u.Create(f, nil); err != nil {
			return nil, err
		}
	}
	mem.AddUser(u)
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	if opts.Rev1Only {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln)
	addr := ln.Addr().(*net.TCPAddr)
	return &IMAPServer{Addr: ln.Addr().String(), Host: "127.0.0.1", Port: addr.Port,
		User: user, Password: password, srv: srv, ln: ln, user: u}, nil
}

// Append adds a message to a folder as a mail server's delivery would.
func (s *IMAPServer) Append(folder string, raw []byte, flags ...imap.Flag) error {
	_, err := s.user.Append(folder, bytes.NewReader(raw), &imap.AppendOptions{Flags: flags, Time: time.Now()})
	return err
}

// Close stops the server and drops every connection.
func (s *IMAPServer) Close() error {
	return s.srv.Close()
}

// Captured is one message the SMTP server accepted.
type Captured struct {
	From string
	To   []string
	Data []byte
	File string // .eml path, when the server writes files
}

// SMTPServer captures mail on 127.0.0.1.
type SMTPServer struct {
	Addr string
	Host string
	Port int

	mu        sync.Mutex
	captured  []Captured
	dir       string
	local     map[string]bool
	deliver   func(raw []byte) error
	fail      func(rcpt string) *smtp.SMTPError
	srv       *smtp.Server
	ln        net.Listener
	received  chan struct{}
	seq       int
	count     int
	countOnly bool
	user      string
	password  string
}

// SMTPOptions tune the capture server.
type SMTPOptions struct {
	// Dir, if set, receives every captured message as NNNN.eml.
	Dir string
	// Local addresses are delivered with Deliver instead of captured
	// (the helpdesk's own address in the demo).
	Local   []string
	Deliver func(raw []byte) error
	// TLS, if true, offers STARTTLS with Certificate, or a self-signed
	// certificate for 127.0.0.1 when that is nil.
	TLS         bool
	Certificate *tls.Certificate
	// CountOnly keeps no copies, only the count (Count); for load tests,
	// so that the capture does not grow with the run.
	CountOnly bool
	// Username and Password, if set, offer AUTH PLAIN and accept only
	// these (535 otherwise). Mail is accepted without AUTH either way.
	Username, Password string
}

// StartSMTP starts the capture server.
func StartSMTP(opts SMTPOptions) (*SMTPServer, error) {
	s := &SMTPServer{dir: opts.Dir, deliver: opts.Deliver, local: map[string]bool{}, received: make(chan struct{}, 1), countOnly: opts.CountOnly,
		user: opts.Username, password: opts.Password}
	for _, a := range opts.Local {
		s.local[strings.ToLower(a)] = true
	}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 64 << 20
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if opts.TLS {
		var (
			cert tls.Certificate
			err  error
		)
		if opts.Certificate != nil {
			cert = *opts.Certificate
		} else if cert, err = SelfSigned("127.0.0.1"); err != nil {
			return nil, err
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.srv, s.ln = srv, ln
	go srv.Serve(ln)
	s.Addr = ln.Addr().String()
	s.Host = "127.0.0.1"
	s.Port = ln.Addr().(*net.TCPAddr).Port
	return s, nil
}

// Fail makes the server answer RCPT for matching recipients with an
// error (nil: accept). Tests use it for 4xx and 5xx answers.
func (s *SMTPServer) Fail(f func(rcpt string) *smtp.SMTPError) {
	s.mu.Lock()
	s.fail = f
	s.mu.Unlock()
}

// Captured returns a copy of what was captured so far.
func (s *SMTPServer) Captured() []Captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Captured(nil), s.captured...)
}

// Count is how many messages were accepted for capture.
func (s *SMTPServer) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Close stops the server.
func (s *SMTPServer) Close() error { return s.srv.Close() }

// NewSession implements smtp.Backend.
func (s *SMTPServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }

type session struct {
	s    *SMTPServer
	from string
	to   []string
}

// AuthMechanisms implements smtp.AuthSession: PLAIN when the server has
// a user.
func (x *session) AuthMechanisms() []string {
	if x.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth implements smtp.AuthSession.
func (x *session) Auth(mech string) (sasl.Server, error) {
	if x.s.user == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.user || pass != x.s.password {
			return smtp.ErrAuthFailed
		}
		return nil
	}), nil
}
func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	fail := x.s.fail
	x.s.mu.Unlock()
	if fail != nil {
		if e := fail(to); e != nil {
			return e
		}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := x.s
	var captureTo []string
	for _, rcpt := range x.to {
		if s.local[strings.ToLower(rcpt)] && s.deliver != nil {
			if err := s.deliver(data); err != nil {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: err.Error()}
			}
			continue
		}
		captureTo = append(captureTo, rcpt)
	}
	if len(captureTo) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	if s.countOnly {
		return nil
	}
	c := Captured{From: x.from, To: captureTo, Data: data}
	if s.dir != "" {
		s.seq++
		c.File = filepath.Join(s.dir, fmt.Sprintf("%04d.eml", s.seq))
		if err := os.WriteFile(c.File, data, 0o644); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: err.Error()}
		}
	}
	s.captured = append(s.captured, c)
	select {
	case s.received <- struct{}{}:
	default:
	}
	return nil
}

// SelfSigned makes a certificate for host, valid for a day.
func SelfSigned(host string) (tls.Certificate, error) {
	certPEM, keyPEM, err := SelfSignedPEM(host)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// SelfSignedPEM is SelfSigned as PEM files, for servers that are not in
// this process (Dovecot) and for clients that trust the certificate.
func SelfSignedPEM(host string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}

// ErrNoMail is returned by WaitFor when nothing arrives in time.
var ErrNoMail = errors.New("mailsim: no mail arrived in time")

// WaitFor waits until at least n messages were captured.
func (s *SMTPServer) WaitFor(n int, timeout time.Duration) ([]Captured, error) {
	deadline := time.After(timeout)
	for {
		if c := s.Captured(); len(c) >= n {
			return c, nil
		}
		select {
		case <-s.received:
		case <-deadline:
			return s.Captured(), ErrNoMail
		}
	}
}
