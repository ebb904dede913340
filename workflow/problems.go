package workflow

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/helpdeskd/helpdeskd/store"
)

// Repeat detection, second part: what happens when an issue recurs. Each
// new incident gets a fingerprint; the incidents of the last [problems]
// window that share a word with it are found through the word index (not
// a scan of the window), and those similar enough are occurrences of the
// same issue, whoever reported them. When the occurrences, the new one
// included, reach the threshold, the new incident joins the problem one
// of them already belongs to (a resolved problem that recurs is opened
// again), or a new problem PRB-N is opened and every occurrence linked to
// it. The assignee's problem_contact is told why ("HD-12, HD-40 and HD-51
// match 'crash outlook start' within 30 days"), and, with
// notify_requester, so is the requester.

// candidateLimit bounds how many earlier incidents one new incident is
// compared with: the most recent ones sharing a word.
const candidateLimit = 2000

// dfRefresh is how often the problems-df job recounts the document
// frequencies of fingerprint words; in between, each process adds the
// incidents it fingerprints itself.
const dfRefresh = time.Hour

// dfCache is the engine's copy of the document frequencies: a full count
// (never changed once made) and the words of the incidents this process
// fingerprinted since.
type dfCache struct {
	mu       sync.Mutex
	base     *DF
	more     map[string]int
	moreN    int
	loadedAt time.Time // zero: never counted
}

func (c *dfCache) set(n int, counts map[string]int, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.more, c.moreN, c.loadedAt = &DF{N: n, Count: counts}, nil, 0, at
}

// repeatDF returns a snapshot of the document frequencies, counting them
// in tx the first time, and again when the problems-df job has not
// refreshed them for two of its periods (it runs in one daemon of
// several: the others count for themselves).
func (e *Engine) repeatDF(ctx context.Context, tx *store.Tx) (*DF, error) {
	c := &e.df
	now := e.Now()
	c.mu.Lock()
	stale := c.loadedAt.IsZero() || now.Sub(c.loadedAt) > 2*dfRefresh || now.Before(c.loadedAt)
	c.mu.Unlock()
	if stale {
		n, counts, err := tx.TokenDF(ctx)
		if err != nil {
			return nil, err
		}
		c.set(n, counts, now)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := &DF{N: c.base.N + c.moreN, Count: c.base.Count, more: make(map[string]int, len(c.more))}
	for k, v := range c.more {
		d.more[k] = v
	}
	return d, nil
}

// countDF adds one fingerprinted incident to the cached frequencies.
func (e *Engine) countDF(f Fingerprint) {
	c := &e.df
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.more == nil {
		c.more = map[string]int{}
	}
	c.moreN++
	for _, t := range f.Tokens {
		c.more[t]++
	}
}

// problemJobs are the tick jobs of [problems].
func (e *Engine) problemJobs() []Job {
	return []Job{{Name: "problem-digest", Run: e.problemDigests}, {Name: "problems-df", Every: dfRefresh, Run: func(ctx context.Context, w *Work) error {
		if !e.Cfg.Problems.Enabled {
			return nil
		}
		n, counts, err := w.Tx.TokenDF(ctx)
		if err != nil {
			return err
		}
		e.df.set(n, counts, w.Now)
		return nil
	}}}
}

// problemDigests is the problem-digest job: for each problem whose
// contact has had a notice or digest at least [problems] notify_every
// ago and that has occurrences linked since, one digest listing them goes
// to the same contact. The digest's once-only key is the problem and the
// time of the notice before it, so a second run (or a second daemon)
// finds it queued already.
func (e *Engine) problemDigests(ctx context.Context, w *Work) error {
	pc := e.Cfg.Problems
	if !pc.Enabled {
		return nil
	}
	ids, err := w.Tx.ProblemsUpdatedSince(ctx, w.Now.Add(-pc.Window.Duration))
	if err != nil {
		return err
	}
	loc := e.Cfg.Helpdesk.Location
	if loc == nil {
		loc = time.UTC
	}
	for _, id := range ids {
		mails, err := w.Tx.ProblemOutbox(ctx, id)
		if err != nil {
			return err
		}
		pr, err := w.u.problem(ctx, id)
		if err != nil {
			return err
		}
		linked, err := w.u.linkedTo(ctx, pr)
		if err != nil {
			return err
		}
		var evs []store.Event
		aud, _ := problemAudience(e.Cfg, linked)
		for _, a := range aud {
			// The last notice or digest to this address, in the order
			// they were written (a clock stepped back keeps it last),
			// and the last that told of what detection found (not the
			// notice of a link by hand): the digest lists the links
			// since that one.
			var last, lastFound *store.Outbox
			for i := range mails {
				if m := &mails[i]; (m.Kind == "problem_notice" || m.Kind == "problem_digest") && strings.EqualFold(m.ToAddrs, a.contact) {
					last = m
					if m.DedupeKey == nil || !strings.Contains(*m.DedupeKey, ":"+linkedByHand) {
						lastFound = m
					}
				}
			}
			// Due notify_every after the last; and at once when the
			// last is dated more than notify_every ahead of now (the
			// clock was stepped back past it: waiting for that date
			// would silence the problem for as long), not for a few
			// minutes' skew between two daemons.
			every := pc.NotifyEvery.Duration
			if last == nil || w.Now.Before(last.CreatedAt.Add(every)) && !last.CreatedAt.After(w.Now.Add(every)) {
				continue // never told (the next occurrence's notice will), or told recently
			}
			if evs == nil {
				if evs, err = w.Tx.ProblemEvents(ctx, id); err != nil {
					return err
				}
			}
			if lastFound == nil {
				lastFound = last // told only of links by hand: from the first
			}
			since := linkedSince(evs, lastFound)
			var keys []string
			var occ []ProblemOccurrence
			for i := range linked {
				l := &linked[i]
				if !a.sees(l) {
					continue
				}
				keys = append(keys, l.Key)
				if since[l.Key] {
					occ = append(occ, ProblemOccurrence{Key: l.Key, Date: l.CreatedAt.In(loc).Format(problemTime),
						Requester: l.Requester, Status: string(l.Status), Subject: l.Subject})
				}
			}
			if len(occ) == 0 {
				continue // nothing new for this address, or parted again since
			}
			data := ProblemData{HelpdeskName: e.Cfg.Helpdesk.Name, Problem: pr.Key, Title: a.title(pr, linked), Incidents: keys, Scoped: a.providers != nil,
				Occurrences: occ, Workaround: pr.Workaround, Since: lastFound.CreatedAt.In(loc).Format(problemTime)}
			r, err := e.Templates.Render("problem_digest", data)
			if err != nil {
				return err
			}
			dedupe := fmt.Sprintf("problem_digest:%s:%s:%d", pr.Key, a.contact, last.ID)
			root := e.problemKeys.ThreadRoot(pr.Key)
			o := &store.Outbox{Kind: "problem_digest", MessageID: e.problemKeys.NewMessageID(pr.Key), DedupeKey: &dedupe,
				FromAddr: e.Cfg.SMTP.From, ToAddrs: a.contact, ReplyTo: e.Cfg.Helpdesk.Address, Subject: r.Subject,
				TextBody: r.Text, HTMLBody: r.HTML, InReplyTo: root, Refs: root, AutoSubmitted: "auto-generated",
				NextAttemptAt: w.Now, CreatedAt: w.Now}
			if w.u.enqueue(o, nil, pr) {
				w.u.events = append(w.u.events, pendingEvent{pr: pr, ev: &store.Event{Kind: "notified", Actor: "helpdeskd",
					Detail:    cleanText(fmt.Sprintf("digest <%s> of %d occurrence%s queued to %s", o.MessageID, len(occ), plural(len(occ)), a.contact)),
					CreatedAt: w.Now}})
			}
		}
	}
	return nil
}

// linkedByHand marks the once-only key of the notice of a link made by
// command ("problem:PRB-7:linked:HD-12:it-lead@…").
const linkedByHand = "linked:"

// linkedSince are the keys of the incidents repeat detection linked to a
// problem after the mail last was queued, in the order the events were written (links
// made in the same batch as a notice, after it, carry its very time);
// for mail whose event does not name it, after its time.
func linkedSince(evs []store.Event, last *store.Outbox) map[string]bool {
	boundary := -1
	for i, ev := range evs {
		if ev.Kind == "notified" && strings.Contains(ev.Detail, "<"+last.MessageID+">") {
			boundary = i
		}
	}
	since := map[string]bool{}
	for i, ev := range evs {
		if ev.Kind != "incident_linked" || (boundary >= 0 && i <= boundary) || (boundary < 0 && !ev.CreatedAt.After(last.CreatedAt)) {
			continue
		}
		if ev.Actor != "helpdeskd" {
			continue // linked by hand: its own notice told the contacts, and the one who linked it knows
		}
		if k, _, ok := strings.Cut(ev.Detail, " "); ok {
			since[k] = true
		}
	}
	return since
}

// followUp finds, for a new human mail that threads nowhere, an open
// incident of the same (authenticated) requester within the window whose
// fingerprint is similar enough: the mail is a follow-up to it, not a new
// occurrence of the issue. nil when there is none.
func (p *processing) followUp(ctx context.Context) (*threadMatch, error) {
	m, pc := p.msg, p.e.Cfg.Problems
	if !pc.Enabled || m.Kind.Automatic() || m.From.Addr == "" {
		return nil, nil
	}
	if ok, _ := p.authenticated(); !ok {
		return nil, nil
	}
	// Monitoring, forms and other senders exempt from the new-incident
	// limit report many things from one address: each report is its own.
	if containsString(p.e.Cfg.Helpdesk.NewIncidentLimitExempt, strings.ToLower(m.From.Addr)) {
		return nil, nil
	}
	fp := p.mailFingerprint()
	if len(fp.Tokens) == 0 {
		return nil, nil
	}
	df, err := p.e.repeatDF(ctx, p.u.tx)
	if err != nil {
		return nil, err
	}
	since := p.now.Add(-pc.Window.Duration)
	best, bestSim := (*store.Incident)(nil), 0.0
	// Only into an incident that this very sender opened with mail that
	// was authenticated too: a requester named by an unauthenticated
	// X-Original-From is anyone's to claim.
	var errOpened error
	consider := func(inc *store.Incident) {
		if inc.Status == store.StatusResolved || inc.Status == store.StatusClosed || !samePerson(inc.Requester, m.From.Addr) {
			return
		}
		s := df.Similarity(fp, fingerprintOf(inc.Fingerprint))
		if s < pc.Similarity || s <= bestSim || otherAssets(m.NormSubject, inc.Subject) {
			return
		}
		by, ok := p.u.openedBy[inc]
		if !ok && inc.ID != 0 {
			from, authenticated, err := p.u.tx.OpeningSender(ctx, inc.ID)
			if err != nil {
				errOpened = err
				return
			}
			if authenticated {
				by = from
			}
		}
		if samePerson(by, m.From.Addr) {
			best, bestSim = inc, s
		}
	}
	for _, b := range p.u.fingerprinted {
		consider(b)
	}
	stored, err := p.u.tx.OpenIncidentsOf(ctx, senderKey(m.From.Addr), since, 50)
	if err != nil {
		return nil, err
	}
	for i := range stored {
		if cur := p.u.incByID[stored[i].ID]; cur != nil {
			consider(cur) // as this batch left it
		} else {
			consider(&stored[i])
		}
	}
	if errOpened != nil {
		return nil, errOpened
	}
	if best == nil {
		return nil, nil
	}
	if best.ID != 0 { // one of this batch is the batch's own already
		if best, err = p.u.incidentByID(ctx, best.ID); err != nil {
			return nil, err
		}
	}
	return &threadMatch{inc: best, reason: fmt.Sprintf("follow-up: %s's open %s has a similar subject (%.2f), not a new occurrence",
		best.Requester, best.Key, bestSim)}, nil
}

// followUpThread threads a follow-up into the requester's open incident
// and acknowledges it as such (an acknowledgement naming the incident it
// joined), within [helpdesk] auto_reply_limit.
func (p *processing) followUpThread(ctx context.Context, res *Result, f *threadMatch) error {
	// A flood of one person's resends is held as a flood of new
	// incidents would be ([helpdesk] new_incident_limit an hour), not
	// relayed to the assignee one by one.
	if limit := p.e.Cfg.Helpdesk.NewIncidentLimit; limit > 0 && !p.in.release && !p.exempt() {
		n := p.u.followUps[f.inc]
		if f.inc.ID != 0 {
			stored, err := p.u.tx.CountIncidentEvents(ctx, f.inc.ID, "follow_up", p.now.Add(-time.Hour))
			if err != nil {
				return err
			}
			n += stored
		}
		if n >= limit {
			res.Outcome = OutcomeHeld
			res.Reason = fmt.Sprintf("held: %d follow-ups to %s in the last hour ([helpdesk] new_incident_limit = %d); release with \"helpdeskd quarantine reprocess\"", n, f.inc.Key, limit)
			return nil
		}
	}
	if err := p.thread(ctx, res, f); err != nil {
		return err
	}
	if p.u.followUps == nil {
		p.u.followUps = map[*store.Incident]int{}
	}
	p.u.followUps[f.inc]++
	if err := p.event(f.inc, "follow_up", p.msg.From.Addr, f.reason); err != nil {
		return err
	}
	d := DecideAck(p.msg, p.e.Cfg.Helpdesk.Address, p.u.autoMailSent(p.msg.From.Addr), p.e.Cfg.Helpdesk.AutoReplyLimit)
	if !d.Send {
		res.Reason += "; not acknowledged: " + d.Reason
		return nil
	}
	p.followUpAck = true
	return p.queueAck(ctx, f.inc, res)
}

type occurrence struct {
	id        int64
	key       string
	problemID *int64
	batch     *store.Incident // an incident of this batch, not stored yet
	fp        string          // its fingerprint
}

// detectRepeat fingerprints a new incident and links it to a problem when
// its issue recurs.
func (p *processing) detectRepeat(ctx context.Context, inc *store.Incident, res *Result) error {
	pc := p.e.Cfg.Problems
	fp := p.mailFingerprint() // inc.Subject is the mail's subject
	inc.Fingerprint = fp.String()
	if len(fp.Tokens) == 0 {
		return nil
	}
	df, err := p.e.repeatDF(ctx, p.u.tx)
	if err != nil {
		return err
	}
	occ, own, err := p.occurrences(ctx, inc, fp, df)
	if err != nil {
		return err
	}
	if own != nil {
		// The same person again while their first report is open (a
		// mail that could not be threaded as a follow-up): no
		// occurrence. Unauthenticated, it never takes follow-ups
		// either, and keeps no fingerprint, so that no later report
		// counts it or links it to a problem (nor does a new version
		// of the rules, which makes again only fingerprints that
		// exist). Authenticated (its first was not, or names another
		// machine), it keeps its words for the sender's follow-ups.
		if ok, _ := p.authenticated(); !ok {
			inc.Fingerprint = ""
		} else {
			p.u.fingerprinted = append(p.u.fingerprinted, inc)
			p.e.countDF(fp)
		}
		res.Reason += fmt.Sprintf("; not an occurrence: %s's %s, still open, has a similar subject", own.Requester, own.Key)
		return nil
	}
	p.u.fingerprinted = append(p.u.fingerprinted, inc)
	p.e.countDF(fp)
	if len(occ)+1 < pc.Threshold {
		return nil
	}
	pr, err := p.problemOfOccurrences(ctx, fp, occ, df)
	if err != nil {
		return err
	}
	if occ, err = p.comingAlong(ctx, inc, pr, occ, df); err != nil {
		return err
	}
	// The reason names the occurrences that are or will be part of the
	// problem: not those in another one, nor those "#not-problem"
	// parted from it.
	keys := []string{inc.Key}
	for _, o := range occ {
		keys = append(keys, o.key)
	}
	sort.Slice(keys, func(i, j int) bool { return keyNumber(keys[i]) < keyNumber(keys[j]) })
	why := fmt.Sprintf("%s match %q within %s", joinAnd(keys), fp.String(), days(pc.Window.Duration))
	if pr == nil && len(occ) == 0 {
		// Every occurrence belongs to a problem that this incident is
		// not like enough (no chains): no problem.
		return nil
	}
	if pr, err = p.attach(ctx, inc, pr, occ, why, "helpdeskd"); err != nil {
		return err
	}
	res.Reason += fmt.Sprintf("; repeat: part of %s", pr.Key)
	return p.problemNotices(ctx, inc, pr, func(keys []string, all bool) string {
		if !all {
			// The words may be another party's: not to a reader who
			// sees only its own incidents.
			return fmt.Sprintf("%s and other reports of the same issue within %s", joinAnd(keys), days(pc.Window.Duration))
		}
		return fmt.Sprintf("%s match %q within %s", joinAnd(keys), fp.String(), days(pc.Window.Duration))
	}, true)
}

// occurrences are the incidents of the window before and after inc's
// creation (this batch's included) that are the same issue as fp and
// that "#not-problem" did not part from it. own is an open incident of
// inc's requester (a person, not an automatic sender) among them, left
// out of occ: inc is then no occurrence at all.
func (p *processing) occurrences(ctx context.Context, inc *store.Incident, fp Fingerprint, df *DF) (occ []occurrence, own *store.Incident, err error) {
	pc := p.e.Cfg.Problems
	since := inc.CreatedAt.Add(-pc.Window.Duration)
	self := fp.String()
	// Earlier incidents of this batch, not stored yet.
	// A person writing again is no recurrence while their first is open;
	// a monitoring system or a form (automatic mail, or a sender exempt
	// from the new-incident limit) repeating an alert is.
	person := !p.msg.Kind.Automatic() && !containsString(p.e.Cfg.Helpdesk.NewIncidentLimitExempt, strings.ToLower(inc.Requester))
	for _, b := range p.u.fingerprinted {
		if b == inc || !b.CreatedAt.After(since) || df.Similarity(fp, fingerprintOf(b.Fingerprint)) < pc.Similarity {
			continue
		}
		if person && sameRequesterOpen(inc, b) {
			own = b
			continue
		}
		if x, err := p.u.excluded(ctx, self, b.Fingerprint); err != nil || x {
			if err != nil {
				return nil, nil, err
			}
			continue
		}
		occ = append(occ, occurrence{id: b.ID, key: b.Key, batch: b, fp: b.Fingerprint})
	}
	// Stored incidents: the query leaves out those "#not-problem"
	// parted from fp.
	cands, err := p.u.tx.RepeatCandidates(ctx, self, since, candidateLimit)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cands {
		if c.ID == inc.ID || df.Similarity(fp, fingerprintOf(c.Fingerprint)) < pc.Similarity {
			continue
		}
		if person && samePerson(c.Requester, inc.Requester) {
			cur := p.u.incByID[c.ID]
			if cur == nil {
				// Its status only: read, not locked as the batch's
				// incidents are.
				var err error
				if cur, err = p.u.tx.IncidentByKey(ctx, c.Key); err != nil {
					return nil, nil, err
				}
			}
			if sameRequesterOpen(inc, cur) {
				own = cur
				continue
			}
		}
		o := occurrence{id: c.ID, key: c.Key, problemID: c.ProblemID, fp: c.Fingerprint}
		if cur := p.u.incByID[c.ID]; cur != nil {
			if pr, ok := p.u.problemOf[cur]; ok {
				// This batch linked or unlinked it: the stored row
				// is out of date.
				o.batch, o.problemID = cur, nil
				if pr != nil {
					o.problemID = &pr.ID
				}
			}
		}
		occ = append(occ, o)
	}
	return occ, own, nil
}

// assetRe finds what names one machine or item in a subject: a word
// with both letters and digits ("srv02", "fs01", "PRN-2OG-01"), or a host
// name.
var assetRe = regexp.MustCompile(`(?i)\b(?:[a-z][a-z0-9-]*(?:\.[a-z0-9-]+){2,}|[a-z0-9_-]*[a-z][a-z0-9_-]*\d[a-z0-9_-]*|[a-z0-9_-]*\d[a-z0-9_-]*[a-z][a-z0-9_-]*)\b`)

// otherAssets reports whether two subjects each name a machine or item
// and none in common: "disk full on srv02" is not a follow-up to "disk
// full on srv01", however alike once numbers and hosts are masked.
func otherAssets(a, b string) bool {
	ids := func(s string) map[string]bool {
		out := map[string]bool{}
		for _, m := range assetRe.FindAllString(strings.ToLower(s), 16) {
			out[m] = true
		}
		return out
	}
	ia, ib := ids(a), ids(b)
	if len(ia) == 0 || len(ib) == 0 {
		return false
	}
	for k := range ia {
		if ib[k] {
			return false
		}
	}
	return true
}

// mailFingerprint is the fingerprint of the mail being processed, its
// subject and the first line of its new text that is not a greeting,
// made once for the follow-up and the repeat decisions.
func (p *processing) mailFingerprint() Fingerprint {
	if p.fp == nil {
		f := NewFingerprint(cleanText(p.msg.NormSubject), requestLine(p.msg.NewText), p.e.Cfg.Problems.IgnoreWords)
		p.fp = &f
	}
	return *p.fp
}

// samePerson reports whether two addresses are one person's: equal but
// for case and a "+tag" of the local part (sam+work@ is sam@), as the
// new-incident limit counts senders (senderKey). Empty is nobody.
func samePerson(a, b string) bool {
	return a != "" && b != "" && senderKey(a) == senderKey(b)
}

// sameRequesterOpen reports whether other is an open incident of inc's
// requester: the same person writing again while the first is open is
// no recurrence of the issue, whether or not the mail could be threaded
// into it as a follow-up (unauthenticated mail is not: its From is
// easily forged), so it does not count towards a problem. Once other is
// resolved, a new report of the same requester does count.
func sameRequesterOpen(inc, other *store.Incident) bool {
	return samePerson(inc.Requester, other.Requester) &&
		other.Status != store.StatusResolved && other.Status != store.StatusClosed
}

// comingAlong are the occurrences that are pr's, or would be linked with
// the new incident inc: free ones, less those
// "#not-problem" parted from pr, and only those like the problem itself
// (no chains: a free incident similar to the new one but not to the
// problem stays out). With pr nil, a new problem is titled after the
// plainest of inc and the free occurrences (see attach), and those not
// similar to it stay out: "Outlook calendar crashes" is like both
// "Outlook crashes" and "Outlook calendar not working", which are not
// one issue.
func (p *processing) comingAlong(ctx context.Context, inc *store.Incident, pr *store.Problem, occ []occurrence, df *DF) ([]occurrence, error) {
	if pr == nil {
		var free []occurrence
		for _, o := range occ {
			cur, err := p.occurrenceProblem(ctx, o)
			if err != nil {
				return nil, err
			}
			if cur == nil {
				free = append(free, o)
			}
		}
		title, titleKey := inc.Fingerprint, inc.Key
		for _, o := range free {
			if plainer(o.fp, o.key, title, titleKey) {
				title, titleKey = o.fp, o.key
			}
		}
		out := free[:0]
		for _, o := range free {
			if o.key == titleKey || df.Similarity(fingerprintOf(o.fp), fingerprintOf(title)) >= p.e.Cfg.Problems.Similarity {
				out = append(out, o)
			}
		}
		return out, nil
	}
	var out []occurrence
	for _, o := range occ {
		cur, err := p.occurrenceProblem(ctx, o)
		if err != nil {
			return nil, err
		}
		switch {
		case cur != nil && cur.ID != pr.ID:
			continue // another problem's
		case cur == nil:
			if x, err := p.u.excluded(ctx, partedKey(o.key), partedFrom(pr.Key)); err != nil {
				return nil, err
			} else if x {
				continue
			}
			if x, err := p.u.excluded(ctx, o.fp, pr.Fingerprint); err != nil {
				return nil, err
			} else if x {
				continue
			}
			if like, err := p.likeProblem(ctx, fingerprintOf(o.fp), pr, df); err != nil {
				return nil, err
			} else if !like {
				continue
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// plainer reports whether the incident key with fingerprint fp states
// its issue more plainly than other (fingerprint ofp): fewer words, or as
// many and reported earlier. A problem is titled after its plainest
// occurrence.
func plainer(fp, key, ofp, other string) bool {
	n, on := len(strings.Fields(fp)), len(strings.Fields(ofp))
	return n > 0 && (n < on || n == on && keyNumber(key) < keyNumber(other))
}

// occurrenceProblem is the problem an occurrence is part of now (this
// batch's links included), nil when none.
func (p *processing) occurrenceProblem(ctx context.Context, o occurrence) (*store.Problem, error) {
	if o.batch != nil {
		return p.u.problemOfIncident(ctx, o.batch)
	}
	if o.problemID != nil {
		return p.u.problem(ctx, *o.problemID)
	}
	return nil, nil
}

// problemOfOccurrences is the problem of the most recent occurrence that
// has one, open before resolved, unless "#not-problem" parted fp from
// it, and only if fp is like the problem itself (no chains): similar to
// its title fingerprint, or to most of its incidents. nil when there is
// none.
func (p *processing) problemOfOccurrences(ctx context.Context, fp Fingerprint, occ []occurrence, df *DF) (*store.Problem, error) {
	var resolved *store.Problem
	for _, o := range occ {
		var cand *store.Problem
		var err error
		if o.batch != nil {
			cand, err = p.u.problemOfIncident(ctx, o.batch)
		} else if o.problemID != nil {
			cand, err = p.u.problem(ctx, *o.problemID)
		}
		if err != nil {
			return nil, err
		}
		cands := []*store.Problem{cand}
		if cand == nil {
			// An occurrence "#not-problem" parted from a problem still
			// leads to it: a report like that problem joins it, even
			// when staff parted every incident it had.
			keys, err := p.u.partedProblems(ctx, o.key)
			if err != nil {
				return nil, err
			}
			cands = cands[:0]
			for _, k := range keys {
				pr, err := p.u.problemByKey(ctx, k)
				if err != nil {
					return nil, err
				}
				cands = append(cands, pr)
			}
		}
		for _, cand := range cands {
			// The query checked the incidents, not their problems:
			// read fp's pairs (once per batch) only now that a problem
			// is in question.
			if x, err := p.u.excluded(ctx, fp.String(), cand.Fingerprint); err != nil {
				return nil, err
			} else if x {
				continue
			}
			if like, err := p.likeProblem(ctx, fp, cand, df); err != nil {
				return nil, err
			} else if !like {
				continue
			}
			if cand.Status != store.ProblemResolved {
				return cand, nil
			}
			if resolved == nil {
				resolved = cand
			}
		}
	}
	return resolved, nil
}

// likeProblem reports whether fp is the problem's issue: similar to its
// title fingerprint, or to more than half of its incidents.
func (p *processing) likeProblem(ctx context.Context, fp Fingerprint, pr *store.Problem, df *DF) (bool, error) {
	return likeProblem(df, fp, p.e.Cfg.Problems.Similarity, pr, func() ([]store.Incident, error) { return p.u.linkedTo(ctx, pr) })
}

// likeProblem is the no-chains rule: fp is pr's issue when it reaches the
// similarity th to pr's title fingerprint, or to more than half of its
// incidents (linked, read only when the title is not enough), or is word
// for word the fingerprint of one of them and like the title by its
// words alone, unweighted. The last keeps one issue in one problem as
// the history grows: word weights drift as a burst of reports makes its
// own words common ("crash team" in every incident weighs less than the
// "ms" of "MS Teams crashes"), and a wording that joined yesterday must
// not open a second problem today; an incident linked by hand to a
// problem it is not like leads none of its twins there.
func likeProblem(df *DF, fp Fingerprint, th float64, pr *store.Problem, linked func() ([]store.Incident, error)) (bool, error) {
	title := fingerprintOf(pr.Fingerprint)
	if df.Similarity(fp, title) >= th {
		return true, nil
	}
	incs, err := linked()
	if err != nil {
		return false, err
	}
	close, self := 0, fp.String()
	for _, l := range incs {
		if l.Fingerprint == self && Similarity(fp, title) >= th {
			return true, nil
		}
		if df.Similarity(fp, fingerprintOf(l.Fingerprint)) >= th {
			close++
		}
	}
	return 2*close > len(incs), nil
}

// attach links inc, and every occurrence not linked to a problem yet, to
// pr, opening a new problem when pr is nil and reopening a resolved one;
// each link is an event on the incident and on the problem. A new
// problem takes its title and fingerprint from the occurrence with the
// fewest fingerprint words (the plainest statement of the issue), the
// earliest of those.
func (p *processing) attach(ctx context.Context, inc *store.Incident, pr *store.Problem, occ []occurrence, why, actor string) (*store.Problem, error) {
	targets := []*store.Incident{inc}
	for _, o := range occ {
		target := o.batch
		if target == nil {
			if o.problemID != nil {
				continue
			}
			var err error
			if target, err = p.u.incidentByID(ctx, o.id); err != nil {
				return nil, err
			}
		} else if linked, err := p.u.problemOfIncident(ctx, target); err != nil {
			return nil, err
		} else if linked != nil {
			continue
		}
		if pr != nil {
			// An occurrence "#not-problem" parted from pr stays apart,
			// even when the new incident resembles both.
			if x, err := p.u.excluded(ctx, target.Fingerprint, pr.Fingerprint); err != nil {
				return nil, err
			} else if x {
				continue
			}
			if x, err := p.u.excluded(ctx, partedKey(target.Key), partedFrom(pr.Key)); err != nil {
				return nil, err
			} else if x {
				continue
			}
		}
		targets = append(targets, target)
	}
	switch {
	case pr == nil:
		rep := inc
		for _, t := range targets {
			if plainer(t.Fingerprint, t.Key, rep.Fingerprint, rep.Key) {
				rep = t
			}
		}
		var err error
		// A problem is titled by words: a report without a subject
		// (its fingerprint came from its first line) lends its title
		// to none; another occurrence's subject, else the first line
		// of this mail's text, else the fingerprint's words.
		title := rep.Subject
		if title == noSubject {
			title = rep.Fingerprint
			if line := cleanText(requestLine(p.msg.NewText)); line != "" && (rep == inc || inc.Subject == noSubject) {
				title = clipRunes(line, 80)
			}
			for _, t := range targets {
				if t.Subject != noSubject && t.Subject != "" {
					title = t.Subject
					break
				}
			}
		}
		if pr, err = p.u.createProblem(ctx, title, rep.Fingerprint); err != nil {
			return nil, err
		}
		p.problemEvent(pr, "opened", actor, fmt.Sprintf("%s opened: %s", pr.Key, why))
	case pr.Status == store.ProblemResolved:
		p.u.setProblemStatus(pr, store.ProblemOpen)
		if p.u.reopened == nil {
			p.u.reopened = map[*store.Problem]map[string]bool{}
		}
		p.u.reopened[pr] = map[string]bool{}
		p.problemEvent(pr, "reopened", actor, fmt.Sprintf("resolved → open: %s recurred (%s)", inc.Key, why))
	}
	p.linkedNow = targets
	for _, target := range targets {
		p.u.link(target, pr)
		p.u.touchProblem(pr)
		p.events = append(p.events, pendingEvent{inc: target, ev: &store.Event{
			Kind: "problem_linked", Actor: cleanText(actor), Detail: cleanText(fmt.Sprintf("part of %s: %s", pr.Key, why)), CreatedAt: p.now}})
		p.problemEvent(pr, "incident_linked", actor, fmt.Sprintf("%s linked: %s", target.Key, why))
	}
	return pr, nil
}

// forceProblem runs "#problem [PRB-N]" on an incident: a link to the
// named problem, or, without one, to the problem of the incident's other
// occurrences in the window, or to a new problem that links them all,
// whatever the threshold. It forgets the "#not-problem" pairs that kept
// the incident apart from that problem.
func (p *processing) forceProblem(ctx context.Context, inc *store.Incident, arg string) (string, bool, error) {
	from := p.msg.From.Addr
	cur, err := p.u.problemOfIncident(ctx, inc)
	if err != nil {
		return "", false, err
	}
	if inc.Fingerprint == "" {
		// Opened while [problems] was off: the subject's fingerprint,
		// for this decision only.
		inc.Fingerprint = NewFingerprint(inc.Subject, "", p.e.Cfg.Problems.IgnoreWords).String()
	}
	why := "linked by " + from
	if arg == "" {
		if cur != nil {
			return "already part of " + cur.Key, true, nil
		}
		// Without a key the link may pull in other parties' incidents,
		// or a problem of theirs: not for someone who speaks only for
		// providers.
		if !inHouse(p.e.Cfg, from) && len(providersOf(p.e.Cfg, from)) > 0 {
			return "not allowed: " + from + " speaks for " + joinAnd(providersOf(p.e.Cfg, from)) +
				"; a provider links its incident with \"#problem PRB-N\" to a problem it is part of", false, nil
		}
		var occ []occurrence
		fp := fingerprintOf(inc.Fingerprint)
		var df *DF
		if p.e.Cfg.Problems.Enabled {
			if df, err = p.e.repeatDF(ctx, p.u.tx); err != nil {
				return "", false, err
			}
			if occ, _, err = p.occurrences(ctx, inc, fp, df); err != nil {
				return "", false, err
			}
		}
		pr, err := p.problemOfOccurrences(ctx, fp, occ, df)
		if err != nil {
			return "", false, err
		}
		if pr != nil {
			occ = nil // join it; its incidents are linked already
		}
		if pr, err = p.attach(ctx, inc, pr, occ, why, from); err != nil {
			return "", false, err
		}
		return "linked to " + pr.Key, true, p.problemNotices(ctx, inc, pr, fixedReason(why), false)
	}
	key := strings.ToUpper(strings.Trim(arg, "[] "))
	if !problemKeyArg.MatchString(key) {
		return fmt.Sprintf("bad argument %q: want a problem key such as %s-7", arg, ProblemPrefix), false, nil
	}
	pr, err := p.u.problemByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return "no problem " + key, false, nil
	}
	if err != nil {
		return "", false, err
	}
	// A provider links its incident only to a problem it is part of
	// already: linking would tell it the problem's title, workaround and
	// incidents, and let it command the problem.
	if ok, why, err := p.mayCommandThread(ctx, thread{pr: pr}, from); err != nil {
		return "", false, err
	} else if !ok {
		return why, false, nil
	}
	if cur == pr {
		return "already part of " + pr.Key, true, nil
	}
	if err := p.forgetExclusions(ctx, inc, pr); err != nil {
		return "", false, err
	}
	if cur != nil {
		p.problemEvent(cur, "incident_unlinked", from, fmt.Sprintf("%s moved to %s by %s", inc.Key, pr.Key, from))
		p.u.touchProblem(cur)
	}
	if _, err := p.attach(ctx, inc, pr, nil, why, from); err != nil {
		return "", false, err
	}
	result := "linked to " + pr.Key
	if cur != nil {
		result = "moved from " + cur.Key + " to " + pr.Key
	}
	return result, true, p.problemNotices(ctx, inc, pr, fixedReason(why), false)
}

var problemKeyArg = regexp.MustCompile(`^` + ProblemPrefix + `-[1-9][0-9]{0,11}$`)

// forgetExclusions drops the "#not-problem" pairs between inc's
// fingerprint and those of pr and its incidents.
func (p *processing) forgetExclusions(ctx context.Context, inc *store.Incident, pr *store.Problem) error {
	if x, err := p.u.excluded(ctx, partedKey(inc.Key), partedFrom(pr.Key)); err != nil {
		return err
	} else if x {
		if err := p.u.exclude(ctx, partedKey(inc.Key), partedFrom(pr.Key), p.msg.From.Addr, true); err != nil {
			return err
		}
	}
	others, err := p.problemFingerprints(ctx, pr, inc)
	if err != nil {
		return err
	}
	for _, o := range others {
		x, err := p.u.excluded(ctx, inc.Fingerprint, o)
		if err != nil {
			return err
		}
		if x {
			if err := p.u.exclude(ctx, inc.Fingerprint, o, p.msg.From.Addr, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// problemFingerprints are the distinct fingerprints of a problem and of
// its incidents other than except.
func (p *processing) problemFingerprints(ctx context.Context, pr *store.Problem, except *store.Incident) ([]string, error) {
	linked, err := p.u.linkedTo(ctx, pr)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{"": true}
	var out []string
	add := func(fp string) {
		if !seen[fp] {
			seen[fp] = true
			out = append(out, fp)
		}
	}
	add(pr.Fingerprint)
	for _, l := range linked {
		if l.Key != except.Key {
			add(l.Fingerprint)
		}
	}
	return out, nil
}

// maxExclusions bounds the pairs one "#not-problem" remembers.
const maxExclusions = 200

// notProblem runs "#not-problem" on an incident: it is unlinked from its
// problem, and its fingerprint is remembered as not the same issue as
// the problem's and its other incidents', so repeat detection does not
// link them again.
func (p *processing) notProblem(ctx context.Context, inc *store.Incident) (string, bool, error) {
	from := p.msg.From.Addr
	pr, err := p.u.problemOfIncident(ctx, inc)
	if err != nil {
		return "", false, err
	}
	if pr == nil {
		return inc.Key + " is not part of a problem", false, nil
	}
	others, err := p.problemFingerprints(ctx, pr, inc)
	if err != nil {
		return "", false, err
	}
	if len(others) > maxExclusions {
		others = others[:maxExclusions]
	}
	if inc.Fingerprint == pr.Fingerprint {
		// The problem is titled after this incident's words: a pair of
		// them with the other incidents' would keep later reports
		// identical to the title from the problem's incidents, and
		// those reports would open a second problem of the same
		// title. Only this incident is parted.
		others = nil
	}
	var kept []string
	for _, o := range others {
		if o == inc.Fingerprint {
			// A pair of a fingerprint with itself would stop the
			// problem catching later reports identical to its own
			// title: only this incident is parted.
			continue
		}
		if err := p.u.exclude(ctx, inc.Fingerprint, o, from, false); err != nil {
			return "", false, err
		}
		kept = append(kept, fmt.Sprintf("%q", o))
	}
	// The incident itself stays apart from this problem for good, even
	// when its fingerprint is the problem's own (which the pairs above
	// leave out, so that the problem still catches later reports).
	if err := p.u.exclude(ctx, partedKey(inc.Key), partedFrom(pr.Key), from, false); err != nil {
		return "", false, err
	}
	p.u.link(inc, nil)
	p.u.touchProblem(pr)
	left, err := p.u.linkedTo(ctx, pr)
	if err != nil {
		return "", false, err
	}
	result := "unlinked from " + pr.Key
	pairs := ""
	switch {
	case inc.Fingerprint != "" && inc.Fingerprint == pr.Fingerprint:
		result += fmt.Sprintf("; %s is titled after its words %q, so later reports like them still join it", pr.Key, inc.Fingerprint)
	case inc.Fingerprint != "" && len(kept) > 0:
		pairs = fmt.Sprintf("; %q will not be linked with %s again", inc.Fingerprint, joinAnd(kept))
		result += pairs
	}
	// The problem's trail, too, says which words were paired.
	p.problemEvent(pr, "incident_unlinked", from, fmt.Sprintf("%s unlinked by %s, %d incident(s) left%s", inc.Key, from, len(left), pairs))
	return result, true, nil
}

func fingerprintOf(s string) Fingerprint {
	toks := strings.Fields(s)
	return Fingerprint{Tokens: toks}
}

func keyNumber(k string) int {
	n := 0
	if i := strings.LastIndexByte(k, '-'); i >= 0 {
		fmt.Sscan(k[i+1:], &n)
	}
	return n
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return d.String()
}

// ProblemData is what the problem templates see.
type ProblemData struct {
	HelpdeskName string
	Problem      string
	Title        string
	Key          string   // the incident that made the problem recur
	Incidents    []string // keys
	Occurrences  []ProblemOccurrence
	Reason       string
	Workaround   string
	// New: the notice that opens the problem (Key and the incidents
	// listed are its first occurrences), not a further occurrence.
	New bool
	// Recurred: the problem was resolved and Key brought it back; else,
	// not New, Key was linked to it by command.
	Recurred bool
	// Since: a digest lists the occurrences linked since this time
	// (local, "2006-01-02 15:04").
	Since string
	// Scoped: the reader sees only its own party's incidents of the
	// problem (a provider's contact), not how many there are in all.
	Scoped bool
	// Reporters: how many people reported the occurrences listed.
	Reporters int
	// Others: the problem holds other people's reports than the
	// requester's (a requester's mail says "others have reported it
	// too" only then).
	Others bool
}

// ProblemOccurrence is one incident of a problem, as its notice lists it.
type ProblemOccurrence struct {
	Key, Date, Requester, Status, Subject string
}

// problemNotices tells the problem's audience (see problemAudience)
// that inc is part of pr and why, on the problem's own thread: each
// address once when the problem opens, or when it first has something to
// see of it (a provider's first incident in it, a new problem contact),
// as a new problem; when a resolved problem recurs, or when staff link
// inc by command, a notice of its own (not to the contact who gave the
// command); further occurrences found by repeat detection go in the
// problem-digest job's digests. why gives the reason for the incidents
// an address sees. With notify_requester, the requester hears of it too,
// on the incident's thread: in the acknowledgement when repeat detection
// made the link for inc's first message (auto), else in a notice of its
// own.
func (p *processing) problemNotices(ctx context.Context, inc *store.Incident, pr *store.Problem, why func(keys []string, all bool) string, auto bool) error {
	cfg := p.e.Cfg
	linked, err := p.u.linkedTo(ctx, pr)
	if err != nil {
		return err
	}
	loc := cfg.Helpdesk.Location
	if loc == nil {
		loc = time.UTC
	}
	opened := p.u.isNewProblem(pr)
	aud, unheard := problemAudience(cfg, linked)
	if opened && len(unheard) > 0 {
		// Each party that holds incidents of the new problem but has
		// nobody to tell is on record, even when others are told.
		who := "nobody told of the new problem"
		if len(aud) > 0 {
			who = "not told of the new problem"
		}
		p.problemEvent(pr, "not_notified", "helpdeskd", fmt.Sprintf("%s: %s has no problem_contact and no chain", who, strings.Join(unheard, ", ")))
	}
	told, err := p.u.problemTold(ctx, pr)
	if err != nil {
		return err
	}
	base := ProblemData{HelpdeskName: cfg.Helpdesk.Name, Problem: pr.Key, Title: pr.Title, Key: inc.Key, Workaround: pr.Workaround, New: opened,
		Recurred: p.u.reopened[pr] != nil}
	for _, a := range aud {
		var keys []string
		var occ []ProblemOccurrence
		for i := range linked {
			if l := &linked[i]; a.sees(l) {
				keys = append(keys, l.Key)
				occ = append(occ, ProblemOccurrence{Key: l.Key, Date: l.CreatedAt.In(loc).Format(problemTime), Requester: l.Requester,
					Status: string(l.Status), Subject: l.Subject})
			}
		}
		if len(keys) == 0 {
			continue
		}
		data := base
		data.Incidents, data.Occurrences, data.Reason = keys, occ, why(keys, a.providers == nil)
		data.Title, data.Scoped, data.Reporters = a.title(pr, linked), a.providers != nil, reporters(occ)
		var dedupe string
		switch {
		case !auto && strings.EqualFold(p.msg.From.Addr, a.contact):
			// The contact linked it, or opened the problem, by command:
			// they know.
			continue
		case opened || !told[a.contact]:
			// The first mail of pr to this address reads as a new
			// problem, once, whatever else this batch links to it.
			data.New = true
			dedupe = "problem:" + pr.Key + ":opened:" + a.contact
		case auto && (p.u.reopened[pr] == nil || p.u.reopened[pr][strings.ToLower(a.contact)]):
			// A further occurrence found by repeat detection, or one
			// more in the batch that reopened a resolved problem after
			// its notice: the problem-digest job lists it in the next
			// digest (at most one per [problems] notify_every), not a
			// mail of its own.
			continue
		case !a.sees(inc):
			continue // not this address's to see
		case !auto:
			// A link by hand: its own notice, which a digest's list of
			// what detection found does not count from (linkedSince).
			dedupe = "problem:" + pr.Key + ":" + linkedByHand + inc.Key + ":" + a.contact
		default:
			dedupe = "problem:" + pr.Key + ":" + inc.Key + ":" + a.contact
		}
		o, queued, err := p.send(inc, outgoing{kind: "problem_notice", template: "problem", data: data,
			dedupe: dedupe, to: a.contact, autoSubmitted: "auto-generated", problem: pr})
		if err != nil {
			return err
		}
		if queued {
			told[a.contact] = true
			if told := p.u.reopened[pr]; told != nil {
				told[strings.ToLower(a.contact)] = true
			}
			if err := p.event(inc, "notified", "helpdeskd", fmt.Sprintf("problem notice <%s> queued to %s", o.MessageID, a.contact)); err != nil {
				return err
			}
			p.problemEvent(pr, "notified", "helpdeskd", fmt.Sprintf("notice <%s> about %s queued to %s", o.MessageID, inc.Key, a.contact))
		}
	}
	data := base
	if !cfg.Problems.NotifyRequester {
		return nil
	}
	// The earlier occurrences linked with inc: their requesters, while
	// the incident is open, are told once.
	for _, t := range p.linkedNow {
		if t != inc && !(auto && samePerson(t.Requester, inc.Requester)) {
			if err := p.tellRequester(t, pr, data, linked); err != nil {
				return err
			}
		}
	}
	if auto {
		// The acknowledgement of the new incident says it (one mail,
		// not two), with the workaround when one is known.
		p.repeat = pr
		return nil
	}
	return p.tellRequester(inc, pr, data, linked)
}

// tellRequester tells inc's requester that inc is part of pr, once a
// person (a once-only key per problem and requester address, so that
// three open reports of one person are one mail): only while inc is open, and
// not when the requester is staff or has had enough automatic mail this
// hour.
func (p *processing) tellRequester(inc *store.Incident, pr *store.Problem, data ProblemData, linked []store.Incident) error {
	cfg := p.e.Cfg
	if inc.Requester == "" || staffName(cfg, inc.Requester) != "" ||
		inc.Status == store.StatusResolved || inc.Status == store.StatusClosed ||
		p.u.autoMailSent(inc.Requester) >= cfg.Helpdesk.AutoReplyLimit {
		return nil
	}
	data.Key = inc.Key
	for _, l := range linked {
		if !samePerson(l.Requester, inc.Requester) {
			data.Others = true
		}
	}
	// The requester learns of the problem, not of the other reports; a
	// workaround may name internal hosts or accounts, and the title is
	// another requester's subject, so they go to the organisation's own
	// people only (as in the acknowledgement).
	data.Incidents, data.Occurrences, data.Reason = nil, nil, ""
	if !ownDomain(cfg, inc.Requester) {
		data.Workaround, data.Title = "", inc.Subject
	}
	out := outgoing{kind: "problem_requester", template: "problem_requester", data: data,
		dedupe: "problem_requester:" + pr.Key + ":" + senderKey(inc.Requester), autoSubmitted: "auto-replied",
		to: inc.Requester, rcptKey: inc.Requester}
	_, _, err := p.send(inc, out)
	return err
}

// partedKey and partedFrom name, in problem_exclusions, an incident that
// "#not-problem" parted from a problem (by their keys): a pair of its own
// beside the fingerprint pairs, so that the incident is never linked to
// that problem again by detection.
func partedKey(incidentKey string) string { return "incident " + incidentKey }

func partedFrom(problemKey string) string { return "problem " + problemKey }

// partedProblems are the keys of the problems among the pairs of an
// incident's partedKey, sorted.
func partedProblems(pairs map[string]bool) []string {
	var out []string
	for b, on := range pairs {
		if key, ok := strings.CutPrefix(b, partedFrom("")); ok && on {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// fixedReason is a reason that names no incident, whoever reads it.
func fixedReason(why string) func([]string, bool) string {
	return func([]string, bool) string { return why }
}

// reporters counts the people who reported occurrences.
func reporters(occ []ProblemOccurrence) int {
	who := map[string]bool{}
	for _, o := range occ {
		who[strings.ToLower(o.Requester)] = true
	}
	return len(who)
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// problemTime is how problem notices and digests write a time: on the
// helpdesk's wall clock, with its zone ("2026-11-30 09:12 CET").
const problemTime = "2006-01-02 15:04 MST"
