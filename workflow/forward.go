package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
)

// source is a message whose text a mail quotes and whose attachments it
// forwards: a stored message (pk), or one of this batch, found at the
// flush by its key.
type source struct {
	pk        int64
	key       store.MessageKey
	messageID string
	text      string
	kind      string // mailparse.Kind
	atts      []mailparse.Attachment
}

// current is the message being processed as a source.
func (p *processing) current() source {
	m := p.msg
	return source{key: store.MessageKey{MessageID: cleanText(m.MessageID), ContentHash: m.ContentHash},
		messageID: cleanText(m.MessageID), text: cleanText(m.Text), kind: string(m.Kind), atts: m.Attachments}
}

func rowSource(r *store.Message) source {
	s := source{pk: r.ID, key: store.MessageKey{MessageID: r.MessageID, ContentHash: r.ContentHash},
		messageID: r.MessageID, text: r.TextBody, kind: r.Kind}
	if r.Attachments != "" {
		_ = json.Unmarshal([]byte(r.Attachments), &s.atts) // written by us; a broken list forwards nothing
	}
	return s
}

// firstMessage is the incident's first incoming message (the request):
// stored, of this batch, or the message being processed when it opens
// the incident.
func (p *processing) firstMessage(ctx context.Context, inc *store.Incident) (source, error) {
	if inc.ID != 0 {
		msgs, err := p.u.storedMessages(ctx, inc)
		if err != nil {
			return source{}, err
		}
		for i := range msgs {
			if msgs[i].Direction == "in" {
				return rowSource(&msgs[i]), nil
			}
		}
	}
	for _, pm := range p.u.msgs {
		if pm.inc == inc {
			return rowSource(pm.row), nil
		}
	}
	return p.current(), nil
}

// AttachmentLine is one attachment as a mail lists it.
type AttachmentLine struct {
	Filename string
	Type     string
	Size     string // "12 kB"
	Attached bool
	// Why it is not attached (over [routing] forward_attachments_max).
	Why string
}

// attachRef is an attachment an outgoing mail forwards, resolved to the
// stored message at the flush.
type attachRef struct {
	pk    int64
	key   store.MessageKey
	index int
	att   mailparse.Attachment
}

// forward decides which attachments of src go with a mail: in order,
// while their sizes add up to at most [routing] forward_attachments_max;
// the others are listed by name only, and the lines say which.
func (p *processing) forward(inc *store.Incident, src source) ([]attachRef, []AttachmentLine) {
	limit := p.e.Cfg.Routing.ForwardAttachmentsMax.Bytes
	var refs []attachRef
	var lines []AttachmentLine
	var total int64
	for i, a := range src.atts {
		name := a.Filename
		if name == "" {
			name = fmt.Sprintf("(unnamed %s)", a.ContentType)
		}
		l := AttachmentLine{Filename: name, Type: a.ContentType, Size: humanize.Bytes(uint64(a.Size))}
		if total+a.Size <= limit {
			total += a.Size
			l.Attached = true
			refs = append(refs, attachRef{pk: src.pk, key: src.key, index: i, att: a})
		} else {
			l.Why = fmt.Sprintf("not attached: over the %s limit for forwarded attachments; the helpdesk keeps it (%s)",
				humanize.Bytes(uint64(limit)), Tag(inc.Key))
		}
		lines = append(lines, l)
	}
	return refs, lines
}

// resolveAttachments fills the outbox row's attachments column once the
// messages they come from have ids (at the flush, after the messages).
func (u *unit) resolveAttachments(po pendingOutbox) error {
	if len(po.attach) == 0 {
		return nil
	}
	list := make([]store.OutboxAttachment, 0, len(po.attach))
	for _, r := range po.attach {
		pk := r.pk
		if pk == 0 {
			pm := u.byKey[r.key]
			if pm == nil || pm.row.ID == 0 {
				return fmt.Errorf("workflow: attachment %q of outgoing <%s>: its message <%s> is not stored", r.att.Filename, po.o.MessageID, r.key.MessageID)
			}
			pk = pm.row.ID
		}
		list = append(list, store.OutboxAttachment{MessagePK: pk, Index: r.index, Filename: r.att.Filename,
			ContentType: r.att.ContentType, Size: r.att.Size})
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	po.o.Attachments = string(b)
	return nil
}

// threadOf lists the Message-IDs of an incident's mail that match: the
// incoming messages whose sender in() accepts and the outgoing mail
// whose kind and recipients out() accepts, stored and of this batch, in
// time order. It is the conversation one side has seen, for
// In-Reply-To/References (RFC 5322 3.6.4).
func (p *processing) threadOf(ctx context.Context, inc *store.Incident, in func(from string) bool, out func(kind, to string) bool) ([]string, error) {
	type item struct {
		id string
		at time.Time
	}
	var items []item
	if inc.ID != 0 {
		msgs, err := p.u.storedMessages(ctx, inc)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Direction == "in" && in(m.FromAddr) {
				items = append(items, item{m.MessageID, m.ReceivedAt})
			}
		}
		outs, err := p.u.storedOutbox(ctx, inc)
		if err != nil {
			return nil, err
		}
		for _, o := range outs {
			if out(o.Kind, o.ToAddrs) {
				items = append(items, item{o.MessageID, o.CreatedAt})
			}
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	var ids []string
	for _, it := range items {
		ids = append(ids, it.id)
	}
	// This batch's, in the order they were decided.
	for _, pm := range p.u.msgs {
		if pm.inc == inc && in(pm.row.FromAddr) {
			ids = append(ids, pm.row.MessageID)
		}
	}
	for _, po := range p.u.outbox {
		if po.inc == inc && out(po.o.Kind, po.o.ToAddrs) {
			ids = append(ids, po.o.MessageID)
		}
	}
	seen := map[string]bool{}
	var uniq []string
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	return uniq, nil
}

// threadHeaders turns a thread into In-Reply-To (its last mail) and
// References (all of it, at most 20: the first and the last 19).
func threadHeaders(ids []string) (inReplyTo, refs string) {
	if len(ids) == 0 {
		return "", ""
	}
	inReplyTo = ids[len(ids)-1]
	if len(ids) > 20 {
		ids = append(ids[:1:1], ids[len(ids)-19:]...)
	}
	return inReplyTo, strings.Join(ids, " ")
}

// requesterThread is what the requester has seen of an incident: their
// own messages and our mail to them.
func (p *processing) requesterThread(ctx context.Context, inc *store.Incident) (string, string, error) {
	req := strings.ToLower(inc.Requester)
	ids, err := p.threadOf(ctx, inc,
		func(from string) bool { return strings.EqualFold(from, req) },
		func(kind, to string) bool { return strings.Contains(strings.ToLower(to), req) })
	if err != nil {
		return "", "", err
	}
	in, refs := threadHeaders(ids)
	return in, refs, nil
}

// assigneeThread is what the assignee's side has seen: our notices and
// relays to it, and its own mail.
func (p *processing) assigneeThread(ctx context.Context, inc *store.Incident) (string, string, error) {
	cfg := p.e.Cfg
	ids, err := p.threadOf(ctx, inc,
		func(from string) bool { return staffName(cfg, from) == inc.Assignee },
		func(kind, to string) bool {
			return kind == "notify_team" || kind == "notify_provider" || kind == "relay_to_assignee"
		})
	if err != nil {
		return "", "", err
	}
	in, refs := threadHeaders(ids)
	return in, refs, nil
}

// providerTicket is the provider's own ticket number for an incident,
// in the form its mail used ("[ACME-4711]" or "ACME-4711"), or "" when
// none was learned.
func (p *processing) providerTicket(ctx context.Context, inc *store.Incident, prov *config.Provider) (string, error) {
	if prov.TicketRe == nil {
		return "", nil
	}
	var subjects []string
	if inc.ID != 0 {
		msgs, err := p.u.storedMessages(ctx, inc)
		if err != nil {
			return "", err
		}
		for _, m := range msgs {
			if m.Direction == "in" && staffName(p.e.Cfg, m.FromAddr) == prov.Name {
				subjects = append(subjects, m.Subject)
			}
		}
	}
	for _, pm := range p.u.msgs {
		if pm.inc == inc && staffName(p.e.Cfg, pm.row.FromAddr) == prov.Name {
			subjects = append(subjects, pm.row.Subject)
		}
	}
	for _, s := range subjects {
		for _, t := range prov.TicketRe.FindAllString(s, 5) {
			known, err := p.u.ticketIncident(ctx, prov.Name, t)
			if err != nil {
				return "", err
			}
			if known != inc {
				continue
			}
			if strings.Contains(s, "["+t+"]") {
				return "[" + t + "]", nil
			}
			return t, nil
		}
	}
	return "", nil
}

// storedMessages is what IncidentMessages reads for a stored incident,
// read once per batch (the batch's own messages are in u.msgs).
func (u *unit) storedMessages(ctx context.Context, inc *store.Incident) ([]store.Message, error) {
	if m, ok := u.incMessages[inc.ID]; ok {
		return m, nil
	}
	m, err := u.tx.IncidentMessages(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	if u.incMessages == nil {
		u.incMessages = map[int64][]store.Message{}
	}
	u.incMessages[inc.ID] = m
	return m, nil
}

// storedOutbox is what IncidentOutbox reads, once per batch (the batch's
// own outgoing mail is in u.outbox).
func (u *unit) storedOutbox(ctx context.Context, inc *store.Incident) ([]store.Outbox, error) {
	if o, ok := u.incOutbox[inc.ID]; ok {
		return o, nil
	}
	o, err := u.tx.IncidentOutbox(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	if u.incOutbox == nil {
		u.incOutbox = map[int64][]store.Outbox{}
	}
	u.incOutbox[inc.ID] = o
	return o, nil
}
