package mailbox

import (
	"context"
	"fmt"

	"github.com/helpdeskd/helpdeskd/config"
)

// CheckLogin connects to the [imap] server of cfg as intake would (TLS or
// STARTTLS with tls_ca_file, the same timeouts), logs in, selects the
// folder and logs out. The error names the step that failed: "imap:
// connect to HOST:PORT: …", "imap: login as USER: …" (the server's
// answer, e.g. AUTHENTICATIONFAILED) or "imap: select FOLDER: …".
func CheckLogin(ctx context.Context, cfg config.IMAP) error {
	s, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.close(ctx)
	if err := s.do(ctx, func() error {
		_, err := s.c.Select(cfg.Folder, nil).Wait()
		return err
	}); err != nil {
		return fmt.Errorf("imap: select %s: %w", cfg.Folder, err)
	}
	return nil
}
