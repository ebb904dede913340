package workflow

import (
	"fmt"
	"strings"

	"github.com/helpdeskd/helpdeskd/mailparse"
)

// LoopHeader marks every mail helpdeskd sends; its value is the helpdesk
// address. A message that comes back carrying it is our own.
const LoopHeader = "X-Helpdeskd-Loop"

// IsOwnMail reports whether a message was sent by this helpdesk: from its
// own address, or carrying our loop header.
func IsOwnMail(m *mailparse.Message, helpdeskAddr string) (bool, string) {
	if m.From.Addr != "" && strings.EqualFold(m.From.Addr, helpdeskAddr) {
		return true, "sent from the helpdesk's own address " + helpdeskAddr
	}
	for _, v := range m.HeaderValues(LoopHeader) {
		if strings.EqualFold(strings.TrimSpace(v), helpdeskAddr) {
			return true, LoopHeader + " header: our own mail came back"
		}
	}
	return false, ""
}

// AckDecision says whether a new incident gets an acknowledgement.
type AckDecision struct {
	Send   bool
	Reason string // why not, when Send is false
}

// DecideAck applies the loop rules of RFC 3834 and the per-address limit:
// never answer automatic mail (auto replies, auto-generated alerts,
// bounces, lists), mail without a usable sender, our own address, or an
// address that already got limit automatic mails in the last hour.
func DecideAck(m *mailparse.Message, helpdeskAddr string, sentLastHour, limit int) AckDecision {
	if m.Kind.Automatic() {
		return AckDecision{Reason: fmt.Sprintf("%s (%s): nothing automatic answers automatic mail", m.Kind, m.KindReason)}
	}
	if m.From.Addr == "" || !strings.Contains(m.From.Addr, "@") {
		return AckDecision{Reason: "no usable sender address"}
	}
	if strings.EqualFold(m.From.Addr, helpdeskAddr) {
		return AckDecision{Reason: "sender is the helpdesk itself"}
	}
	if m.NullReturnPath {
		return AckDecision{Reason: "null return path (<>): the sender accepts no replies"}
	}
	if sentLastHour >= limit {
		return AckDecision{Reason: fmt.Sprintf("limit reached: %d automatic mails to %s in the last hour ([helpdesk] auto_reply_limit = %d)", sentLastHour, m.From.Addr, limit)}
	}
	return AckDecision{Send: true}
}
