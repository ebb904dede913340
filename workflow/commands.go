package workflow

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/helpdeskd/helpdeskd/store"
)

// Commands by email: lines at the top of the new text of a reply, before
// anything else, such as "#resolve" or "#priority P1". They run only when
// the sender is staff (a team member or a provider address) and the
// message is authenticated (see authenticate); otherwise, or when a
// command is unknown or its argument is wrong, nothing changes, the
// refusal is an event, and the sender gets a reply saying why.

type command struct {
	name string // without "#", lower case
	arg  string
	line string
}

var commandLine = regexp.MustCompile(`^#([a-zA-Z][a-zA-Z-]*)\b\s*(.*)$`)

// knownCommands are the commands people may write: run here, or answered
// "not available yet".
var knownCommands = map[string]bool{
	"resolve": true, "close": true, "reopen": true, "waiting": true, "priority": true,
	"assign": true, "category": true, "note": true,
	"problem": true, "not-problem": true, "ack": true, "major": true, "link": true,
	"accept": true, "reject": true,
	"root-cause": true, "workaround": true, "fix": true, "known-error": true,
}

// notYet are the known commands this version parses but does not run.
var notYet = map[string]bool{"link": true}

// problemCommands run on a problem's thread (a reply to a [PRB-N] mail).
var problemCommands = map[string]bool{
	"root-cause": true, "workaround": true, "fix": true, "known-error": true,
	"resolve": true, "reopen": true, "note": true,
}

// onlyProblem are the problem commands that mean nothing on an incident.
var onlyProblem = map[string]bool{"root-cause": true, "workaround": true, "fix": true, "known-error": true}

// thread is what a reply belongs to: an incident, or a problem's own
// thread.
type thread struct {
	inc *store.Incident
	pr  *store.Problem
}

func (t thread) key() string {
	if t.pr != nil {
		return t.pr.Key
	}
	return t.inc.Key
}

// eventOn records an event on the thread's audit trail.
func (p *processing) eventOn(t thread, kind EventKind, actor, detail string) error {
	if t.pr != nil {
		p.problemEvent(t.pr, kind, actor, detail)
		return nil
	}
	return p.event(t.inc, kind, actor, detail)
}

// anyKnownCommand: mail from someone who is not staff is taken to hold
// commands only when it uses a command's name ("#1 issue" is text).
func anyKnownCommand(cmds []command) bool {
	for _, c := range cmds {
		if knownCommands[c.name] {
			return true
		}
	}
	return false
}

// parseCommands takes the command lines off the top of a reply's new text
// and returns them with the rest, which is what may be relayed. Only lines
// before the first other line count: a "#" further down (or in quoted
// text, which the new text no longer has) is text.
func parseCommands(newText string) ([]command, string) {
	lines := strings.Split(newText, "\n")
	var cmds []command
	i := 0
	for ; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" {
			continue
		}
		m := commandLine.FindStringSubmatch(t)
		if m == nil {
			break
		}
		cmds = append(cmds, command{name: strings.ToLower(m[1]), arg: strings.TrimSpace(m[2]), line: t})
	}
	if len(cmds) == 0 {
		return nil, newText
	}
	return cmds, strings.TrimSpace(strings.Join(lines[i:], "\n"))
}

// runCommands checks and runs the commands of a reply on a thread. It
// returns whether the message is internal (a #note: not relayed).
func (p *processing) runCommands(ctx context.Context, t thread, cmds []command, staff string) (internal bool, err error) {
	cfg, m := p.e.Cfg, p.msg
	from := m.From.Addr
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = "#" + c.name
	}
	// A refusal is recorded; the sender hears of it only when the mail
	// is authenticated (a forged From must not turn the helpdesk into a
	// mailer to any victim), within the automatic-mail limit, and
	// without the refused text quoted back.
	refuse := func(why string) error {
		var lines []string
		for _, c := range cmds {
			lines = append(lines, c.line)
		}
		if err := p.eventOn(t, "command_refused", from, fmt.Sprintf("%s: %s", strings.Join(lines, "; "), why)); err != nil {
			return err
		}
		return p.commandReply(t, []string{fmt.Sprintf("%s: refused, %s; nothing was changed.", strings.Join(names, " "), why)})
	}
	if staff == "" && !inChain(cfg, from) && !isProblemContact(cfg, from) {
		return false, refuse("not allowed: only staff, their reporting chains and providers can give commands, and " + from + " is none of them")
	}
	if ok, why := p.authenticated(); !ok {
		return false, refuse(why)
	} else if err := p.eventOn(t, "command_authenticated", from, why); err != nil {
		return false, err
	}
	if ok, why, err := p.mayCommandThread(ctx, t, from); err != nil {
		return false, err
	} else if !ok {
		return false, refuse(why)
	}
	var answers []string
	for _, c := range cmds {
		var result string
		var changed, isNote bool
		var err error
		if t.pr != nil {
			result, changed, isNote, err = p.runProblemCommand(t.pr, c)
		} else {
			result, changed, isNote, err = p.runCommand(ctx, t.inc, c)
		}
		if err != nil {
			return internal, err
		}
		internal = internal || isNote
		kind := EvCommand
		if !changed {
			kind = EvCommandRefused
			// Authenticated staff: their own line is quoted, so that
			// two uses of one command can be told apart.
			answers = append(answers, c.line+": "+result)
		}
		if err := p.eventOn(t, kind, from, c.line+": "+result); err != nil {
			return internal, err
		}
	}
	if len(answers) > 0 {
		return internal, p.commandReply(t, answers)
	}
	return internal, nil
}

var priorityArg = regexp.MustCompile(`^P[1-5]$`)

// runCommand runs one command on an incident; changed is false when it
// was refused. An error is the database's, and fails the batch.
func (p *processing) runCommand(ctx context.Context, inc *store.Incident, c command) (result string, changed, note bool, err error) {
	r, ch, n, err := p.incidentCommand(ctx, inc, c)
	if err != nil {
		return "", false, false, err
	}
	switch c.name {
	case "problem":
		r, ch, err = p.forceProblem(ctx, inc, c.arg)
	case "not-problem":
		r, ch, err = p.notProblem(ctx, inc)
	}
	return r, ch, n, err
}

// incidentCommand runs one incident command; changed is false when it
// was refused. #resolve sends the requester a resolution notice (see
// queueResolution); #assign notifies the new assignee with the request.
// An error is the database's.
func (p *processing) incidentCommand(ctx context.Context, inc *store.Incident, c command) (result string, changed, note bool, err error) {
	cfg := p.e.Cfg
	status := func(s store.Status) (string, bool, bool, error) {
		if inc.Status == s {
			return "already " + string(s), true, false, nil
		}
		old := inc.Status
		p.u.setStatus(inc, s)
		return string(old) + " → " + string(s), true, false, nil
	}
	switch {
	case !knownCommands[c.name]:
		return "unknown command", false, false, nil
	case notYet[c.name]:
		return "not available yet in this version", false, false, nil
	case c.name == "problem" || c.name == "not-problem":
		return "", false, false, nil // runCommand runs them
	case onlyProblem[c.name]:
		if pr := p.u.problemOf[inc]; pr != nil || inc.ProblemID != nil {
			return "a problem command: reply to the mail about " + inc.Key + "'s problem, which has its key in [brackets] in the subject", false, false, nil
		}
		return "a problem command, and " + inc.Key + " is not part of a problem (\"#problem\" links it to one)", false, false, nil
	case c.name == "resolve":
		if inc.Status == store.StatusResolved {
			return status(store.StatusResolved)
		}
		r, ch, n, _ := status(store.StatusResolved)
		return r, ch, n, p.queueResolution(ctx, inc)
	case c.name == "close":
		return status(store.StatusClosed)
	case c.name == "reopen":
		return status(store.StatusOpen)
	case c.name == "waiting":
		return status(store.StatusWaiting)
	case c.name == "priority":
		arg := strings.ToUpper(c.arg)
		if !priorityArg.MatchString(arg) {
			return fmt.Sprintf("bad argument %q: want P1 to P5", c.arg), false, false, nil
		}
		old := inc.Priority
		p.u.setPriority(inc, store.Priority(arg))
		return "priority " + string(old) + " → " + arg, true, false, nil
	case c.name == "assign":
		if dir := directoryOf(cfg); dir.Party(c.arg) == nil {
			return fmt.Sprintf("bad argument %q: not a team or provider (%s)", c.arg, strings.Join(dir.Names(), ", ")), false, false, nil
		}
		old := inc.Assignee
		p.u.assign(inc, c.arg)
		if err := p.notifyAssignee(ctx, inc, routing{assignee: c.arg, reason: "assigned by " + p.msg.From.Addr, assigned: true}); err != nil {
			return "", false, false, err
		}
		return "assigned " + orNobody(old) + " → " + c.arg, true, false, nil
	case c.name == "category":
		if c.arg == "" {
			return "bad argument: a category is needed", false, false, nil
		}
		inc.Category, inc.UpdatedAt = c.arg, p.now
		p.u.dirty[inc] = true
		return "category " + c.arg, true, false, nil
	case c.name == "note":
		return "internal note: " + c.arg, true, true, nil
	case c.name == "ack":
		return p.acknowledge(ctx, inc)
	case c.name == "major":
		r, ch, err := p.majorCommand(ctx, inc, c.arg)
		return r, ch, false, err
	case c.name == "accept" || c.name == "reject":
		r, ch, err := p.reportVerdict(ctx, inc, c.name == "accept", c.arg)
		return r, ch, false, err
	}
	return "unknown command", false, false, nil
}

// CommandReplyData is what the command_reply template sees.
type CommandReplyData struct {
	HelpdeskName string
	Key          string
	Lines        []string
	Problem      bool // the commands were on a problem's thread
}

// commandReply tells the sender what was refused and why: only an
// authenticated sender, and no more than [helpdesk] auto_reply_limit
// automatic mails an hour to one address, as acknowledgements.
func (p *processing) commandReply(t thread, lines []string) error {
	cfg, m := p.e.Cfg, p.msg
	if ok, _ := p.authenticated(); !ok {
		return p.eventOn(t, "not_answered", "helpdeskd", "no reply to "+m.From.Addr+": the sender is not authenticated")
	}
	if n := p.u.autoMailSent(m.From.Addr); n >= cfg.Helpdesk.AutoReplyLimit {
		return p.eventOn(t, "not_answered", "helpdeskd", fmt.Sprintf("no reply to %s: %d automatic mails in the last hour ([helpdesk] auto_reply_limit = %d)", m.From.Addr, n, cfg.Helpdesk.AutoReplyLimit))
	}
	_, _, err := p.send(t.inc, outgoing{
		kind: "command_reply", template: "command_reply", dedupe: "command_reply:" + cleanText(m.MessageID) + ":" + m.ContentHash,
		data: CommandReplyData{HelpdeskName: cfg.Helpdesk.Name, Key: t.key(), Lines: lines, Problem: t.pr != nil},
		to:   m.From.Addr, rcptKey: m.From.Addr, inReplyTo: m.MessageID, refs: m.MessageID,
		autoSubmitted: "auto-replied", problem: t.pr,
	})
	return err
}
