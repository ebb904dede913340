package workflow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
)

// ResolutionData is what the resolution template sees.
type ResolutionData struct {
	HelpdeskName  string
	Key           string
	Subject       string
	RequesterName string
	// Resolver is who resolved it, as employees know them: the team's
	// or provider's display name, else the helpdesk's name.
	Resolver string
	// Text is what the resolver wrote with the resolution (the new text
	// of the mail without its command lines, or the administrator's
	// text); empty when nothing was written.
	Text string
	// Target says whether the promised resolution time was kept ("" when
	// the incident has no resolution target).
	Target string
}

// resolutionGeneration numbers the incident's resolutions that were told:
// 1 for the first, stored and this batch's.
func (p *processing) resolutionGeneration(ctx context.Context, inc *store.Incident) (int, error) {
	n := 1
	if inc.ID != 0 {
		outs, err := p.u.storedOutbox(ctx, inc)
		if err != nil {
			return 0, err
		}
		for _, o := range outs {
			if o.Kind == "resolution" {
				n++
			}
		}
	}
	for _, po := range p.u.outbox {
		if po.inc == inc && po.o.Kind == "resolution" {
			n++
		}
	}
	return n, nil
}

// queueResolution tells the requester that the incident was resolved,
// with what the resolver wrote and how to reopen it (a reply). Threaded
// into the requester's conversation. Once per resolution: a repeated
// #resolve changes nothing and sends nothing; the dedupe key holds the
// resolution's number and time, so a resolution after a reopen is told
// again, also within one batch (which shares one time). Incidents opened by automatic mail
// (monitoring) get nothing: an event says so.
func (p *processing) queueResolution(ctx context.Context, inc *store.Incident) error {
	cfg := p.e.Cfg
	first, err := p.firstMessage(ctx, inc)
	if err != nil {
		return err
	}
	// A person's request that came through a mailing list is still a
	// person's: only automatic requesters are not told.
	if k := mailparse.Kind(first.kind); k.Automatic() && k != mailparse.KindList {
		return p.event(inc, "resolution_not_sent", "helpdeskd",
			fmt.Sprintf("no resolution notice: the requester %s wrote automatically (%s)", inc.Requester, first.kind))
	}
	resolver := cfg.Helpdesk.Name
	if staff := staffName(cfg, p.msg.From.Addr); staff != "" {
		resolver = cfg.DisplayName(staff)
	}
	_, text := parseCommands(p.msg.NewText)
	inReplyTo, refs, err := p.requesterThread(ctx, inc)
	if err != nil {
		return err
	}
	gen, err := p.resolutionGeneration(ctx, inc)
	if err != nil {
		return err
	}
	at := p.now
	if inc.ResolvedAt != nil {
		at = *inc.ResolvedAt
	}
	to := mailparse.Address{Name: inc.RequesterName, Addr: inc.Requester}
	o, queued, err := p.send(inc, outgoing{
		kind: "resolution", template: "resolution",
		dedupe: fmt.Sprintf("resolution:%s:%d:%s", inc.Key, gen, at.UTC().Format(time.RFC3339Nano)),
		data: ResolutionData{HelpdeskName: cfg.Helpdesk.Name, Key: inc.Key, Subject: inc.Subject,
			RequesterName: greetingName(inc.RequesterName), Resolver: resolver, Text: cleanText(strings.TrimSpace(text)),
			Target: targetKept(cfg, inc, at)},
		to: to.Addr, inReplyTo: inReplyTo, refs: refs,
		// Sent because staff acted, not in answer to the requester's
		// mail: RFC 3834 "auto-generated".
		autoSubmitted: "auto-generated",
	})
	if err != nil || !queued {
		return err
	}
	p.resolutionQueued = true
	return p.event(inc, "resolution_notice", "helpdeskd", fmt.Sprintf("resolution notice <%s> queued to %s", o.MessageID, inc.Requester))
}

// targetKept says, for the resolution notice, whether the resolution was
// within the promised time: the due time derived before the resolution,
// or the breach already recorded.
func targetKept(cfg *config.Config, inc *store.Incident, at time.Time) string {
	switch {
	case inc.ResolutionBreachedAt != nil:
		return "This took longer than we promised: it was due by " + inWords(cfg, inc.ResolutionBreachedAt) + "."
	case inc.ResolutionDue != nil && !at.After(*inc.ResolutionDue):
		return "It was resolved within the time we promised (by " + inWords(cfg, inc.ResolutionDue) + ")."
	case inc.ResolutionDue != nil:
		return "This took longer than we promised: it was due by " + inWords(cfg, inc.ResolutionDue) + "."
	}
	return ""
}
