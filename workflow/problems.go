package workflow

import (
	"context"
	"fmt"
	"sort"
	"strings"
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

type occurrence struct {
	inc       *store.Incident // loaded when it is to be linked
	id        int64
	key       string
	problemID *int64
	batch     *store.Incident // an incident of this batch, not stored yet
}

// detectRepeat fingerprints a new incident and links it to a problem when
// its issue recurs.
func (p *processing) detectRepeat(ctx context.Context, inc *store.Incident, res *Result) error {
	pc := p.e.Cfg.Problems
	fp := NewFingerprint(inc.Subject, firstLines(p.msg.NewText, 1), pc.IgnoreWords)
	inc.Fingerprint = fp.String()
	if len(fp.Tokens) == 0 {
		return nil
	}
	since := p.now.Add(-pc.Window.Duration)
	var occ []occurrence
	// Earlier incidents of this batch, not stored yet.
	for _, b := range p.u.fingerprinted {
		if b.CreatedAt.After(since) && Similarity(fp, fingerprintOf(b.Fingerprint)) >= pc.Similarity {
			occ = append(occ, occurrence{id: b.ID, key: b.Key, batch: b})
		}
	}
	cands, err := p.u.tx.RepeatCandidates(ctx, fp.Tokens, since, candidateLimit)
	if err != nil {
		return err
	}
	for _, c := range cands {
		if Similarity(fp, fingerprintOf(c.Fingerprint)) >= pc.Similarity {
			occ = append(occ, occurrence{id: c.ID, key: c.Key, problemID: c.ProblemID})
		}
	}
	p.u.fingerprinted = append(p.u.fingerprinted, inc)
	if len(occ)+1 < pc.Threshold {
		return nil
	}
	// The problem of the most recent occurrence that has one, open
	// before resolved.
	var pr, resolved *store.Problem
	for _, o := range occ {
		var cand *store.Problem
		if o.batch != nil {
			cand, err = p.u.problemOfIncident(ctx, o.batch)
		} else if o.problemID != nil {
			cand, err = p.u.problem(ctx, *o.problemID)
		}
		if err != nil {
			return err
		}
		if cand == nil {
			continue
		}
		if cand.Status != store.ProblemResolved {
			pr = cand
			break
		}
		if resolved == nil {
			resolved = cand
		}
	}
	keys := []string{inc.Key}
	for _, o := range occ {
		keys = append(keys, o.key)
	}
	sort.Slice(keys, func(i, j int) bool { return keyNumber(keys[i]) < keyNumber(keys[j]) })
	why := fmt.Sprintf("%s match %q within %s", joinAnd(keys), fp.String(), days(pc.Window.Duration))
	switch {
	case pr != nil:
	case resolved != nil:
		pr = resolved
		p.u.reopenProblem(pr)
	default:
		if pr, err = p.u.createProblem(ctx, inc.Subject, fp.String()); err != nil {
			return err
		}
	}
	// Link the new incident and every occurrence that is not linked yet.
	p.u.link(inc, pr)
	if err := p.event(inc, "problem_linked", "helpdeskd", fmt.Sprintf("part of %s: %s", pr.Key, why)); err != nil {
		return err
	}
	for _, o := range occ {
		target := o.batch
		if target == nil {
			if o.problemID != nil {
				continue
			}
			if target, err = p.u.incidentByID(ctx, o.id); err != nil {
				return err
			}
		} else if linked, err := p.u.problemOfIncident(ctx, target); err != nil {
			return err
		} else if linked != nil {
			continue
		}
		p.u.link(target, pr)
		p.events = append(p.events, pendingEvent{inc: target, ev: &store.Event{
			Kind: "problem_linked", Actor: "helpdeskd", Detail: cleanText(fmt.Sprintf("part of %s: %s", pr.Key, why)), CreatedAt: p.now}})
	}
	res.Reason += fmt.Sprintf("; repeat: part of %s", pr.Key)
	return p.problemNotices(inc, pr, keys, why)
}

func fingerprintOf(s string) Fingerprint {
	toks := strings.Fields(s)
	return Fingerprint{Tokens: toks, tri: trigrams(toks)}
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
	Key          string // the incident that made the problem recur
	Incidents    []string
	Reason       string
}

// problemNotices tells the assignee's problem contact, and, with
// notify_requester, the requester, that the incident is part of a problem.
func (p *processing) problemNotices(inc *store.Incident, pr *store.Problem, keys []string, why string) error {
	cfg := p.e.Cfg
	data := ProblemData{HelpdeskName: cfg.Helpdesk.Name, Problem: pr.Key, Title: pr.Title, Key: inc.Key, Incidents: keys, Reason: why}
	contact := ""
	if team, prov := cfg.Assignee(inc.Assignee); team != nil {
		contact = team.ProblemContact
	} else if prov != nil {
		contact = prov.ProblemContact
	}
	if contact != "" {
		o, queued, err := p.send(inc, outgoing{kind: "problem_notice", template: "problem", data: data,
			dedupe: "problem:" + pr.Key + ":" + inc.Key, to: contact, autoSubmitted: "auto-generated"})
		if err != nil {
			return err
		}
		if queued {
			if err := p.event(inc, "notified", "helpdeskd", fmt.Sprintf("problem notice <%s> queued to %s", o.MessageID, contact)); err != nil {
				return err
			}
		}
	}
	if cfg.Problems.NotifyRequester && !p.msg.Kind.Automatic() {
		_, _, err := p.send(inc, outgoing{kind: "problem_requester", template: "problem_requester", data: data,
			dedupe: "problem_requester:" + inc.Key, to: p.msg.From.String(), rcptKey: p.msg.From.Addr,
			inReplyTo: p.msg.MessageID, refs: p.msg.MessageID, autoSubmitted: "auto-replied"})
		return err
	}
	return nil
}
