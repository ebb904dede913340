package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/helpdeskd/helpdeskd/mailparse"
)

// AdminCommands are the incident commands an administrator can run on
// the host (helpdeskd resolve|close|reopen|assign|priority|note HD-N …).
var AdminCommands = []string{"resolve", "close", "reopen", "assign", "priority", "note", "major", "accept", "reject"}

// RefusedError is a command that was refused (a bad argument): nothing
// was changed; Reason says why.
type RefusedError struct {
	Command, Reason string
}

func (e *RefusedError) Error() string {
	return e.Command + ": refused, " + e.Reason + "; nothing was changed"
}

// Admin runs one incident command as the local administrator: the
// database is the authority there, so no mail and no authentication are
// involved, but the command runs the same code as the one by email, so
// notices, resolution notices and events happen the same way. actor is
// who is recorded on the audit trail ("admin:root"). text is the
// command's argument: the assignee, the priority (P1-P5), the note, or
// for resolve what the requester is told with the resolution (may be
// empty).
//
// Errors: store.ErrNotFound when there is no incident key; a
// *RefusedError when the command or its argument is wrong; anything
// else is the database's.
func (e *Engine) Admin(ctx context.Context, key, name, text, actor string) (string, error) {
	name = strings.ToLower(name)
	known := false
	for _, c := range AdminCommands {
		known = known || c == name
	}
	if !known {
		return "", &RefusedError{Command: name, Reason: "not an administrator command (" + strings.Join(AdminCommands, ", ") + ")"}
	}
	text = strings.TrimSpace(text)
	c := command{name: name, arg: text, line: strings.TrimSpace("#" + name + " " + text)}
	msgText := ""
	if name == "resolve" {
		// What the resolver wrote, as the new text under "#resolve" in a mail.
		c.arg, c.line, msgText = "", "#resolve", text
	}
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	now := e.Now().UTC()
	u := newUnit(e, tx, now)
	inc, err := u.incidentByKey(ctx, key)
	if err != nil {
		return "", err
	}
	p := &processing{e: e, u: u, tx: tx, now: now,
		in:  &Inbound{Source: Source{Kind: "admin", Name: actor}},
		msg: &mailparse.Message{From: mailparse.Address{Addr: actor}, Kind: mailparse.KindHuman, Text: msgText, NewText: msgText}}
	result, changed, _, err := p.runCommand(ctx, inc, c)
	if err != nil {
		return "", err
	}
	if changed {
		if err := p.majorAfter(ctx, inc, nil); err != nil {
			return "", err
		}
	}
	kind := EvCommand
	if !changed {
		kind = EvCommandRefused
	}
	if err := p.event(inc, kind, actor, c.line+": "+result+" (on the host)"); err != nil {
		return "", err
	}
	u.events = append(u.events, p.events...)
	if err := u.flush(ctx); err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	if p.queued && e.Committed != nil {
		e.Committed()
	}
	if !changed {
		return result, &RefusedError{Command: c.line, Reason: result}
	}
	return fmt.Sprintf("%s %s", inc.Key, result), nil
}
