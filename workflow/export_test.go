package workflow

import (
	"context"

	"github.com/helpdeskd/helpdeskd/store"
)

// SetFailHook makes processing call f after a message's decision and
// before it is stored; an error from f fails that message.
func SetFailHook(e *Engine, f func(ctx context.Context, tx *store.Tx, subject string) error) {
	e.failHook = f
}

// SetRowHook lets a test change a message's row before it is written.
func SetRowHook(e *Engine, f func(*store.Message)) { e.rowHook = f }

// NewFingerprintOfMail is the fingerprint of a mail as the repeat
// decision makes it: the subject, and the first line of text that is
// not a greeting.
func NewFingerprintOfMail(subject, text string) Fingerprint {
	return NewFingerprint(subject, requestLine(text), nil)
}
