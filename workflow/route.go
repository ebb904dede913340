package workflow

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
)

// Routing decision for a new incident: the first [[route]] whose keywords
// appear as whole words in the subject or the first lines of the new text
// (and whose from_domains, if any, include the sender's domain), else
// [routing] default_assignee.
type routing struct {
	assignee string
	category string
	priority string
	informed []string
	reason   string
	assigned bool // by #assign or the administrator, not by a route
}

// routeLines is how many lines of the new text keywords are looked for
// in, besides the subject: the request, not a pasted log or a footer.
const routeLines = 5

func route(cfg *config.Config, m *mailparse.Message) routing {
	text := words(m.Subject + " " + firstLines(requestText(m), routeLines))
	domain := ""
	if i := strings.LastIndexByte(m.From.Addr, '@'); i >= 0 {
		domain = strings.ToLower(m.From.Addr[i+1:])
	}
	for _, r := range cfg.Routes {
		if len(r.FromDomains) > 0 && !containsString(r.FromDomains, domain) {
			continue
		}
		why := ""
		if len(r.Keywords) == 0 {
			why = "sender domain " + domain
		}
		for _, k := range r.Keywords {
			if strings.Contains(text, words(k)) {
				why = fmt.Sprintf("keyword %q", k)
				break
			}
		}
		if why == "" {
			continue
		}
		return routing{assignee: r.Assign, category: r.Category, priority: r.Priority, informed: r.Informed,
			reason: fmt.Sprintf("route %q: %s", r.Name, why)}
	}
	if d := cfg.Routing.DefaultAssignee; d != "" {
		return routing{assignee: d, reason: "no route matched: default assignee"}
	}
	return routing{reason: "no route matched and no default assignee: unassigned"}
}

// words lower-cases s and keeps only its words, each between spaces, so
// that " printer " matches the word and not "printers".
func words(s string) string {
	var b strings.Builder
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

func firstLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		out = append(out, l)
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, " ")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// NoticeData is what the notify and informed templates see.
type NoticeData struct {
	HelpdeskName  string
	Key           string
	Subject       string
	Requester     string
	RequesterName string
	Priority      string
	Category      string
	Assignee      string
	Reason        string
	// Text is the request: the incident's first message, whatever mail
	// led to the notice (a new incident, an #assign).
	Text        string
	Attachments []AttachmentLine
}

// notifyAssignee queues the notice of an incident to whoever it was
// routed or assigned to (the members of a team, or a provider's intake
// address) and the short notice to the informed. The notice quotes the
// request (the incident's first message) and forwards its attachments
// (see forward). The mails are tagged, Reply-To the helpdesk, and carry
// our Message-ID, so that replies thread back.
func (p *processing) notifyAssignee(ctx context.Context, inc *store.Incident, r routing) error {
	cfg := p.e.Cfg
	first, err := p.firstMessage(ctx, inc)
	if err != nil {
		return err
	}
	data := NoticeData{
		HelpdeskName: cfg.Helpdesk.Name, Key: inc.Key, Subject: inc.Subject, Requester: inc.Requester,
		RequesterName: inc.RequesterName, Priority: string(inc.Priority), Category: inc.Category,
		Assignee: cfg.DisplayName(inc.Assignee), Reason: r.reason, Text: first.text,
	}
	var to []string
	var kind OutboxKind
	if pt := directoryOf(cfg).Party(inc.Assignee); pt != nil && pt.Kind == Team {
		to, kind = pt.Members, OutNotifyTeam
	} else if pt != nil {
		to, kind = []string{pt.Provider.Intake}, OutNotifyProvider
	}
	// One notice per incident and assignee when routed; one per
	// assignment when assigned by command.
	suffix := ""
	if r.assigned {
		suffix = ":" + inc.Assignee + ":" + p.now.Format(time.RFC3339Nano)
	}
	if len(to) > 0 {
		refs, lines := p.forward(inc, first)
		d := data
		d.Attachments = lines
		if err := p.queueNotice(inc, kind, "notify", to, d, first.messageID, suffix, refs); err != nil {
			return err
		}
	}
	if len(r.informed) > 0 {
		return p.queueNotice(inc, "informed", "informed", r.informed, data, first.messageID, suffix, nil)
	}
	return nil
}

func (p *processing) queueNotice(inc *store.Incident, kind OutboxKind, tmpl string, to []string, data NoticeData, request, suffix string, attach []attachRef) error {
	o, queued, err := p.send(inc, outgoing{
		kind: kind, template: tmpl, data: data, dedupe: string(kind) + ":" + inc.Key + suffix, to: strings.Join(to, ", "),
		// Threaded with the request, so a provider's system that keeps
		// References can answer into the same conversation.
		inReplyTo: request, refs: request,
		// Notices are generated, not replies: RFC 3834 systems do not
		// answer them automatically. Not counted against auto_reply_limit:
		// that limit protects people who write in, not staff from their
		// work.
		autoSubmitted: "auto-generated",
		attach:        attach,
	})
	if err != nil || !queued {
		return err
	}
	detail := fmt.Sprintf("%s <%s> queued to %s", kind, o.MessageID, o.ToAddrs)
	if n := len(attach); n > 0 {
		detail += fmt.Sprintf(" with %d attachment(s)", n)
	}
	return p.event(inc, "notified", "helpdeskd", detail)
}

// staffName is the team whose member addr is, or the provider whose
// domain or intake address it has; "" for anyone else.
func staffName(cfg *config.Config, addr string) string {
	if p := directoryOf(cfg).Staff(addr); p != nil {
		return p.Name
	}
	return ""
}

// inChain reports whether addr is on a team's or provider's reporting
// chain: staff for commands, though not of any assignee.
func inChain(cfg *config.Config, addr string) bool { return directoryOf(cfg).InChain(addr) }

// RelayData is what the relay template sees.
type RelayData struct {
	HelpdeskName string
	Key          string
	Subject      string
	// From is who wrote: the display name of the team or provider
	// ([[team]] display_name, "IT team"), or the requester's name.
	From        string
	Text        string
	Attachments []AttachmentLine
	// Unverified: the requester's mail carried no authentication; it
	// reaches an in-house team all the same (they must read it), marked
	// so, and never a provider or the requester.
	Unverified bool
}

// relay queues a copy of a human reply (its new text without command
// lines, and its attachments within [routing] forward_attachments_max) to
// the other side of an incident: the assignee's reply to the requester
// (when the assignee relays: relay, default true), the requester's reply
// to the assignee (always: a team's members, a provider's intake). Only
// the new text goes (no quoted history, no signature), from the helpdesk
// address and tagged, with a Message-ID of ours, so the other side's
// answer threads back; In-Reply-To/References continue the conversation
// that side has seen (RFC 5322 3.6.4), and mail to a provider carries its
// own ticket number once known. Relays are marked Auto-Submitted: an RFC
// 3834 system does not acknowledge them, and automatic mail is never
// relayed, so two ticket systems cannot loop.
func (p *processing) relay(ctx context.Context, inc *store.Incident, staff string, isRequester bool, text string) error {
	cfg, m := p.e.Cfg, p.msg
	if m.Kind.Automatic() || inc.Assignee == "" || p.resolutionQueued {
		return nil
	}
	// A mail with a #note line is internal, even when the note was
	// refused (not authenticated): what is under it is not relayed.
	if cmds, _ := parseCommands(m.NewText); hasCommand(cmds, "note") {
		return nil
	}
	assigneeSide := cfg.RelayTo(inc.Assignee)
	if len(assigneeSide) == 0 {
		return nil
	}
	var to []string
	var kind OutboxKind
	var from, inReplyTo, refs string
	subject := TaggedSubject(inc.Key, inc.Subject)
	var err error
	switch {
	case staff != "" && staff == inc.Assignee && isRequester:
		// The assignee's own system opened the incident (a provider's
		// ticket system): its mail goes nowhere, least of all back to
		// itself, where each relay would start another round.
		return nil
	case staff != "" && staff == inc.Assignee && !isRequester:
		if !cfg.RelaysToRequester(inc.Assignee) {
			return nil
		}
		to, kind, from = []string{inc.Requester}, "relay_to_requester", cfg.DisplayName(staff)
		if inReplyTo, refs, err = p.requesterThread(ctx, inc); err != nil {
			return err
		}
	case isRequester:
		to, kind = assigneeSide, "relay_to_assignee"
		from = inc.RequesterName
		if from == "" {
			from = inc.Requester
		}
		if inReplyTo, refs, err = p.assigneeThread(ctx, inc); err != nil {
			return err
		}
		if pt := directoryOf(cfg).Party(inc.Assignee); pt != nil && pt.Provider != nil {
			t, err := p.providerTicket(ctx, inc, pt.Provider)
			if err != nil {
				return err
			}
			if t != "" && !strings.Contains(subject, t) {
				subject += " " + t
			}
		}
	default:
		return nil
	}
	unverified := false
	if ok, _ := p.authenticated(); !ok {
		// Relayed mail goes out from the helpdesk's own address: a
		// forged reply must not reach the requester or a provider under
		// it. The requester's reply still reaches an in-house team (it
		// must be read), marked as not verified.
		if pt := directoryOf(cfg).Party(inc.Assignee); !isRequester || pt == nil || pt.Kind != Team {
			p.deny("not relayed to " + strings.Join(to, ", "))
			return nil
		}
		unverified = true
		p.deny("relayed to " + strings.Join(to, ", ") + " marked as not verified")
	}
	// Never back to whoever wrote it.
	var others []string
	for _, a := range to {
		if !strings.EqualFold(a, m.From.Addr) {
			others = append(others, a)
		}
	}
	if to = others; len(to) == 0 {
		return nil
	}
	attach, lines := p.forward(inc, p.current())
	o, queued, err := p.send(inc, outgoing{
		kind: kind, template: "relay", dedupe: "relay:" + cleanText(m.MessageID) + ":" + m.ContentHash,
		data: RelayData{HelpdeskName: cfg.Helpdesk.Name, Key: inc.Key, Subject: subject,
			From: from, Text: cleanText(text), Attachments: lines, Unverified: unverified},
		to: strings.Join(to, ", "), autoSubmitted: "auto-generated",
		inReplyTo: inReplyTo, refs: refs, attach: attach,
	})
	if err != nil || !queued {
		return err
	}
	return p.event(inc, "relayed", m.From.Addr, fmt.Sprintf("reply of %s relayed to %s as <%s>", m.From.Addr, o.ToAddrs, o.MessageID))
}

func hasCommand(cmds []command, name string) bool {
	for _, c := range cmds {
		if c.name == name {
			return true
		}
	}
	return false
}

// requestText is what a new request says in its own words: its new text,
// or, for a plain forward with nothing of the sender's own above it, the
// forwarded message.
func requestText(m *mailparse.Message) string {
	if strings.TrimSpace(m.NewText) == "" {
		return m.Forwarded
	}
	return m.NewText
}
