package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// OutboxAttachment is one attachment an outgoing mail forwards, by
// reference: the Index-th entry (0-based) of the attachments of the
// stored message MessagePK, whose raw bytes are in message_raw.
type OutboxAttachment struct {
	MessagePK   int64  `json:"message_pk"`
	Index       int    `json:"index"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// OutboxAttachments decodes o.Attachments; an empty column is none.
func (o *Outbox) OutboxAttachments() ([]OutboxAttachment, error) {
	if o.Attachments == "" || o.Attachments == "[]" {
		return nil, nil
	}
	var out []OutboxAttachment
	if err := json.Unmarshal([]byte(o.Attachments), &out); err != nil {
		return nil, fmt.Errorf("store: outbox %d attachments: %w", o.ID, err)
	}
	return out, nil
}

// MessageRaw returns the raw bytes of a stored message (ErrNotFound when
// there is no such message).
func (r Reader) MessageRaw(ctx context.Context, messagePK int64) ([]byte, error) {
	var raw []byte
	if err := sqlx.GetContext(ctx, r.x, &raw, r.s.q("message-raw"), messagePK); err != nil {
		return nil, noRows(err)
	}
	return raw, nil
}
