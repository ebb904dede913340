package mailparse

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// Bounce is what a delivery failure report says about the mail that
// failed. It is filled for messages classified as bounces, from the
// machine-readable part of a DSN (RFC 3464: message/delivery-status) when
// there is one, otherwise from the text that MTAs without DSN write
// (qmail, Postfix, Exchange, Lotus, Sendmail).
type Bounce struct {
	// Recipients are the addresses that failed.
	Recipients []string `json:"recipients,omitempty"`
	// Status is the RFC 3463 enhanced status code, e.g. "5.1.1".
	Status string `json:"status,omitempty"`
	// Permanent is true when the address itself will not work: an
	// unknown user or domain, a moved mailbox. A full mailbox, a message
	// that is too big or a policy refusal may pass later and are not.
	Permanent bool `json:"permanent"`
	// Delayed is true for a delay warning: the MTA still holds the mail
	// and keeps trying (RFC 3464 Action: delayed, "Delivery Status
	// Notification (Delay)", "Warning: message delayed", "this is a
	// warning message only"). A delay is never permanent; a report that
	// also names a failed recipient is a failure, not a delay.
	Delayed bool `json:"delayed,omitempty"`
	// Diagnostic is the remote server's answer, as reported.
	Diagnostic string `json:"diagnostic,omitempty"`
	// OriginalMessageID is the Message-ID of the mail that bounced, when
	// the report quotes it.
	OriginalMessageID string `json:"original_message_id,omitempty"`
}

var (
	statusRe  = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)
	smtpRe    = regexp.MustCompile(`\b([245])\d\d\b`)
	origIDRe  = regexp.MustCompile(`(?im)^\s*Message-ID:\s*<?([^<>\s]+@[^<>\s]+)>?`)
	recipLine = []*regexp.Regexp{
		// qmail: "<user@example.com>:"
		regexp.MustCompile(`(?m)^<([^<>\s]+@[^<>\s]+)>:\s*$`),
		// Postfix and Sendmail: "<user@example.com>: host … said:" / "   ----- The following addresses had permanent fatal errors -----\n<user@x>"
		regexp.MustCompile(`(?m)^\s*<([^<>\s]+@[^<>\s]+)>[:.]?\s`),
		// Exchange and others: "user@example.com" on a line after "could not be delivered to"
		regexp.MustCompile(`(?im)(?:recipient|to|address(?:es)?)[^\n:]{0,40}:\s*<?([^<>\s,;]+@[^<>\s,;]+?)>?\s*$`),
	}
	// Diagnostics that mean the address itself is bad.
	hardText = regexp.MustCompile(`(?i)user unknown|unknown user|no such (?:user|mailbox|recipient)|does not exist|doesn't exist|not exist|invalid (?:recipient|mailbox|address)|unrouteable|host not found|domain not found|no mx|name or service not known|account (?:has been )?disabled|not our customer|unknown recipient|unknown local part|mailbox not found|user not found|undeliverable address|bad destination|no longer (?:with|valid|available)`)
)

// permanentStatus says whether an RFC 3463 status means the address will
// not work: bad destination mailbox (5.1.1), system (5.1.2), address
// syntax (5.1.3), mailbox moved (5.1.6), no MX (5.1.10). Sender problems
// (5.1.7, 5.1.8) and "other address status" (5.1.0) say nothing certain
// about the recipient.
func permanentStatus(st string) bool {
	switch st {
	case "5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10":
		return true
	}
	return false
}

// readDSN fills b from a message/delivery-status body: per-recipient
// blocks of "Final-Recipient", "Action", "Status", "Diagnostic-Code".
func (b *Bounce) readDSN(body []byte) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var field, action string
	var failed, delayed bool
	set := func(name, value string) {
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "final-recipient", "original-recipient":
			addr := value
			if i := strings.IndexByte(addr, ';'); i >= 0 {
				addr = strings.TrimSpace(addr[i+1:])
			}
			addr = strings.Trim(addr, "<> ")
			if addr != "" && strings.EqualFold(name, "final-recipient") && !containsFold(b.Recipients, addr) {
				b.Recipients = append(b.Recipients, strings.ToLower(addr))
			}
		case "action":
			action = strings.ToLower(value)
			failed = failed || action == "failed"
			delayed = delayed || action == "delayed"
		case "status":
			if m := statusRe.FindString(value); m != "" && (b.Status == "" || action == "failed") {
				b.Status = m
			}
		case "diagnostic-code":
			if i := strings.IndexByte(value, ';'); i >= 0 {
				value = strings.TrimSpace(value[i+1:])
			}
			if b.Diagnostic == "" {
				b.Diagnostic = truncate(value, 500)
			}
		}
	}
	var name, value string
	flush := func() {
		if name != "" {
			set(name, value)
		}
		name, value = "", ""
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			value += " " + strings.TrimSpace(line)
			continue
		}
		flush()
		if i := strings.IndexByte(line, ':'); i > 0 {
			name, value = line[:i], line[i+1:]
		}
	}
	flush()
	_ = field
	if delayed && !failed {
		b.Delayed = true
	}
}

// delayText is what MTAs without DSN write in a delay warning.
var delayText = lowerRe(`delivery status notification \(delay\)|delivery (?:to the following recipients? )?(?:has been|is|was) delayed|\bdelivery delayed|\bdelayed mail\b|warning: (?:message .{0,80})?delayed|message (?:has been |was )?delayed|this is a warning message only|you do not need to resend|has not yet been delivered|delivery attempts will continue|will (?:continue to )?(?:retry|try again|keep trying)|still trying to deliver|zustellung verzögert|verzögerte zustellung|remise retardée|retard de (?:la )?remise|entrega retrasada|consegna ritardata|bezorging vertraagd`)

// delayWord is the cheap test before delayText: a word every delay
// warning holds.
var delayWord = regexp.MustCompile(`delay|retry|try again|trying|warning|resend|not yet|attempts|verzög|retard|retras|ritard|vertraag`)

// failText says the delivery failed for good, which outweighs a delay
// phrase in the same report.
var failText = lowerRe(`permanent(?:ly)? (?:error|fatal|failure|failed)|could not be delivered|delivery (?:has )?failed|gave up|giving up|undeliverable|user unknown|no such user|does not exist`)

// reportHead is how much of a report's text is searched for recipients,
// status and diagnostic: MTAs write them at the top, and the returned
// mail below can be long.
const reportHead = 16 << 10

func head(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// readText fills what the DSN did not give from the report's text.
func (b *Bounce) readText(text string) {
	full := text
	text = head(text, reportHead)
	if b.Status == "" {
		if m := statusRe.FindString(text); m != "" {
			b.Status = m
		}
	}
	if len(b.Recipients) == 0 {
		for _, re := range recipLine {
			for _, m := range re.FindAllStringSubmatch(text, 10) {
				addr := strings.ToLower(strings.Trim(m[1], "<>.,;:"))
				if strings.Contains(addr, "@") && !containsFold(b.Recipients, addr) {
					b.Recipients = append(b.Recipients, addr)
				}
			}
			if len(b.Recipients) > 0 {
				break
			}
		}
	}
	if b.Diagnostic == "" {
		for _, line := range strings.Split(text, "\n") {
			if smtpRe.MatchString(line) && len(strings.TrimSpace(line)) > 8 {
				b.Diagnostic = truncate(strings.TrimSpace(line), 500)
				break
			}
		}
	}
	if b.OriginalMessageID == "" {
		if m := origIDRe.FindStringSubmatch(full); m != nil {
			b.OriginalMessageID = m[1]
		}
	}
}

func (b *Bounce) decidePermanence(subject, text string) {
	text = head(text, reportHead)
	if !b.Delayed && !strings.HasPrefix(b.Status, "5.") {
		// Delay warnings say so at the top.
		lowSubject, low := strings.ToLower(head(subject, 400)), strings.ToLower(head(text, 4<<10))
		if delayWord.MatchString(lowSubject+"\n"+low) &&
			(delayText.MatchString(lowSubject) || delayText.MatchString(low)) &&
			!failText.MatchString(lowSubject) && !failText.MatchString(low) {
			b.Delayed = true
		}
	}
	if b.Delayed {
		b.Permanent = false
		return
	}
	switch {
	case b.Status != "":
		b.Permanent = permanentStatus(b.Status) ||
			(strings.HasPrefix(b.Status, "5.") && hardText.MatchString(b.Diagnostic))
	default:
		// No status: the words decide, unless the server said 4xx.
		code := smtpRe.FindString(b.Diagnostic)
		b.Permanent = !strings.HasPrefix(code, "4") && hardText.MatchString(b.Diagnostic+" "+text)
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
