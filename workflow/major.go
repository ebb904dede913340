package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/internal/extract"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow/majorreport"
	"github.com/helpdeskd/helpdeskd/workflow/sla"
)

// Major incidents and their reports (ITIL: major incident management and
// the major incident review).
//
// An incident is major when its priority is one of [major] priorities
// (from a route, a [[priority_rule]] or "#priority"), or when in-house
// staff declare it with "#major"; "#major off" undoes either, and the
// priority no longer declares it. Declaring is an event, and level 1 of
// the responsible party's reporting chain and the route's informed are
// told at once ("major incident declared"), not only when a target
// breaks.
//
// When a major incident is resolved, the responsible party (its problem
// contact, else level 1 of its chain) is asked for a report with the
// sections of [major] sections, due [major] report_due after the
// resolution on the party's calendar. The report is the text of a reply
// on the incident's thread from the party (its members or intake, its
// problem contact or its chain), authenticated, parsed by section
// headings (workflow/majorreport), or an attached PDF or DOCX. Sections
// add up over several replies; missing ones are named in a reply and the
// report stays partial; a complete one is received, and level 1 of the
// chain is sent it to "#accept" or "#reject REASON" (in-house members of
// the party's chain only). Until it is received the tick's
// "major-reports" job reminds the party every [major] remind_every, and
// once it is past due escalates it up the party's chain with the
// [escalation] levels' delays. Every notice has a once-only key, written
// with its outbox row before anything is sent.

// Event and outbox kinds of major incidents.
const (
	EvMajorDeclared   EventKind = "major_declared"   // declared by priority or "#major"
	EvMajorOff        EventKind = "major_off"        // "#major off"
	EvReportRequested EventKind = "report_requested" // the report asked for, after resolution
	EvReportPartial   EventKind = "report_partial"   // a report with sections missing
	EvReportReceived  EventKind = "report_received"  // a complete report
	EvReportAccepted  EventKind = "report_accepted"  // "#accept"
	EvReportRejected  EventKind = "report_rejected"  // "#reject REASON"
	EvReportReminder  EventKind = "report_reminder"  // the party reminded
	EvReportOverdue   EventKind = "report_overdue"   // an overdue report escalated to a chain level
	EvReportUnread    EventKind = "report_unread"    // a reply about the report that held none, and why

	OutMajorDeclared OutboxKind = "major_declared"  // to chain level 1 and the informed
	OutReportRequest OutboxKind = "report_request"  // to the responsible party
	OutReportPartial OutboxKind = "report_partial"  // to the sender: what is missing
	OutReportRecvd   OutboxKind = "report_received" // to chain level 1, the sender in copy
	OutReportVerdict OutboxKind = "report_verdict"  // "#accept" or "#reject" to the party
	OutReportRemind  OutboxKind = "report_reminder" // to the responsible party
	OutReportOverdue OutboxKind = "report_overdue"  // to a chain level
)

// MajorData is what the major template sees.
type MajorData struct {
	HelpdeskName string
	Key          string
	Subject      string
	Requester    string
	Priority     string
	// Kind: declared, request, partial, received, accepted, rejected,
	// reminder, overdue.
	Kind     string
	Party    string // the responsible party, by its display name
	Why      string // declared: why it is major
	Resolved string
	Due      string
	Overdue  string // overdue: by how much ("2d 3h" of its calendar)
	Level    int    // overdue: the chain level written to
	Repeat   int    // reminder: its number
	Sender   string // partial, received: who sent the report
	Reason   string // rejected: why
	Sections []string
	Missing  []string
	Report   []majorreport.Section
}

// reportOf decodes an incident's stored report (empty if none).
func reportOf(inc *store.Incident) majorreport.Report {
	var r majorreport.Report
	if inc.Report != "" {
		_ = json.Unmarshal([]byte(inc.Report), &r)
	}
	return r
}

// partyCalendar is the calendar a party's report is due on: its SLA
// policy's, else around the clock in the helpdesk's zone.
func partyCalendar(cfg *config.Config, party string) *sla.Calendar {
	if pt := directoryOf(cfg).Party(party); pt != nil && pt.Policy != nil && pt.Policy.Calendar != nil {
		return pt.Policy.Calendar
	}
	return sla.TwentyFourSeven(cfg.Helpdesk.Location)
}

// consulted is who a party consults on problems and owes its major
// incident reports (the C of RASCI): its problem contact, else level 1
// of its chain; "" when it has neither.
func consulted(cfg *config.Config, party string) string {
	pt := directoryOf(cfg).Party(party)
	switch {
	case pt == nil:
		return ""
	case pt.Contact != "":
		return pt.Contact
	case len(pt.Chain) > 0:
		return pt.Chain[0]
	}
	return ""
}

// chainLevel is the address at level l (1-based) of a party's chain.
func chainLevel(cfg *config.Config, party string, l int) string {
	if pt := directoryOf(cfg).Party(party); pt != nil && l >= 1 && l <= len(pt.Chain) {
		return pt.Chain[l-1]
	}
	return ""
}

// majorAfter runs after the rules have handled a message (or a command
// on the host) on an incident: an incident whose priority now makes it
// major is declared, and a resolved major incident without a report
// requested has one requested. informed are the route's informed when
// the incident was just routed (nil: found from its routes).
func (p *processing) majorAfter(ctx context.Context, inc *store.Incident, informed []string) error {
	cfg := p.e.Cfg
	if inc == nil {
		return nil
	}
	if inc.Major == "" && cfg.Major.IsMajorPriority(string(inc.Priority)) {
		if err := p.declareMajor(ctx, inc, "priority "+string(inc.Priority)+" is major ([major] priorities)", "helpdeskd", informed); err != nil {
			return err
		}
	}
	if inc.IsMajor() && inc.ReportStatus == "" && (inc.Status == store.StatusResolved || inc.Status == store.StatusClosed) {
		return p.requestReport(ctx, inc)
	}
	return nil
}

// informedOf are the informed of the routes that give an incident its
// assignee and category: the route's informed of an incident routed
// earlier.
func informedOf(cfg *config.Config, inc *store.Incident) []string {
	var out []string
	for _, r := range cfg.Routes {
		if r.Assign == inc.Assignee && (r.Category == "" || r.Category == inc.Category) {
			for _, a := range r.Informed {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// declareMajor makes an incident major and tells level 1 of its party's
// chain and the informed.
func (p *processing) declareMajor(ctx context.Context, inc *store.Incident, why, actor string, informed []string) error {
	cfg := p.e.Cfg
	inc.Major, inc.UpdatedAt = store.MajorDeclared, p.now
	if inc.ReportStatus != "" {
		// Declared again after "#major off": a new declaration owes a
		// new report at the next resolution.
		inc.ReportStatus, inc.ReportNextAt, inc.ReportParty = "", nil, ""
	}
	p.u.dirty[inc] = true
	if informed == nil {
		informed = informedOf(cfg, inc)
	}
	var to []string
	if l1 := chainLevel(cfg, inc.Assignee, 1); l1 != "" {
		to = append(to, l1)
	}
	for _, a := range informed {
		if !slices.ContainsFunc(to, func(x string) bool { return strings.EqualFold(x, a) }) {
			to = append(to, a)
		}
	}
	detail := "major incident declared: " + why
	if len(to) > 0 {
		detail += "; told " + strings.Join(to, ", ")
	} else {
		detail += "; nobody to tell (" + orNobody(inc.Assignee) + " has no reporting chain, the route no informed)"
	}
	if err := p.event(inc, EvMajorDeclared, actor, detail); err != nil {
		return err
	}
	if len(to) == 0 {
		return nil
	}
	d := p.majorData(inc, "declared")
	d.Why = why
	return p.majorMail(ctx, inc, OutMajorDeclared, to, nil, d, "major:"+inc.Key+":declared:"+p.now.Format(time.RFC3339Nano))
}

// requestReport asks the responsible party of a resolved major incident
// for its report.
func (p *processing) requestReport(ctx context.Context, inc *store.Incident) error {
	cfg := p.e.Cfg
	at := p.now
	if inc.ResolvedAt != nil {
		at = *inc.ResolvedAt
	}
	inc.ReportParty = inc.Assignee
	cal := partyCalendar(cfg, owes(inc))
	due := cal.Add(at, cfg.Major.ReportDueDur)
	req := p.now
	inc.ReportStatus, inc.ReportRequestedAt, inc.ReportDueAt = store.ReportRequested, &req, &due
	empty, _ := json.Marshal(majorreport.Report{Status: majorreport.StatusPartial, Sections: []majorreport.Section{}, Missing: cfg.Major.Sections})
	inc.Report, inc.ReportFrom, inc.ReportReceivedAt = string(empty), "", nil
	inc.UpdatedAt = p.now
	next := nextReportWork(cfg, inc, p.now)
	inc.ReportNextAt = next
	p.u.dirty[inc] = true
	contact := consulted(cfg, owes(inc))
	detail := fmt.Sprintf("report requested from %s, due %s", partyName(cfg, owes(inc)), inWords(cfg, &due))
	if contact == "" {
		detail += "; not sent: " + orNobody(owes(inc)) + " has no problem contact and no reporting chain"
	} else {
		detail += " (to " + contact + ")"
	}
	if err := p.event(inc, EvReportRequested, "helpdeskd", detail); err != nil {
		return err
	}
	if contact == "" {
		return nil
	}
	return p.majorMail(ctx, inc, OutReportRequest, []string{contact}, nil, p.majorData(inc, "request"), reportKey(inc, "request"))
}

// owes is the party that owes an incident's report: the one that held it
// when the report was requested (a later #assign does not move the
// debt), else its assignee.
func owes(inc *store.Incident) string {
	if inc.ReportParty != "" {
		return inc.ReportParty
	}
	return inc.Assignee
}

// reportKey is a once-only key of a report's notices: one set per
// request (a "#major off" and a new declaration owe a new report).
func reportKey(inc *store.Incident, what string) string {
	req := ""
	if inc.ReportRequestedAt != nil {
		req = inc.ReportRequestedAt.UTC().Format(time.RFC3339Nano)
	}
	return "major:" + inc.Key + ":" + req + ":" + what
}

// majorData fills what every major mail says.
func (p *processing) majorData(inc *store.Incident, kind string) MajorData {
	cfg := p.e.Cfg
	d := MajorData{HelpdeskName: cfg.Helpdesk.Name, Key: inc.Key, Subject: inc.Subject, Requester: inc.Requester,
		Priority: string(inc.Priority), Kind: kind, Party: partyName(cfg, owes(inc)),
		Resolved: inWords(cfg, inc.ResolvedAt), Due: inWords(cfg, inc.ReportDueAt), Sections: cfg.Major.Sections}
	r := reportOf(inc) // requestReport stores every section as missing
	d.Missing, d.Report = r.Missing, r.Sections
	return d
}

// majorMail queues one major incident mail, threaded with the incident's
// request.
func (p *processing) majorMail(ctx context.Context, inc *store.Incident, kind OutboxKind, to, cc []string, d MajorData, key string) error {
	first, err := p.firstMessage(ctx, inc)
	if err != nil {
		return err
	}
	_, _, err = p.send(inc, outgoing{
		kind: kind, template: "major", data: d, dedupe: key,
		to: strings.Join(to, ", "), cc: strings.Join(cc, ", "),
		inReplyTo: first.messageID, refs: first.messageID, autoSubmitted: "auto-generated",
	})
	return err
}

// ourSide reports whether addr is in-house: a team member, on a team's
// chain or a team's problem contact, or an address of [helpdesk] domains
// that is not a provider's. A provider's people do not declare their own
// outages major or judge their own reports.
func ourSide(cfg *config.Config, addr string) bool {
	dir := directoryOf(cfg)
	if dir.InHouse(addr) {
		return true
	}
	if s := dir.Staff(addr); s != nil && s.Kind == Provider {
		return false
	}
	return ownDomain(cfg, addr)
}

// judges are the in-house members of a party's chain, in order: who
// accepts or rejects its reports.
func judges(cfg *config.Config, party string) []string {
	var out []string
	if pt := directoryOf(cfg).Party(party); pt != nil {
		for _, a := range pt.Chain {
			if ourSide(cfg, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// majorCommand runs "#major" and "#major off": in-house staff only (a
// provider does not decide whether its own outage owes a report).
func (p *processing) majorCommand(ctx context.Context, inc *store.Incident, arg string) (string, bool, error) {
	cfg := p.e.Cfg
	from := p.msg.From.Addr
	if p.in.Source.Kind != "admin" && !ourSide(cfg, from) {
		return "only in-house staff (team members, their reporting chains and problem contacts, addresses of [helpdesk] domains) declare a major incident, and " + from + " is not", false, nil
	}
	switch strings.ToLower(strings.TrimSpace(arg)) {
	case "", "on":
		if inc.IsMajor() {
			return "already a major incident", true, nil
		}
		if err := p.declareMajor(ctx, inc, "declared by "+from, from, nil); err != nil {
			return "", false, err
		}
		return "major incident declared", true, nil
	case "off":
		if !inc.IsMajor() {
			return "not a major incident", true, nil
		}
		inc.Major, inc.UpdatedAt = store.MajorOff, p.now
		owed := inc.ReportStatus == store.ReportRequested || inc.ReportStatus == store.ReportPartial
		if owed {
			inc.ReportStatus, inc.ReportNextAt = "", nil
		}
		p.u.dirty[inc] = true
		detail := "no longer a major incident"
		if owed {
			detail += "; the report is no longer owed"
		}
		if err := p.event(inc, EvMajorOff, from, detail); err != nil {
			return "", false, err
		}
		return detail, true, nil
	}
	return fmt.Sprintf("bad argument %q: want \"#major\" or \"#major off\"", arg), false, nil
}

// reportVerdict runs "#accept" and "#reject REASON" on a received
// report: in-house members of the responsible party's chain only.
func (p *processing) reportVerdict(ctx context.Context, inc *store.Incident, accept bool, reason string) (string, bool, error) {
	cfg := p.e.Cfg
	from := p.msg.From.Addr
	dir := directoryOf(cfg)
	if p.in.Source.Kind != "admin" && !(dir.OnChainOf(from, owes(inc)) && ourSide(cfg, from)) {
		return "only an in-house member of " + partyName(cfg, owes(inc)) + "'s reporting chain accepts or rejects its report", false, nil
	}
	if p.in.Source.Kind != "admin" && (strings.EqualFold(from, inc.ReportFrom) || slices.Contains(reportOf(inc).Authors, strings.ToLower(from))) {
		return from + " wrote the report (or part of it) and does not judge it; another in-house member of the chain does", false, nil
	}
	switch {
	case !inc.IsMajor() && inc.ReportStatus == "":
		return inc.Key + " is not a major incident", false, nil
	case inc.ReportStatus == store.ReportAccepted && accept:
		return "already accepted", true, nil
	case inc.ReportStatus != store.ReportReceived && inc.ReportStatus != store.ReportAccepted:
		return "no complete report to judge (report " + inc.ReportState(p.now) + ")", false, nil
	case !accept && strings.TrimSpace(reason) == "":
		return "a reason is needed: \"#reject REASON\" (the party is told it)", false, nil
	}
	d := p.majorData(inc, "accepted")
	kind, detail := EvReportAccepted, "report accepted by "+from
	if accept {
		inc.ReportStatus, inc.ReportNextAt = store.ReportAccepted, nil
	} else {
		d.Kind, d.Reason = "rejected", reason
		kind, detail = EvReportRejected, "report rejected by "+from+": "+reason
		inc.ReportStatus = store.ReportRequested
		// A revision gets at least remind_every from now, on the
		// party's calendar.
		if grace := partyCalendar(cfg, owes(inc)).Add(p.now, cfg.Major.RemindEveryDur); inc.ReportDueAt == nil || inc.ReportDueAt.Before(grace) {
			inc.ReportDueAt = &grace
			detail += "; due " + inWords(cfg, &grace)
		}
		inc.ReportNextAt = nextReportWork(cfg, inc, p.now)
	}
	inc.UpdatedAt = p.now
	p.u.dirty[inc] = true
	if err := p.event(inc, kind, from, detail); err != nil {
		return "", false, err
	}
	var to []string
	if inc.ReportFrom != "" {
		to = append(to, inc.ReportFrom)
	} else if c := consulted(cfg, owes(inc)); c != "" {
		to = append(to, c)
	}
	if len(to) > 0 {
		if err := p.majorMail(ctx, inc, OutReportVerdict, to, nil, d, "major:"+inc.Key+":verdict:"+p.now.Format(time.RFC3339Nano)); err != nil {
			return "", false, err
		}
	}
	return detail, true, nil
}

// ofParty reports whether addr speaks for the responsible party of a
// report: its members or intake, its provider's domain, its problem
// contact or its chain.
func ofParty(cfg *config.Config, addr, party string) bool {
	dir := directoryOf(cfg)
	if s := dir.Staff(addr); s != nil && s.Name == party {
		return true
	}
	pt := dir.Party(party)
	if pt == nil {
		return false
	}
	return strings.EqualFold(pt.Contact, addr) || dir.OnChainOf(addr, party)
}

// reportSubject: the subjects of every report mail hold these words, and
// so do the replies to them.
const reportSubject = "major incident report"

// takeReport reads a reply from the responsible party on a major
// incident whose report is owed as the report, when it is one: sections
// found in its new text, or an attached PDF or DOCX that holds some. It
// reports whether the message is report correspondence, which is never
// relayed to the requester: a report, a reply to one of the report mails
// (their subjects say "major incident report"), or an attachment that
// could not be read (the sender is told why).
func (p *processing) takeReport(ctx context.Context, inc *store.Incident, text string, verdict bool) (bool, error) {
	cfg, m := p.e.Cfg, p.msg
	from := m.From.Addr
	if inc.ReportStatus == "" || !ofParty(cfg, from, owes(inc)) {
		// No report asked for yet (an open major incident): its mail is
		// the ordinary work, relayed as always.
		return false, nil
	}
	aboutReport := strings.Contains(strings.ToLower(m.Subject), reportSubject)
	if verdict {
		// "#accept" or "#reject REASON": the text is the judge's, about
		// the report, never the report itself.
		return true, nil
	}
	r := majorreport.Parse(text, cfg.Major.Sections)
	source := "the mail's text"
	if !r.Found() {
		// Written below the quoted request (bottom-posting): the new
		// text stops at the attribution line; read what follows the
		// quote.
		if below := belowQuote(m.Text); strings.TrimSpace(below) != "" {
			r = majorreport.Parse(below, cfg.Major.Sections)
		}
	}
	if inc.ReportStatus != store.ReportRequested && inc.ReportStatus != store.ReportPartial {
		// After the report came: a revision or a remark about it is on
		// record, not relayed; "#reject" first to send a new one.
		return aboutReport || r.Found() || p.hasDocument(), nil
	}
	// Nothing is parsed for a sender who is not authenticated: an
	// attachment is read only from someone who is who they say.
	auth, _ := p.authenticated()
	var unread []string
	if !r.Found() {
		if !auth {
			if aboutReport || p.hasDocument() {
				p.deny("the major incident report it may hold was not read")
				return true, nil
			}
			return false, nil
		}
		var ok bool
		if r, source, unread, ok = p.reportDocument(ctx); !ok {
			if !aboutReport && len(unread) == 0 {
				return false, nil
			}
			// About the report, but no report in it.
			why := "no section headings found in the text"
			if len(unread) > 0 {
				why = strings.Join(unread, "; ")
			}
			if err := p.event(inc, EvReportUnread, from, "no report recorded from "+from+": "+why); err != nil {
				return true, err
			}
			d := p.majorData(inc, "unread")
			d.Sender, d.Reason = from, why
			key := "major:" + inc.Key + ":unread:" + cleanText(m.MessageID) + ":" + m.ContentHash
			return true, p.majorMail(ctx, inc, OutReportPartial, []string{from}, nil, d, key)
		}
	}
	if !auth {
		p.deny("the major incident report it holds was not recorded")
		return true, nil
	}
	merged := mergeReport(reportOf(inc), r, cfg.Major.Sections)
	if a := strings.ToLower(from); !slices.Contains(merged.Authors, a) {
		merged.Authors = append(merged.Authors, a)
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return false, err
	}
	at := p.now
	inc.Report, inc.ReportFrom, inc.ReportReceivedAt, inc.UpdatedAt = string(b), strings.ToLower(from), &at, p.now
	p.u.dirty[inc] = true
	var names []string
	for _, s := range r.Sections {
		names = append(names, s.Name)
	}
	key := "major:" + inc.Key + ":report:" + cleanText(m.MessageID) + ":" + m.ContentHash
	if merged.Status == majorreport.StatusPartial {
		inc.ReportStatus = store.ReportPartial
		if err := p.event(inc, EvReportPartial, from, fmt.Sprintf("report from %s (%s): %s; %s",
			from, source, strings.Join(names, ", "), majorreport.MissingWords(merged))); err != nil {
			return true, err
		}
		d := p.majorData(inc, "partial")
		d.Sender = from
		return true, p.majorMail(ctx, inc, OutReportPartial, []string{from}, nil, d, key)
	}
	inc.ReportStatus, inc.ReportNextAt = store.ReportReceived, nil
	if err := p.event(inc, EvReportReceived, from, fmt.Sprintf("complete report from %s (%s)", from, source)); err != nil {
		return true, err
	}
	if err := p.reportProblem(ctx, inc, merged); err != nil {
		return true, err
	}
	d := p.majorData(inc, "received")
	d.Sender = from
	to, cc := []string{from}, []string(nil)
	for _, j := range judges(cfg, owes(inc)) {
		if !slices.Contains(merged.Authors, strings.ToLower(j)) {
			to, cc = []string{j}, []string{from}
			break
		}
	}
	return true, p.majorMail(ctx, inc, OutReportRecvd, to, cc, d, key)
}

var problemRef = regexp.MustCompile(`\bPRB-[0-9]+\b`)

// reportProblem links a major incident that is part of no problem to the
// problem its report's prevention names (PRB-N), as "#problem PRB-N" from
// the report's sender would (the same rules: a provider only to a
// problem it is part of).
func (p *processing) reportProblem(ctx context.Context, inc *store.Incident, r majorreport.Report) error {
	if inc.ProblemID != nil || p.u.problemOf[inc] != nil {
		return nil
	}
	text, _ := r.Text(majorreport.Prevention)
	key := problemRef.FindString(strings.ToUpper(text))
	if key == "" {
		return nil
	}
	result, ok, err := p.forceProblem(ctx, inc, key)
	if err != nil {
		return err
	}
	kind := EvCommand
	if !ok {
		kind = EvCommandRefused
	}
	return p.event(inc, kind, p.msg.From.Addr, "the report's prevention names "+key+": "+result)
}

// belowQuote is the text after the last quoted line (one starting with
// ">"): what a bottom-posted reply wrote under the quoted request; ""
// when nothing is quoted. A reply that quotes without ">" (Outlook's
// "-----Original Message-----") is top-posted: its new text is what
// stands above, and the request below is never read as the report.
func belowQuote(text string) string {
	lines := strings.Split(text, "\n")
	last := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), ">") {
			last = i
		}
	}
	if last < 0 {
		return ""
	}
	return strings.Join(lines[last+1:], "\n")
}

// hasDocument reports whether the message has an attachment that may be
// a PDF or DOCX report, by its name or type (without reading it).
func (p *processing) hasDocument() bool {
	for _, a := range p.msg.Attachments {
		n, ct := strings.ToLower(a.Filename), strings.ToLower(a.ContentType)
		if strings.HasSuffix(n, ".pdf") || strings.HasSuffix(n, ".docx") || strings.Contains(ct, "pdf") || strings.Contains(ct, "officedocument") {
			return true
		}
	}
	return false
}

// reportDocument parses the first attached PDF or DOCX that holds
// report sections; unread says, for each attached document that could
// not be read or held no section, why.
func (p *processing) reportDocument(ctx context.Context) (r majorreport.Report, source string, unread []string, ok bool) {
	for i, a := range p.msg.Attachments {
		if i >= 10 {
			break
		}
		name := cleanText(a.Filename)
		att, err := mailparse.AttachmentData(p.in.Raw, p.e.Parse, i)
		if err != nil {
			unread = append(unread, fmt.Sprintf("attachment %q: %v", name, err))
			continue
		}
		if _, isDoc := majorreport.DocumentKind(att.Filename, att.ContentType, att.Data); !isDoc {
			continue
		}
		// Read in a child process bounded in memory and time (package
		// extract): a document made to exhaust the PDF reader costs
		// that child, not the daemon.
		text, err := extract.Text(ctx, att.Filename, att.ContentType, att.Data)
		r := majorreport.Parse(text, p.e.Cfg.Major.Sections)
		switch {
		case err != nil:
			unread = append(unread, fmt.Sprintf("attachment %q could not be read: %v", name, cleanText(err.Error())))
		case !r.Found():
			unread = append(unread, fmt.Sprintf("attachment %q has no section headings", name))
		default:
			return r, "attached " + name, unread, true
		}
	}
	return majorreport.Report{}, "", unread, false
}

// mergeReport adds the sections of a new reply to a report: a section
// written again replaces the earlier text. Missing and Status are
// worked out again from the required sections.
func mergeReport(old, add majorreport.Report, required []string) majorreport.Report {
	out := old
	out.Authors = append([]string(nil), old.Authors...)
	out.Sections = append([]majorreport.Section(nil), old.Sections...)
	for _, s := range add.Sections {
		s.Text = trimSignOff(s.Text)
		i := slices.IndexFunc(out.Sections, func(x majorreport.Section) bool { return x.Name == s.Name })
		if i >= 0 {
			out.Sections[i] = s
		} else {
			out.Sections = append(out.Sections, s)
		}
	}
	if len(add.Actions) > 0 {
		out.Actions = add.Actions
	}
	out.Preamble, out.Other, out.Truncated = add.Preamble, add.Other, add.Truncated
	out.Missing = nil
	for _, r := range required {
		if _, ok := out.Text(r); !ok {
			out.Missing = append(out.Missing, r)
		}
	}
	out.Status = majorreport.StatusComplete
	if len(out.Missing) > 0 {
		out.Status = majorreport.StatusPartial
	}
	return out
}

// signOffs open the closing of a mail ("Regards,", "Viele Grüße"), in
// lower case without punctuation.
var signOffs = []string{"regards", "best regards", "kind regards", "best", "thanks", "thank you", "many thanks", "cheers",
	"sincerely", "yours sincerely", "br", "gruss", "gruß", "gruesse", "grüße", "viele grüße", "viele gruesse", "beste grüße",
	"mit freundlichen grüßen", "mfg", "lg", "liebe grüße", "danke", "rest follows", "more to follow"}

// trimSignOff cuts a section's text at a sign-off in its last lines
// ("Regards, Mark"), which belongs to the mail, not to the section.
func trimSignOff(text string) string {
	lines := strings.Split(text, "\n")
	for i := max(0, len(lines)-4); i < len(lines); i++ {
		l := strings.ToLower(strings.TrimSpace(lines[i]))
		l = strings.TrimRight(l, ",.!:; ")
		if j := strings.IndexAny(l, ",."); j > 0 {
			l = strings.TrimSpace(l[:j]) // "regards, mark"
		}
		if i > 0 && slices.Contains(signOffs, l) {
			return strings.TrimSpace(strings.Join(lines[:i], "\n"))
		}
	}
	return text
}

// reportSlots are the instants a report's reminders (the kth at
// requested + k*remind_every) and overdue levels (level l at due +
// [escalation] levels[l-1]) fall due, on the party's calendar.
type reportSlots struct {
	cal       *sla.Calendar
	requested time.Time
	due       time.Time
	remind    sla.Duration
	levels    []time.Time
}

func slotsOf(cfg *config.Config, inc *store.Incident) *reportSlots {
	if inc.ReportRequestedAt == nil || inc.ReportDueAt == nil {
		return nil
	}
	s := &reportSlots{cal: partyCalendar(cfg, owes(inc)), requested: *inc.ReportRequestedAt, due: *inc.ReportDueAt, remind: cfg.Major.RemindEveryDur}
	for _, l := range cfg.Escalation.LevelDurs {
		s.levels = append(s.levels, s.cal.Add(s.due, l))
	}
	return s
}

// reminder is the instant of the kth reminder (k >= 1).
func (s *reportSlots) reminder(k int) time.Time {
	d := sla.Duration{Days: s.remind.Days * k, Clock: s.remind.Clock * time.Duration(k)}
	return s.cal.Add(s.requested, d)
}

// lastReminder is the number of the latest reminder due at now (0: none
// yet) and when the next one falls due.
func (s *reportSlots) lastReminder(now time.Time) (int, time.Time) {
	k := 0
	for {
		at := s.reminder(k + 1)
		if at.IsZero() || at.After(now) {
			return k, at
		}
		k++
		if k > 10000 {
			return k, time.Time{}
		}
	}
}

// nextReportWork is when the tick next has a reminder or an escalation
// for an owed report after now; nil when none is owed.
func nextReportWork(cfg *config.Config, inc *store.Incident, now time.Time) *time.Time {
	if !inc.IsMajor() || (inc.ReportStatus != store.ReportRequested && inc.ReportStatus != store.ReportPartial) {
		return nil
	}
	s := slotsOf(cfg, inc)
	if s == nil {
		return nil
	}
	_, next := s.lastReminder(now)
	for l, at := range s.levels {
		if chainLevel(cfg, owes(inc), l+1) == "" {
			break
		}
		if at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if next.IsZero() {
		return nil
	}
	return &next
}

// ReportJob is the tick's job that reminds of owed major incident
// reports and escalates overdue ones.
func (e *Engine) ReportJob() Job {
	return Job{Name: "major-reports", Run: e.remindReports}
}

func (e *Engine) remindReports(ctx context.Context, w *Work) error {
	cfg := e.Cfg
	incs, err := w.Tx.DueReports(ctx, w.Now, escalationBatch)
	if err != nil || len(incs) == 0 {
		return err
	}
	u := w.u
	type due struct {
		inc   *store.Incident
		kind  OutboxKind
		level int
		n     int
		key   string
	}
	var todo []due
	var keys []string
	for _, inc := range incs {
		u.incByID[inc.ID], u.incByKey[inc.Key] = inc, inc
		u.dirty[inc] = true
		s := slotsOf(cfg, inc)
		if s == nil || !inc.IsMajor() || (inc.ReportStatus != store.ReportRequested && inc.ReportStatus != store.ReportPartial) {
			inc.ReportNextAt = nil
			continue
		}
		// After downtime only the latest reminder goes out; every
		// level that fell due does (each has its own person).
		if k, _ := s.lastReminder(w.Now); k > 0 {
			d := due{inc: inc, kind: OutReportRemind, n: k, key: reportKey(inc, fmt.Sprintf("reminder:%d", k))}
			todo, keys = append(todo, d), append(keys, d.key)
			for j := 1; j < k; j++ {
				keys = append(keys, reportKey(inc, fmt.Sprintf("reminder:%d", j)))
			}
		}
		for l, at := range s.levels {
			if at.After(w.Now) || chainLevel(cfg, owes(inc), l+1) == "" {
				break
			}
			d := due{inc: inc, kind: OutReportOverdue, level: l + 1, key: reportKey(inc, fmt.Sprintf("overdue:%d", l+1))}
			todo, keys = append(todo, d), append(keys, d.key)
		}
		inc.ReportNextAt = nextReportWork(cfg, inc, w.Now)
	}
	recorded, err := w.Tx.EventKeysExist(ctx, keys)
	if err != nil {
		return err
	}
	p := &processing{e: e, u: u, now: w.Now}
	for _, d := range todo {
		if _, ok := recorded[d.key]; ok {
			continue // sent before: a repeated tick, or another daemon
		}
		if d.kind == OutReportRemind {
			// Numbered by the reminders that went out, not by the slot
			// (after downtime the first one sent is "Reminder 1").
			shown := 1
			for j := 1; j < d.n; j++ {
				if _, ok := recorded[reportKey(d.inc, fmt.Sprintf("reminder:%d", j))]; ok {
					shown++
				}
			}
			d.n = shown
		}
		if err := p.reportNotice(ctx, d.inc, d.kind, d.level, d.n, d.key); err != nil {
			return err
		}
	}
	u.events = append(u.events, p.events...)
	return nil
}

// reportNotice records and queues a reminder or an overdue escalation of
// an owed report under its once-only key.
func (p *processing) reportNotice(ctx context.Context, inc *store.Incident, kind OutboxKind, level, n int, key string) error {
	cfg := p.e.Cfg
	d := p.majorData(inc, "reminder")
	var to, cc []string
	var ev EventKind
	var detail string
	if kind == OutReportRemind {
		ev, d.Repeat = EvReportReminder, n
		if c := consulted(cfg, owes(inc)); c != "" {
			to = []string{c}
		}
		detail = fmt.Sprintf("reminder %d: report due %s", n, inWords(cfg, inc.ReportDueAt))
	} else {
		ev, d.Kind, d.Level = EvReportOverdue, "overdue", level
		if pt := directoryOf(cfg).Party(owes(inc)); pt != nil {
			to, cc = levelRecipients(pt.Chain, level)
		}
		if over := partyCalendar(cfg, owes(inc)).Between(*inc.ReportDueAt, p.now); over > 0 {
			d.Overdue = spanWords(over)
		}
		detail = fmt.Sprintf("report overdue since %s: %s's chain level %d", inWords(cfg, inc.ReportDueAt), orNobody(owes(inc)), level)
	}
	if len(to) > 0 {
		detail += " to " + strings.Join(to, ", ")
	} else {
		detail += "; nobody to tell (no problem contact or chain)"
	}
	k := key
	p.events = append(p.events, pendingEvent{inc: inc, ev: &store.Event{Kind: string(ev), Actor: "helpdeskd",
		Detail: cleanText(detail), CreatedAt: p.now, DedupeKey: &k}})
	if len(to) == 0 {
		return nil
	}
	return p.majorMail(ctx, inc, kind, to, cc, d, key)
}
