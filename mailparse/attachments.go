package mailparse

import "fmt"

// AttachmentData parses raw again with opts (the limits it was stored
// with, so parts are read in the same order) and returns its index-th
// attachment (0-based, the order of Message.Attachments) with its
// decoded bytes in Data. An index out of range is an error naming how
// many attachments the message has.
func AttachmentData(raw []byte, opts Options, index int) (Attachment, error) {
	opts.KeepAttachments = true
	m, err := Parse(raw, opts)
	if err != nil {
		return Attachment{}, err
	}
	if index < 0 || index >= len(m.Attachments) {
		return Attachment{}, fmt.Errorf("mailparse: attachment %d of a message with %d", index, len(m.Attachments))
	}
	return m.Attachments[index], nil
}
