package workflow

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow/sla"
)

// unit is the work of one batch inside its transaction: what the batch
// needs from the database is read up front in a couple of statements
// (prefetch), the rules then run message by message against this
// in-memory view, and what they decide is written at the end with one
// multi-row statement per table (flush).
//
// Every lookup consults the batch's own pending records first, so a
// message sees the incidents, messages and acknowledgements of earlier
// messages of the same batch exactly as if they had been written. What was
// not prefetched is read from the transaction on demand.
type unit struct {
	e   *Engine
	tx  *store.Tx
	now time.Time

	stored     map[store.MessageKey]*store.Message // in the database before the batch
	threadDB   map[string]int64                    // referenced Message-ID → incident id
	autoSentDB map[string]int                      // sender → automatic mails in the last hour
	convDB     map[string]int64                    // Outlook conversation → incident id
	newIncDB   map[string]int                      // sender → incidents opened in the last hour
	newAuthDB  map[string]int                      // sender → of them, opened by authenticated mail
	sameID     map[string][]*store.Message         // batch Message-ID → stored incoming messages with it
	refDB      map[string]int64                    // Message-ID that stored mail referred to → incident id

	incByID  map[int64]*store.Incident
	incByKey map[string]*store.Incident

	// The batch's own records.
	counter     int64 // last incident number taken; 0: counter not read
	counterRead bool
	newIncs     []*store.Incident
	dirty       map[*store.Incident]bool
	msgs        []*pendingMessage
	byKey       map[store.MessageKey]*pendingMessage
	byMsgID     map[string][]*pendingMessage
	threadBatch map[string]*store.Incident // Message-IDs of this batch → incident
	convBatch   map[string]*store.Incident // Outlook conversations of this batch → incident
	refBatch    map[string]*store.Incident // Message-IDs this batch's mail referred to → incident
	outbox      []pendingOutbox
	queued      int // outgoing mails this unit queued, flushed or not
	dedupe      map[string]bool
	autoSent    map[string]int
	events      []pendingEvent
	bounces     []bounceMark
	tickets     map[string]*store.Incident // provider + "\x00" + ticket; nil value: not known
	learned     []learnedTicket

	// Problem management.
	problemCounter     int64
	problemCounterRead bool
	newProblems        []*store.Problem
	dirtyProblems      map[*store.Problem]bool
	problems           map[int64]*store.Problem
	problemsByKey      map[string]*store.Problem
	problemOf          map[*store.Incident]*store.Problem // links to write; nil: unlink
	fingerprinted      []*store.Incident                  // new incidents with a fingerprint, this batch
	openedBy           map[*store.Incident]string         // this batch's new incidents: the authenticated From of the mail that opened each ("" when not authenticated)
	reopened           map[*store.Problem]map[string]bool // resolved problems this batch opened again → addresses told of it since
	followUps          map[*store.Incident]int            // follow-ups this batch threaded into each incident
	told               map[*store.Problem]map[string]bool // addresses that had a notice or digest of a problem (see problemTold)
	// "#not-problem" pairs: fingerprint → fingerprints it must not be
	// linked with, read for the fingerprints in exclLoaded. Repeat
	// detection's query leaves stored incidents out by itself; these are
	// for the batch's own incidents and for commands.
	excl       map[string]map[string]bool
	exclLoaded map[string]bool

	participants map[int64][]store.ParticipantSource // stored incident → what may make participants, read on demand

	// SLA clocks (clock.go): this unit's clock events, the incidents to
	// derive again, and the stored events read so far.
	clockEvs    map[*store.Incident][]store.ClockEvent
	clockDirty  map[*store.Incident]bool
	clockStored map[int64][]store.ClockEvent

	// Stored mail of incidents, read once per batch for relays and
	// notices (see storedMessages).
	incMessages map[int64][]store.Message
	incOutbox   map[int64][]store.Outbox
}

type learnedTicket struct {
	provider, ticket string
	inc              *store.Incident
}

// bounceMark is an outgoing mail that a bounce reported as failed.
type bounceMark struct{ messageID, reason string }

// A message, outgoing mail or event belongs to an incident or to a
// problem's own thread.
type pendingMessage struct {
	row *store.Message
	raw []byte
	inc *store.Incident
	pr  *store.Problem
}

type pendingOutbox struct {
	o      *store.Outbox
	inc    *store.Incident
	pr     *store.Problem
	attach []attachRef // written to o.Attachments at the flush
}

type pendingEvent struct {
	ev  *store.Event
	inc *store.Incident
	pr  *store.Problem
	msg *pendingMessage
}

func newUnit(e *Engine, tx *store.Tx, now time.Time) *unit {
	return &unit{
		e: e, tx: tx, now: now,
		stored: map[store.MessageKey]*store.Message{}, threadDB: map[string]int64{}, autoSentDB: map[string]int{},
		incByID: map[int64]*store.Incident{}, incByKey: map[string]*store.Incident{},
		dirty: map[*store.Incident]bool{}, byKey: map[store.MessageKey]*pendingMessage{}, byMsgID: map[string][]*pendingMessage{},
		threadBatch: map[string]*store.Incident{}, dedupe: map[string]bool{}, autoSent: map[string]int{},
		convDB: map[string]int64{}, convBatch: map[string]*store.Incident{}, refBatch: map[string]*store.Incident{},
	}
}

// prefetch reads, for the messages that will be processed, whether they
// are stored, the incidents their references and tags point to, and the
// recent automatic mail to their senders.
func (u *unit) prefetch(ctx context.Context, msgs []*mailparse.Message) error {
	var keys []store.MessageKey
	var cands, senders, incKeys, convs []string
	seenC, seenS := map[string]bool{}, map[string]bool{}
	for _, m := range msgs {
		keys = append(keys, store.MessageKey{MessageID: cleanText(m.MessageID), ContentHash: m.ContentHash})
		for _, c := range candidates(m) {
			if !seenC[c] {
				seenC[c] = true
				cands = append(cands, c)
			}
			if k := u.e.keys.KeyOfMessageID(c); k != "" {
				incKeys = append(incKeys, k)
			}
		}
		if s := strings.ToLower(cleanText(m.From.Addr)); s != "" && !seenS[s] {
			seenS[s] = true
			senders = append(senders, s)
		}
		incKeys = append(incKeys, u.e.keys.TagsIn(m.Subject)...)
		if c := ConversationID(m.ThreadIndex); c != "" {
			convs = append(convs, c)
		}
	}
	senderKeys := make([]string, 0, len(senders))
	for _, s := range senders {
		senderKeys = append(senderKeys, senderKey(s))
	}
	lk, err := u.tx.PrefetchBatch(ctx, keys, cands, senders, senderKeys, convs, u.now.Add(-time.Hour))
	if err != nil {
		return err
	}
	u.stored, u.threadDB, u.autoSentDB, u.convDB, u.newIncDB, u.sameID = lk.Stored, lk.ThreadIncident, lk.AutoMailSent, lk.Conversation, lk.NewIncidents, lk.SameID
	u.newAuthDB = lk.NewIncidentsAuthenticated
	u.refDB = lk.RefIncident
	var ids []int64
	seenID := map[int64]bool{}
	for _, id := range lk.ThreadIncident {
		if !seenID[id] {
			seenID[id] = true
			ids = append(ids, id)
		}
	}
	for _, id := range lk.Conversation {
		if !seenID[id] {
			seenID[id] = true
			ids = append(ids, id)
		}
	}
	for _, m := range lk.Stored {
		if m.IncidentID != nil && !seenID[*m.IncidentID] {
			seenID[*m.IncidentID] = true
			ids = append(ids, *m.IncidentID)
		}
	}
	for _, id := range lk.RefIncident {
		if !seenID[id] {
			seenID[id] = true
			ids = append(ids, id)
		}
	}
	for _, ms := range lk.SameID {
		for _, m := range ms {
			if m.IncidentID != nil && !seenID[*m.IncidentID] {
				seenID[*m.IncidentID] = true
				ids = append(ids, *m.IncidentID)
			}
		}
	}
	incs, err := u.tx.IncidentsForBatch(ctx, ids, incKeys)
	if err != nil {
		return err
	}
	for _, inc := range incs {
		u.incByID[inc.ID], u.incByKey[inc.Key] = inc, inc
	}
	return nil
}

// loadExclusions reads the "#not-problem" pairs of fingerprints not read
// yet.
func (u *unit) loadExclusions(ctx context.Context, fps []string) error {
	if u.excl == nil {
		u.excl, u.exclLoaded = map[string]map[string]bool{}, map[string]bool{}
	}
	var want []string
	for _, fp := range fps {
		if !u.exclLoaded[fp] {
			u.exclLoaded[fp] = true
			want = append(want, fp)
		}
	}
	if len(want) == 0 {
		return nil
	}
	got, err := u.tx.ExclusionsFor(ctx, want)
	if err != nil {
		return err
	}
	for fp, others := range got {
		for o := range others {
			u.setExcluded(fp, o, true)
		}
	}
	return nil
}

func (u *unit) setExcluded(a, b string, on bool) {
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		if u.excl[pair[0]] == nil {
			u.excl[pair[0]] = map[string]bool{}
		}
		if on {
			u.excl[pair[0]][pair[1]] = true
		} else {
			delete(u.excl[pair[0]], pair[1])
		}
	}
}

// excluded reports whether "#not-problem" said fingerprints a and b are
// not the same issue. Pairs are stored both ways round, so a's pairs
// answer it, read once per batch.
func (u *unit) excluded(ctx context.Context, a, b string) (bool, error) {
	if a == "" || b == "" {
		return false, nil
	}
	if err := u.loadExclusions(ctx, []string{a}); err != nil {
		return false, err
	}
	return u.excl[a][b], nil
}

// partedProblems lists the keys of the problems "#not-problem" parted
// the incident of key from (see partedKey), sorted.
func (u *unit) partedProblems(ctx context.Context, key string) ([]string, error) {
	k := partedKey(key)
	if err := u.loadExclusions(ctx, []string{k}); err != nil {
		return nil, err
	}
	return partedProblems(u.excl[k]), nil
}

// exclude remembers that fingerprints a and b are not the same issue;
// with del it forgets that. It is written at once (in the batch's
// transaction), not at the flush: repeat detection's query reads the
// pairs.
func (u *unit) exclude(ctx context.Context, a, b, actor string, del bool) error {
	if a == "" || b == "" {
		return nil
	}
	if err := u.loadExclusions(ctx, []string{a, b}); err != nil {
		return err
	}
	var err error
	if del {
		err = u.tx.DeleteExclusion(ctx, a, b)
	} else {
		err = u.tx.AddExclusion(ctx, a, b, actor, u.now)
	}
	if err != nil {
		return err
	}
	u.setExcluded(a, b, !del)
	return nil
}

// duplicate returns the stored or batch copy of a message, if any.
func (u *unit) duplicate(ctx context.Context, k store.MessageKey) (pk func() int64, inc *store.Incident, found bool, err error) {
	if pm := u.byKey[k]; pm != nil {
		return func() int64 { return pm.row.ID }, pm.inc, true, nil
	}
	if m := u.stored[k]; m != nil {
		id := m.ID
		if m.IncidentID != nil {
			inc, err = u.incidentByID(ctx, *m.IncidentID)
			if errors.Is(err, store.ErrNotFound) {
				err = nil
			}
		}
		return func() int64 { return id }, inc, true, err
	}
	return nil, nil, false, nil
}

// copyOf finds a stored (or batch) incoming message with the same
// Message-ID and author as a message whose content differs: the same mail
// as it reached support@ another way (a mailing list that tagged the
// subject and added a footer, an alias). It is the same message.
func (u *unit) copyOf(ctx context.Context, messageID, from string) (pk func() int64, inc *store.Incident, found bool, err error) {
	from = strings.ToLower(from)
	if messageID == "" || from == "" {
		return nil, nil, false, nil
	}
	for _, pm := range u.byMsgID[messageID] {
		if strings.EqualFold(pm.row.FromAddr, from) && pm.row.Outcome != string(OutcomeDuplicate) {
			return func() int64 { return pm.row.ID }, pm.inc, true, nil
		}
	}
	for _, m := range u.sameID[messageID] {
		if m.FromAddr != from || m.Outcome == string(OutcomeDuplicate) {
			continue
		}
		id := m.ID
		if m.IncidentID != nil {
			inc, err = u.incidentByID(ctx, *m.IncidentID)
			if errors.Is(err, store.ErrNotFound) {
				err = nil
			}
		}
		return func() int64 { return id }, inc, true, err
	}
	return nil, nil, false, nil
}

func (u *unit) incidentByID(ctx context.Context, id int64) (*store.Incident, error) {
	if inc := u.incByID[id]; inc != nil {
		return inc, nil
	}
	return u.loadIncident(ctx, []int64{id}, nil)
}

func (u *unit) incidentByKey(ctx context.Context, key string) (*store.Incident, error) {
	if inc := u.incByKey[key]; inc != nil {
		return inc, nil
	}
	return u.loadIncident(ctx, nil, []string{key})
}

// loadIncident reads one incident the prefetch did not, as the prefetch
// does (locked on PostgreSQL until commit), and keeps it.
func (u *unit) loadIncident(ctx context.Context, ids []int64, keys []string) (*store.Incident, error) {
	incs, err := u.tx.IncidentsForBatch(ctx, ids, keys)
	if err != nil {
		return nil, err
	}
	if len(incs) == 0 {
		return nil, store.ErrNotFound
	}
	inc := incs[0]
	u.incByID[inc.ID], u.incByKey[inc.Key] = inc, inc
	return inc, nil
}

// threadIncident returns the incident of the first candidate that is a
// message (stored, or earlier in this batch) or an outgoing mail of one.
func (u *unit) threadIncident(ctx context.Context, cands []string) (*store.Incident, string, error) {
	for _, c := range cands {
		if inc := u.threadBatch[c]; inc != nil {
			return inc, c, nil
		}
		if id, ok := u.threadDB[c]; ok {
			inc, err := u.incidentByID(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return inc, c, err
		}
	}
	return nil, "", nil
}

// refIncident returns the incident of stored (or batch) mail that referred
// to one of cands: a sibling under an ancestor helpdeskd never received.
func (u *unit) refIncident(ctx context.Context, cands []string) (*store.Incident, string, error) {
	for _, c := range cands {
		if inc := u.refBatch[c]; inc != nil {
			return inc, c, nil
		}
		if id, ok := u.refDB[c]; ok {
			inc, err := u.incidentByID(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return inc, c, err
		}
	}
	return nil, "", nil
}

// refsOf are the Message-IDs a stored message refers to, except our own
// (those thread by rule 1).
func (u *unit) refsOf(row *store.Message) []string {
	var out []string
	for _, id := range strings.Fields(row.InReplyTo + " " + row.Refs) {
		id = strings.Trim(id, "<>")
		if id == "" || u.e.keys.KeyOfMessageID(id) != "" || u.e.problemKeys.KeyOfMessageID(id) != "" {
			continue
		}
		out = append(out, id)
	}
	return out
}

// conversationIncident returns the incident of a stored or batch message
// of the same Outlook conversation, or nil.
func (u *unit) conversationIncident(ctx context.Context, conv string) (*store.Incident, error) {
	if conv == "" {
		return nil, nil
	}
	if inc := u.convBatch[conv]; inc != nil {
		return inc, nil
	}
	id, ok := u.convDB[conv]
	if !ok {
		return nil, nil
	}
	inc, err := u.incidentByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return inc, err
}

// autoMailSent counts automatic mail to addr in the last hour, this
// batch's included.
func (u *unit) autoMailSent(addr string) int {
	a := strings.ToLower(addr)
	return u.autoSentDB[a] + u.autoSent[a]
}

// isParticipant reports whether addr is on the incident's thread: the
// sender or an addressee of the message that opened it, of an
// authenticated message from the requester or staff (stored, or in this
// batch), or a recipient of our mail about it. Addresses are compared
// exactly (case aside). An outsider never becomes a participant by
// writing in, authenticated or not, nor by putting someone in Cc.
func (u *unit) isParticipant(ctx context.Context, inc *store.Incident, addr string) (bool, error) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return false, nil
	}
	trusted := func(src store.ParticipantSource) bool {
		if src.Opener || src.From == "" {
			return true
		}
		return src.Authenticated && (strings.EqualFold(src.From, inc.Requester) || staffName(u.e.Cfg, src.From) != "")
	}
	names := func(src store.ParticipantSource) bool {
		for _, list := range []string{src.From, src.To, src.Cc} {
			for _, a := range store.AddressList(list) {
				if a == addr {
					return true
				}
			}
		}
		return false
	}
	opener := inc.ID == 0 // the batch holds the message that opened it
	for _, pm := range u.msgs {
		if pm.inc != inc {
			continue
		}
		r := pm.row
		src := store.ParticipantSource{From: r.FromAddr, To: r.ToAddrs, Cc: r.CcAddrs, Authenticated: r.Authenticated, Opener: opener}
		opener = false
		if trusted(src) && names(src) {
			return true, nil
		}
	}
	for _, po := range u.outbox {
		if po.inc == inc && names(store.ParticipantSource{To: po.o.ToAddrs, Cc: po.o.CcAddrs}) {
			return true, nil
		}
	}
	if inc.ID == 0 {
		return false, nil
	}
	if u.participants == nil {
		u.participants = map[int64][]store.ParticipantSource{}
	}
	list, ok := u.participants[inc.ID]
	if !ok {
		var err error
		if list, err = u.tx.ParticipantSources(ctx, inc.ID); err != nil {
			return false, err
		}
		u.participants[inc.ID] = list
	}
	for _, src := range list {
		if trusted(src) && names(src) {
			return true, nil
		}
	}
	return false, nil
}

// knownMessageID reports whether id is the Message-ID of a stored
// message or outgoing mail of inc, or of one queued in this batch: a
// Message-ID in our own format counts only when we really sent it.
func (u *unit) knownMessageID(id string, inc *store.Incident) bool {
	if b := u.threadBatch[id]; b != nil {
		return b == inc
	}
	incID, ok := u.threadDB[id]
	return ok && inc.ID != 0 && incID == inc.ID
}

// newIncidentsBy counts the incidents addr opened in the last hour, this
// batch's included; addresses that differ only by case or a +tag count
// as one sender. For an authenticated mail only the incidents opened by
// authenticated mail count: mail forged in the sender's name (anyone can
// write any From) must not use up the real sender's limit and hold their
// own report; unauthenticated mail counts them all.
func (u *unit) newIncidentsBy(addr string, authenticated bool) int {
	k := senderKey(addr)
	n := u.newIncDB[k]
	if authenticated {
		n = u.newAuthDB[k]
	}
	for _, inc := range u.newIncs {
		if inc.SenderKey == k && (!authenticated || u.openedBy[inc] != "") {
			n++
		}
	}
	return n
}

// senderKey is an address in lower case without a +tag ("Mallory+1@
// Evil.Example" is "mallory@evil.example"), so that one sender is one
// sender for [helpdesk] new_incident_limit.
func senderKey(addr string) string {
	a := strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return a
	}
	local := a[:at]
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return local + a[at:]
}

// createIncident takes the next number and keeps the incident for the
// flush.
func (u *unit) createIncident(ctx context.Context, inc *store.Incident) error {
	if !u.counterRead {
		v, err := u.tx.LockCounter(ctx, "incident")
		if err != nil {
			return err
		}
		u.counter, u.counterRead = v, true
	}
	u.counter++
	inc.Key = u.e.keys.Key(u.counter)
	inc.MessageCount = 1
	u.newIncs = append(u.newIncs, inc)
	u.incByKey[inc.Key] = inc
	return nil
}

// touch counts one more message on an incident.
func (u *unit) touch(inc *store.Incident) {
	inc.MessageCount++
	inc.UpdatedAt = u.now
	u.dirty[inc] = true
}

// firstResponse stamps the incident's first response; a new incident
// becomes open.
func (u *unit) firstResponse(inc *store.Incident) {
	at := u.now
	inc.FirstResponseAt = &at
	if inc.Status == store.StatusNew {
		inc.Status, inc.UpdatedAt = store.StatusOpen, at
	}
	u.dirty[inc] = true
	u.clock(inc, sla.Met, store.ClockEvent{Metric: string(sla.Response), Party: inc.Assignee})
}

// responseMet meets the response clocks that run for the incident's
// holder (its own contract's after a hand-over, or the next generation's
// after a reopen); the incident's first response stays the first.
func (u *unit) responseMet(inc *store.Incident) {
	inc.UpdatedAt = u.now
	u.dirty[inc] = true
	u.clock(inc, sla.Met, store.ClockEvent{Metric: string(sla.Response), Party: inc.Assignee})
}

// setStatus changes an incident's status and its resolved/closed stamps.
func (u *unit) setStatus(inc *store.Incident, status store.Status) {
	at := u.now
	u.statusClock(inc, inc.Status, status)
	switch status {
	case store.StatusResolved:
		inc.ResolvedAt = &at
	case store.StatusClosed:
		inc.ClosedAt = &at
	default:
		inc.ResolvedAt, inc.ClosedAt = nil, nil
	}
	inc.Status, inc.UpdatedAt = status, at
	u.dirty[inc] = true
}

// enqueue keeps an outgoing mail for the flush; false if one with the
// same dedupe key is queued already in this batch.
func (u *unit) enqueue(o *store.Outbox, inc *store.Incident, pr *store.Problem) bool {
	if o.DedupeKey != nil {
		if u.dedupe[*o.DedupeKey] {
			return false
		}
		u.dedupe[*o.DedupeKey] = true
	}
	u.outbox = append(u.outbox, pendingOutbox{o: o, inc: inc, pr: pr})
	u.queued++
	if o.AutoSubmitted != "" {
		u.autoSent[strings.ToLower(o.RcptKey)]++
	}
	if inc != nil {
		u.threadBatch[o.MessageID] = inc
	}
	return true
}

// ticketIncident returns the incident a provider's ticket number was
// learned for, by this batch or before; nil when it is not known.
func (u *unit) ticketIncident(ctx context.Context, provider, ticket string) (*store.Incident, error) {
	k := provider + "\x00" + ticket
	if inc, ok := u.tickets[k]; ok {
		return inc, nil
	}
	var inc *store.Incident
	id, err := u.tx.ProviderTicket(ctx, provider, ticket)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		if inc, err = u.incidentByID(ctx, id); err != nil {
			return nil, err
		}
	}
	if u.tickets == nil {
		u.tickets = map[string]*store.Incident{}
	}
	u.tickets[k] = inc
	return inc, nil
}

// learnTicket records a provider's ticket number for an incident at the
// flush.
func (u *unit) learnTicket(provider, ticket string, inc *store.Incident) {
	if u.tickets == nil {
		u.tickets = map[string]*store.Incident{}
	}
	u.tickets[provider+"\x00"+ticket] = inc
	u.learned = append(u.learned, learnedTicket{provider, ticket, inc})
}

// bounced marks one of our outgoing mails as bounced at the flush.
func (u *unit) bounced(messageID, reason string) {
	u.bounces = append(u.bounces, bounceMark{messageID, reason})
}

// addMessage keeps an incoming message, with its events, for the flush.
func (u *unit) addMessage(row *store.Message, raw []byte, inc *store.Incident, pr *store.Problem, events []pendingEvent) *pendingMessage {
	pm := &pendingMessage{row: row, raw: raw, inc: inc, pr: pr}
	u.msgs = append(u.msgs, pm)
	u.byKey[store.MessageKey{MessageID: row.MessageID, ContentHash: row.ContentHash}] = pm
	if row.MessageID != "" {
		u.byMsgID[row.MessageID] = append(u.byMsgID[row.MessageID], pm)
	}
	if inc != nil && row.MessageID != "" {
		if _, ok := u.threadBatch[row.MessageID]; !ok {
			u.threadBatch[row.MessageID] = inc
		}
	}
	if inc != nil && row.Direction == "in" {
		for _, ref := range u.refsOf(row) {
			if _, ok := u.refBatch[ref]; !ok {
				u.refBatch[ref] = inc
			}
		}
	}
	if inc != nil && row.Conversation != "" {
		if _, ok := u.convBatch[row.Conversation]; !ok {
			u.convBatch[row.Conversation] = inc
		}
	}
	for _, ev := range events {
		ev.msg = pm
		u.events = append(u.events, ev)
	}
	return pm
}

// createProblem takes the next problem number and keeps the problem for
// the flush.
func (u *unit) createProblem(ctx context.Context, title, fingerprint string) (*store.Problem, error) {
	if !u.problemCounterRead {
		v, err := u.tx.LockCounter(ctx, "problem")
		if err != nil {
			return nil, err
		}
		u.problemCounter, u.problemCounterRead = v, true
	}
	u.problemCounter++
	pr := &store.Problem{Key: u.e.problemKeys.Key(u.problemCounter), Title: title, Status: store.ProblemOpen,
		Fingerprint: fingerprint, CreatedAt: u.now, UpdatedAt: u.now}
	u.newProblems = append(u.newProblems, pr)
	u.keepProblem(pr)
	return pr, nil
}

// isNewProblem reports whether pr was opened by this batch.
func (u *unit) isNewProblem(pr *store.Problem) bool {
	for _, n := range u.newProblems {
		if n == pr {
			return true
		}
	}
	return false
}

func (u *unit) keepProblem(pr *store.Problem) {
	if u.problems == nil {
		u.problems, u.problemsByKey = map[int64]*store.Problem{}, map[string]*store.Problem{}
	}
	if pr.ID != 0 {
		u.problems[pr.ID] = pr
	}
	u.problemsByKey[pr.Key] = pr
}

// problem returns a stored problem by id, locked on PostgreSQL as the
// incidents of the batch are.
func (u *unit) problem(ctx context.Context, id int64) (*store.Problem, error) {
	if pr := u.problems[id]; pr != nil {
		return pr, nil
	}
	pr, err := u.tx.ProblemForBatch(ctx, id, "")
	if err != nil {
		return nil, err
	}
	u.keepProblem(pr)
	return pr, nil
}

// problemByKey returns a problem by key (PRB-7), of this batch or stored.
func (u *unit) problemByKey(ctx context.Context, key string) (*store.Problem, error) {
	if pr := u.problemsByKey[key]; pr != nil {
		return pr, nil
	}
	pr, err := u.tx.ProblemForBatch(ctx, 0, key)
	if err != nil {
		return nil, err
	}
	u.keepProblem(pr)
	return pr, nil
}

// setProblemStatus changes a problem's status and its resolved stamp.
func (u *unit) setProblemStatus(pr *store.Problem, status string) {
	pr.Status = status
	if status == store.ProblemResolved {
		at := u.now
		pr.ResolvedAt = &at
	} else {
		pr.ResolvedAt = nil
	}
	u.touchProblem(pr)
}

// touchProblem marks a problem changed, to be written at the flush.
func (u *unit) touchProblem(pr *store.Problem) {
	pr.UpdatedAt = u.now
	if u.dirtyProblems == nil {
		u.dirtyProblems = map[*store.Problem]bool{}
	}
	u.dirtyProblems[pr] = true
}

// link attaches an incident to a problem at the flush; a nil problem
// unlinks it.
func (u *unit) link(inc *store.Incident, pr *store.Problem) {
	if u.problemOf == nil {
		u.problemOf = map[*store.Incident]*store.Problem{}
	}
	u.problemOf[inc] = pr
	if inc.ID != 0 {
		u.dirty[inc] = true
	}
}

// problemOfIncident is the problem an incident is linked to, by this
// batch or before (nil: none).
func (u *unit) problemOfIncident(ctx context.Context, inc *store.Incident) (*store.Problem, error) {
	if pr, ok := u.problemOf[inc]; ok {
		return pr, nil
	}
	if inc.ProblemID == nil {
		return nil, nil
	}
	return u.problem(ctx, *inc.ProblemID)
}

// linkedTo lists the incidents linked to a problem (key and
// fingerprint), this batch's links and unlinks included, oldest first.
func (u *unit) linkedTo(ctx context.Context, pr *store.Problem) ([]store.Incident, error) {
	var out []store.Incident
	if pr.ID != 0 {
		stored, err := u.tx.ProblemIncidents(ctx, pr.ID)
		if err != nil {
			return nil, err
		}
		for _, inc := range stored {
			if cur := u.incByKey[inc.Key]; cur != nil {
				if linked, ok := u.problemOf[cur]; ok && linked != pr {
					continue // unlinked or moved by this batch
				}
			}
			out = append(out, inc)
		}
	}
	seen := map[string]bool{}
	for _, inc := range out {
		seen[inc.Key] = true
	}
	for inc, linked := range u.problemOf {
		if linked == pr && !seen[inc.Key] {
			out = append(out, *inc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return keyNumber(out[i].Key) < keyNumber(out[j].Key) })
	return out, nil
}

// flush writes what the batch decided since the last flush: the counter,
// new incidents, changed incidents, messages with their raw bytes, the
// outbox and the events, in that order (each needs the ids of the one
// before). An ErrDuplicate means another process stored one of the
// messages meanwhile.
func (u *unit) flush(ctx context.Context) error {
	tx := u.tx
	if err := u.deriveDirty(ctx); err != nil {
		return err
	}
	if len(u.newProblems) > 0 {
		if err := tx.SetCounter(ctx, "problem", u.problemCounter); err != nil {
			return err
		}
		if err := tx.InsertProblems(ctx, u.newProblems); err != nil {
			return err
		}
		for _, pr := range u.newProblems {
			u.keepProblem(pr)
		}
		u.newProblems = nil
	}
	for pr := range u.dirtyProblems {
		if err := tx.UpdateProblem(ctx, pr); err != nil {
			return err
		}
	}
	clear(u.dirtyProblems)
	for inc, pr := range u.problemOf {
		if pr == nil {
			inc.ProblemID = nil
			continue
		}
		id := pr.ID
		inc.ProblemID = &id
	}
	clear(u.problemOf)
	if len(u.newIncs) > 0 {
		if err := tx.SetCounter(ctx, "incident", u.counter); err != nil {
			return err
		}
		if err := tx.InsertIncidents(ctx, u.newIncs); err != nil {
			return err
		}
		for _, inc := range u.newIncs {
			u.incByID[inc.ID] = inc
			delete(u.dirty, inc) // inserted as it is now
		}
		if err := tx.InsertIncidentTokens(ctx, u.newIncs); err != nil {
			return err
		}
		u.newIncs = nil
	}
	if len(u.dirty) > 0 {
		incs := make([]*store.Incident, 0, len(u.dirty))
		for inc := range u.dirty {
			incs = append(incs, inc)
		}
		if err := tx.UpdateIncidents(ctx, incs); err != nil {
			return err
		}
		clear(u.dirty)
	}
	if err := u.flushClocks(ctx); err != nil {
		return err
	}
	var pending []*pendingMessage
	for _, pm := range u.msgs {
		if pm.row.ID == 0 {
			pending = append(pending, pm)
		}
	}
	if len(pending) > 0 {
		rows := make([]*store.Message, len(pending))
		raws := make([][]byte, len(pending))
		for i, pm := range pending {
			if pm.inc != nil {
				id := pm.inc.ID
				pm.row.IncidentID = &id
			}
			if pm.pr != nil {
				id := pm.pr.ID
				pm.row.ProblemID = &id
			}
			rows[i], raws[i] = pm.row, pm.raw
		}
		if err := tx.InsertMessages(ctx, rows, raws); err != nil {
			return err
		}
		var refs []store.ThreadRef
		for _, pm := range pending {
			if pm.inc != nil && pm.row.Direction == "in" {
				for _, ref := range u.refsOf(pm.row) {
					refs = append(refs, store.ThreadRef{Ref: ref, IncidentID: pm.inc.ID})
				}
			}
		}
		if err := tx.InsertThreadRefs(ctx, refs); err != nil {
			return err
		}
	}
	if len(u.outbox) > 0 {
		os := make([]*store.Outbox, len(u.outbox))
		for i, po := range u.outbox {
			if po.inc != nil {
				id := po.inc.ID
				po.o.IncidentID = &id
			}
			if po.pr != nil {
				id := po.pr.ID
				po.o.ProblemID = &id
			}
			if err := u.resolveAttachments(po); err != nil {
				return err
			}
			os[i] = po.o
		}
		if err := tx.EnqueueAll(ctx, os); err != nil {
			return err
		}
		u.outbox = nil
	}
	for _, l := range u.learned {
		if err := tx.LearnProviderTicket(ctx, l.provider, l.ticket, l.inc.ID, u.now); err != nil {
			return err
		}
	}
	u.learned = nil
	for _, b := range u.bounces {
		if err := tx.OutboxBounced(ctx, b.messageID, b.reason); err != nil {
			return err
		}
	}
	u.bounces = nil
	if len(u.events) > 0 {
		evs := make([]*store.Event, len(u.events))
		for i, pe := range u.events {
			if pe.inc != nil {
				id := pe.inc.ID
				pe.ev.IncidentID = &id
			}
			if pe.pr != nil {
				id := pe.pr.ID
				pe.ev.ProblemID = &id
			}
			if pe.msg != nil {
				id := pe.msg.row.ID
				pe.ev.MessagePK = &id
			}
			evs[i] = pe.ev
		}
		if err := tx.AddEvents(ctx, evs); err != nil {
			return err
		}
		u.events = nil
	}
	return nil
}
