package workflow

import (
	"context"
	"fmt"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
)

// A problem has its own mail thread. The notices to problem contacts
// carry the [PRB-N] tag, a PRB Message-ID and the thread root
// <prb-n@domain> in In-Reply-To/References, so replies come back to the
// problem (rule 1 of threading, as for incidents). There, staff record
// what they find with commands (#root-cause, #workaround, #fix,
// #known-error, #resolve, #reopen, #note); the message, the commands and
// the refusals are on the problem's own audit trail.
//
// Only staff (team members, providers, reporting chains, problem
// contacts) work on a problem's thread. Anyone else who writes with a
// [PRB-N] tag, such as a requester who saw the key in a notice and writes
// "PRB-3 happened again", is reporting an occurrence: that opens a new
// incident, as any request does, and links it to the problem.

// isProblemContact reports whether addr is a team's or provider's
// problem contact.
func isProblemContact(cfg *config.Config, addr string) bool {
	return directoryOf(cfg).IsProblemContact(addr)
}

// threadProblem handles a message that refers to a problem.
func (p *processing) threadProblem(ctx context.Context, res *Result, match *threadMatch) error {
	m, cfg, pr := p.msg, p.e.Cfg, match.pr
	from := m.From.Addr
	staff := staffName(cfg, from)
	if !m.Kind.Automatic() && staff == "" && !inChain(cfg, from) && !isProblemContact(cfg, from) {
		// newIncident links it (see referredProblem) before the
		// acknowledgement, which then names the problem. Only for
		// senders of our own domains: a tag or the thread root is easy
		// to guess, and the acknowledgement tells the problem's title
		// and workaround.
		why := fmt.Sprintf("refers to %s (%s) but is not from staff: new incident", pr.Key, match.reason)
		if ownDomain(cfg, from) {
			p.refersTo = pr
		} else {
			why = fmt.Sprintf("refers to %s (%s) from outside the organisation ([helpdesk] domains): new incident, not linked", pr.Key, match.reason)
		}
		return p.newIncident(ctx, res, why)
	}
	p.problem, p.threadReason = pr, match.reason
	res.Outcome, res.Problem, res.Reason = OutcomeThreaded, pr.Key, match.reason
	p.u.touchProblem(pr)
	switch m.Kind {
	case mailparse.KindAutoReply, mailparse.KindBounce:
		res.Reason = fmt.Sprintf("%s joined %s by %s; status unchanged", m.Kind, pr.Key, match.reason)
		if b := m.Bounce; b != nil && m.Kind == mailparse.KindBounce {
			if id := p.bouncedMail(match); id != "" {
				p.u.bounced(id, bounceReason(b))
				res.Reason += "; our mail <" + id + "> marked bounced"
				p.problemEvent(pr, "delivery_bounced", from, fmt.Sprintf("mail <%s> bounced: %s", id, bounceReason(b)))
				return nil
			}
		}
		p.problemEvent(pr, EventKind(m.Kind), from, fmt.Sprintf("%s (%s) received: %s", m.Kind, m.KindReason, m.Subject))
		return nil
	}
	p.problemEvent(pr, "threaded", from, fmt.Sprintf("message from %s joined: %s", m.From, match.reason))
	if m.Kind.Automatic() {
		return nil
	}
	if cmds, _ := parseCommands(m.NewText); len(cmds) > 0 {
		if _, err := p.runCommands(ctx, thread{pr: pr}, cmds, staff); err != nil {
			return err
		}
		res.Reason += fmt.Sprintf("; %d command(s)", len(cmds))
	}
	return nil
}

// runProblemCommand runs one command on a problem's thread; changed is
// false when it was refused.
func (p *processing) runProblemCommand(pr *store.Problem, c command) (result string, changed, note bool, err error) {
	text := func(field *string, name string) (string, bool, bool, error) {
		if c.arg == "" {
			return "bad argument: the " + name + " is needed after the command", false, false, nil
		}
		*field = cleanText(c.arg)
		p.u.touchProblem(pr)
		return name + " recorded", true, false, nil
	}
	status := func(s string) (string, bool, bool, error) {
		if pr.Status == s {
			return "already " + s, true, false, nil
		}
		old := pr.Status
		p.u.setProblemStatus(pr, s)
		return old + " → " + s, true, false, nil
	}
	switch {
	case !knownCommands[c.name]:
		return "unknown command", false, false, nil
	case !problemCommands[c.name]:
		return fmt.Sprintf("not a problem command: on %s's thread the commands are #root-cause, #workaround, #fix, #known-error, #resolve, #reopen and #note", pr.Key), false, false, nil
	case c.name == "root-cause":
		return text(&pr.RootCause, "root cause")
	case c.name == "workaround":
		return text(&pr.Workaround, "workaround")
	case c.name == "fix":
		return text(&pr.Fix, "fix")
	case c.name == "known-error":
		return status(store.ProblemKnownError)
	case c.name == "resolve":
		if c.arg != "" {
			pr.Fix = cleanText(c.arg)
		}
		return status(store.ProblemResolved)
	case c.name == "reopen":
		return status(store.ProblemOpen)
	case c.name == "note":
		return "internal note: " + c.arg, true, true, nil
	}
	return "unknown command", false, false, nil
}

// referredProblem links a new incident to the problem its mail referred
// to by tag (a requester writing "[PRB-3] happened again"), unless repeat
// detection linked it already.
func (p *processing) referredProblem(ctx context.Context, inc *store.Incident, res *Result) error {
	pr := p.refersTo
	if pr == nil {
		return nil
	}
	linked, err := p.u.problemOfIncident(ctx, inc)
	if err != nil || linked != nil {
		return err
	}
	reason := fmt.Sprintf("%s refers to %s", p.msg.From.Addr, pr.Key)
	if _, err := p.attach(ctx, inc, pr, nil, reason, p.msg.From.Addr); err != nil {
		return err
	}
	res.Reason += "; linked to " + pr.Key
	return p.problemNotices(ctx, inc, pr, fixedReason(reason), true)
}
