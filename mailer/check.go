package mailer

import (
	"context"
	"fmt"
	"net"
	"strconv"
)

// CheckLogin connects to the [smtp] server as delivery would (TLS,
// STARTTLS with tls_ca_file, the HELO name), authenticates when a
// username is configured, and quits without sending. The error names
// the step that failed: "smtp: connect to HOST:PORT: …" when nothing
// answers there, else "smtp: log in to HOST:PORT as USER: …" with the
// server's answer (e.g. 535 for a wrong password).
func (m *Mailer) CheckLogin(ctx context.Context) error {
	s := m.Cfg.SMTP
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	d := net.Dialer{Timeout: s.Timeout.Duration}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp: connect to %s: %w", addr, err)
	}
	conn.Close()
	c, err := m.client()
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	var step string
	if s.Username != "" {
		step = "log in to " + addr + " as " + s.Username
	} else {
		step = "greet " + addr
	}
	if err := c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("smtp: %s: %w", step, err)
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("smtp: quit %s: %w", addr, err)
	}
	return nil
}
