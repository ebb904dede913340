package workflow

import (
	"context"
	"fmt"
	htmltemplate "html/template"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow/schedule"
	"github.com/helpdeskd/helpdeskd/workflow/sla"
)

// Accountability summaries: what management reads every Monday. A
// [[summary]] is computed for the period that just ended (schedule.Due),
// beside the period before, from one read of the incidents that touch the
// last 12 periods (store.EachSummaryIncident) and the problems. The
// figures, all of the helpdesk's promise (the SLA each incident is
// measured by; a provider contract's own clock is in the escalations):
//
//   - opened: incidents created in the period; resolved: resolved in it;
//     backlog: created before its end and neither resolved nor closed by
//     then.
//   - SLA met: a target counts in the period its outcome fell in: met at
//     the first response (or resolution) that came in time, breached at
//     the breach. Running targets do not count yet. Met % = met / counted.
//   - breaches: targets breached in the period, with the level reached
//     and the acknowledgement.
//   - time to first response and to resolution: business time on the
//     calendar of the incident's target (24x7 targets around the clock)
//     from opening, pauses included, of the targets decided in the
//     period; mean and 90th percentile (linear interpolation between
//     closest ranks, as PostgreSQL's percentile_cont), computed in Go, so
//     both stores give the same figure.
//   - ageing: incidents open at the period's end by whole days since
//     opening (0-2, 3-7, 8-30, more than 30), with whom they wait on (the
//     requester while waiting, else the assignee).

// maxBreachLines bounds the breaches a summary lists (the rest are
// counted, and in the attached register): the mail stays readable and
// small enough for every client (Gmail clips past about 100 KB).
const maxBreachLines = 50

// clipWords shortens a subject for a summary line: 120 characters at most.
func clipWords(s string) string { return clipRunes(s, 120) }

// clipRunes shortens s to at most n characters, the last an ellipsis
// when it was longer.
func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// SummaryPeriods is how many periods the history (chart and table)
// covers, the reported one included.
const SummaryPeriods = 12

// Summary is one rendered summary's figures: what the summary template
// sees.
type Summary struct {
	HelpdeskName string
	Name         string
	Scope        string // "all", or the party's display name
	Period       schedule.Period
	Prev         schedule.Period
	PeriodLabel  string // "week 48 of 2026 (Mon 23 Nov – Sun 29 Nov 2026)"
	PrevLabel    string
	Zone         string
	Calendars    []string
	Generated    string
	Late         string // "" or why it comes late
	Target       float64
	TargetLabel  string // "90 %"

	Headline   []HeadlineFigure
	Matrix     []MatrixRow
	Columns    []string // "P1 response", …
	Priorities []string // "P1" … "P4"
	Breaches   []BreachLine
	// MoreBreaches counts the breaches past the first maxBreachLines
	// (they are in the attached register).
	MoreBreaches int
	Times        []TimeLine
	Problems     ProblemFigures
	Major        MajorFigures
	Oldest       []OpenLine
	Ageing       []AgeBucket
	History      []HistoryPoint
	// ChartSrc is where the HTML finds the chart: a cid: URL in mail, a
	// data: URL in a preview; empty for none.
	ChartSrc   htmltemplate.URL
	ChartAlt   string
	Attachment string // the register's file name, or ""
	ExportHint string
}

// HeadlineFigure is one headline number beside the previous period's.
type HeadlineFigure struct {
	Label, Now, Prev, Change string
	Worse                    bool
}

// MatrixCell is met/total of one priority and metric for one party.
type MatrixCell struct {
	Met, Total int
	Pct        string // "95 %"; "–" without targets
	Below      bool   // under the compliance target
}

// MatrixRow is one team's or provider's SLA figures.
type MatrixRow struct {
	Party string
	Kind  string // "team", "provider" or "" (unassigned)
	Cells []MatrixCell
	All   MatrixCell
}

// BreachLine is one breach of the period.
type BreachLine struct {
	Key, Subject, Party, Metric, By, Ack string
	Level                                int
}

// TimeLine is the time to first response and to resolution of a group
// (a priority or a party).
type TimeLine struct {
	Group                              string
	RespN, ResN                        int
	RespMean, RespP90, ResMean, ResP90 string
}

// ProblemFigures are the period's problems and repeats.
type ProblemFigures struct {
	New, Open, Resolved []ProblemLine
	KnownErrors         int
	Repeats             []string // keys of the incidents that were later occurrences
}

// ProblemLine is one problem.
type ProblemLine struct {
	Key, Title, Status string
	Incidents          int
}

// MajorFigures are the major incidents' reports.
type MajorFigures struct {
	Declared    int
	Received    []MajorLine
	Outstanding []MajorLine
	Overdue     []MajorLine
}

// MajorLine is one major incident and its report.
type MajorLine struct {
	Key, Subject, Party, Due, Status string
}

// OpenLine is one open incident.
type OpenLine struct {
	Key, Subject, Age, WaitsOn, Priority string
}

// AgeBucket counts the open incidents of an age range, and by whom they
// wait on.
type AgeBucket struct {
	Label   string
	Count   int
	WaitsOn string // "IT team 3, Acme 1"
}

// HistoryPoint is one period of the history.
type HistoryPoint struct {
	Label    string // "W48", "30 Nov", "Nov"
	Key      string
	Opened   int
	Resolved int
	SLAPct   float64 // -1 without counted targets
	SLA      string
}

// outcome is a target's outcome: when it was decided and whether met.
type outcome struct {
	at  time.Time
	met bool
	ok  bool // decided
}

func respOutcome(in *store.SummaryIncident) outcome {
	switch {
	case in.ResponseBreachedAt != nil:
		return outcome{at: *in.ResponseBreachedAt, ok: true}
	case in.ResponseDue != nil && in.FirstResponseAt != nil:
		return outcome{at: *in.FirstResponseAt, met: true, ok: true}
	}
	return outcome{}
}

func resOutcome(in *store.SummaryIncident) outcome {
	done := in.ResolvedAt
	if done == nil {
		done = in.ClosedAt
	}
	switch {
	case in.ResolutionBreachedAt != nil:
		return outcome{at: *in.ResolutionBreachedAt, ok: true}
	case in.ResolutionDue != nil && done != nil:
		return outcome{at: *done, met: true, ok: true}
	}
	return outcome{}
}

func within(t *time.Time, p schedule.Period) bool {
	return t != nil && !t.Before(p.Start) && t.Before(p.End)
}

// doneAt is when an incident stopped being open: resolved, else closed.
func doneAt(in *store.SummaryIncident) *time.Time {
	if in.ResolvedAt != nil {
		return in.ResolvedAt
	}
	return in.ClosedAt
}

func openAt(in *store.SummaryIncident, t time.Time) bool {
	d := doneAt(in)
	return in.CreatedAt.Before(t) && (d == nil || !d.Before(t))
}

// BuildSummary computes a summary for the period that ended last before
// at (the period a run due at `at` covers). now is when it is generated;
// late, when not empty, says why it comes late.
func BuildSummary(ctx context.Context, r store.Reader, cfg *config.Config, s *config.Summary, at, now time.Time, late string) (*Summary, error) {
	loc := cfg.Helpdesk.Location
	if loc == nil {
		loc = time.UTC
	}
	period := schedule.LastEnded(s.Period, at, loc)
	hist := make([]schedule.Period, SummaryPeriods)
	hist[SummaryPeriods-1] = period
	for i := SummaryPeriods - 2; i >= 0; i-- {
		hist[i] = schedule.PeriodAt(s.Period, hist[i+1].Start.Add(-time.Nanosecond), loc)
	}
	prev := hist[SummaryPeriods-2]
	dir := directoryOf(cfg)
	inScope := func(assignee string) bool { return s.Scope == "all" || assignee == s.Scope }
	// whose is the party an outcome counts for: a breach against who held
	// the incident then, anything else for its holder.
	whose := func(in *store.SummaryIncident, metric int, met bool) string {
		if by := []string{in.ResponseBreachedBy, in.ResolutionBreachedBy}[metric]; !met && by != "" {
			return by
		}
		return in.Assignee
	}
	// touches: an incident a scoped summary reads (its own, or one it
	// breached before handing it over).
	touches := func(in *store.SummaryIncident) bool {
		return inScope(in.Assignee) || in.ResponseBreachedBy != "" && inScope(in.ResponseBreachedBy) ||
			in.ResolutionBreachedBy != "" && inScope(in.ResolutionBreachedBy)
	}

	sum := &Summary{HelpdeskName: cfg.Helpdesk.Name, Name: s.Name, Scope: "all teams and providers", Period: period, Prev: prev,
		PeriodLabel: periodLabel(period, loc), PrevLabel: periodLabel(prev, loc), Zone: loc.String(),
		Generated: now.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), Late: late, Target: s.ComplianceTarget,
		TargetLabel: fmt.Sprintf("%g %%", s.ComplianceTarget)}
	if s.Scope != "all" {
		sum.Scope = partyName(cfg, s.Scope) + " only"
	}
	for i := range cfg.Calendars {
		if c := cfg.Calendars[i].Cal; c != nil {
			sum.Calendars = append(sum.Calendars, c.String())
		}
	}

	type counts struct {
		opened, resolved, backlog, breaches int
		respMet, respN, resMet, resN        int
	}
	var cur, before counts
	histCounts := make([]counts, SummaryPeriods)
	prios := []string{"P1", "P2", "P3", "P4"}
	sum.Priorities = prios
	for _, p := range prios {
		sum.Columns = append(sum.Columns, p+" response", p+" resolution")
	}
	type cell struct{ met, total int }
	matrix := map[string][]cell{} // party → prios*2 cells
	partyAll := map[string]*cell{}
	respTimes, resTimes := map[string][]float64{}, map[string][]float64{}
	var oldest []OpenLine
	type openInc struct {
		created time.Time
		line    OpenLine
		waits   string
	}
	var open []openInc
	var repeats []string
	declared := 0
	var major MajorFigures
	problemIncidents := map[int64]bool{}

	cellsOf := func(party string) []cell {
		c := matrix[party]
		if c == nil {
			c = make([]cell, 2*len(prios))
			matrix[party] = c
			partyAll[party] = &cell{}
		}
		return c
	}
	calOf := func(in *store.SummaryIncident, m sla.Metric) *sla.Calendar {
		if pol := cfg.PolicyNamed(in.SLA); pol != nil {
			if t, ok := pol.Target(string(in.Priority), m); ok {
				return t.Calendar
			}
			if pol.Calendar != nil {
				return pol.Calendar
			}
		}
		return sla.TwentyFourSeven(loc)
	}
	add := func(c *counts, in *store.SummaryIncident, p schedule.Period) {
		if inScope(in.Assignee) {
			if within(&in.CreatedAt, p) {
				c.opened++
			}
			if within(in.ResolvedAt, p) {
				c.resolved++
			}
			if openAt(in, p.End) {
				c.backlog++
			}
		}
		if o := respOutcome(in); o.ok && within(&o.at, p) && inScope(whose(in, 0, o.met)) {
			c.respN++
			if o.met {
				c.respMet++
			}
		}
		if o := resOutcome(in); o.ok && within(&o.at, p) && inScope(whose(in, 1, o.met)) {
			c.resN++
			if o.met {
				c.resMet++
			}
		}
		if within(in.ResponseBreachedAt, p) && inScope(whose(in, 0, false)) {
			c.breaches++
		}
		if within(in.ResolutionBreachedAt, p) && inScope(whose(in, 1, false)) {
			c.breaches++
		}
	}
	// The history before the previous period: counted by the database,
	// by the same reading of the incidents as below (add).
	var older [][2]time.Time
	for _, p := range hist[:SummaryPeriods-2] {
		older = append(older, [2]time.Time{p.Start, p.End})
	}
	scope := ""
	if s.Scope != "all" {
		scope = s.Scope
	}
	counted, err := r.SummaryHistory(ctx, older, scope)
	if err != nil {
		return nil, err
	}
	for i, c := range counted {
		histCounts[i] = counts{opened: c.Opened, resolved: c.Resolved, respMet: c.RespMet, respN: c.RespN, resMet: c.ResMet, resN: c.ResN}
	}
	// The previous and the reported period, incident by incident.
	err = r.EachSummaryIncident(ctx, prev.Start, period.End, func(in *store.SummaryIncident) error {
		if !touches(in) {
			return nil
		}
		for i := SummaryPeriods - 2; i < SummaryPeriods; i++ {
			add(&histCounts[i], in, hist[i])
		}
		// The reported period in detail.
		party := in.Assignee
		own := inScope(party)
		if own {
			cellsOf(party)
			if in.ProblemID != nil {
				problemIncidents[*in.ProblemID] = true
			}
		}
		pi := -1
		for i, p := range prios {
			if string(in.Priority) == p {
				pi = i
			}
		}
		for mi, o := range []outcome{respOutcome(in), resOutcome(in)} {
			if !o.ok || !within(&o.at, period) {
				continue
			}
			// A breach counts against who held the incident then.
			who := whose(in, mi, o.met)
			if !inScope(who) {
				continue
			}
			wc := cellsOf(who)
			if pi >= 0 {
				wc[2*pi+mi].total++
				if o.met {
					wc[2*pi+mi].met++
				}
			}
			partyAll[who].total++
			if o.met {
				partyAll[who].met++
			}
		}
		if o := respOutcome(in); own && o.ok && within(&o.at, period) && in.FirstResponseAt != nil {
			h := calOf(in, sla.Response).Between(in.CreatedAt, *in.FirstResponseAt).Hours()
			respTimes[string(in.Priority)] = append(respTimes[string(in.Priority)], h)
			respTimes["party:"+party] = append(respTimes["party:"+party], h)
		}
		if o := resOutcome(in); own && o.ok && within(&o.at, period) && doneAt(in) != nil {
			h := calOf(in, sla.Resolution).Between(in.CreatedAt, *doneAt(in)).Hours()
			resTimes[string(in.Priority)] = append(resTimes[string(in.Priority)], h)
			resTimes["party:"+party] = append(resTimes["party:"+party], h)
		}
		for mi, m := range []struct {
			at     *time.Time
			metric string
			done   *time.Time
		}{{in.ResponseBreachedAt, "first response", in.FirstResponseAt},
			{in.ResolutionBreachedAt, "resolution", doneAt(in)}} {
			who := whose(in, mi, false)
			if !within(m.at, period) || !inScope(who) {
				continue
			}
			if len(sum.Breaches) >= maxBreachLines {
				sum.MoreBreaches++
				continue
			}
			// By how much: from the breach (when the target passed) to
			// the reply or resolution, or to the period's end.
			end := period.End
			by := ""
			if m.done != nil && m.done.After(*m.at) {
				by = longSpanWords(m.done.Sub(*m.at)) + " late"
			} else {
				if now.Before(end) {
					end = now
				}
				by = "open, " + longSpanWords(end.Sub(*m.at)) + " over at the period's end"
			}
			ack := "not acknowledged"
			if in.AcknowledgedBy != "" && in.AcknowledgedAt != nil && !in.AcknowledgedAt.Before(*m.at) {
				ack = "acknowledged by " + in.AcknowledgedBy + " " + in.AcknowledgedAt.In(loc).Format("Mon 2 Jan 15:04")
			}
			sum.Breaches = append(sum.Breaches, BreachLine{Key: in.Key, Subject: clipWords(in.Subject), Party: partyName(cfg, who),
				Metric: m.metric, By: by, Level: in.EscalationLevel, Ack: ack})
		}
		if !own {
			return nil // another party's incident, read for the breach it counts against this one
		}
		if within(&in.CreatedAt, period) && in.Repeat {
			repeats = append(repeats, in.Key)
		}
		if in.Major == store.MajorDeclared && within(&in.CreatedAt, period) {
			declared++
		}
		if in.ReportStatus != "" {
			ml := MajorLine{Key: in.Key, Subject: clipWords(in.Subject), Party: partyName(cfg, party), Status: in.ReportStatus}
			if in.ReportDueAt != nil {
				ml.Due = in.ReportDueAt.In(loc).Format("Mon 2 Jan 15:04")
			}
			switch in.ReportStatus {
			case store.ReportReceived, store.ReportAccepted:
				if within(in.ReportReceivedAt, period) {
					major.Received = append(major.Received, ml)
				}
			case store.ReportRequested, store.ReportPartial:
				if in.ReportDueAt != nil && in.ReportDueAt.Before(period.End) {
					ml.Status = "overdue"
					major.Overdue = append(major.Overdue, ml)
				} else {
					major.Outstanding = append(major.Outstanding, ml)
				}
			}
		}
		if openAt(in, period.End) {
			waits := partyName(cfg, party)
			if in.Status == store.StatusWaiting {
				waits = "the requester"
			}
			open = append(open, openInc{created: in.CreatedAt, waits: waits, line: OpenLine{Key: in.Key, Subject: clipWords(in.Subject),
				Priority: string(in.Priority), WaitsOn: waits, Age: ageWords(period.End.Sub(in.CreatedAt))}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cur, before = histCounts[SummaryPeriods-1], histCounts[SummaryPeriods-2]
	major.Declared = declared
	sum.Major = major

	pct := func(met, n int) string {
		if n == 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f %%", math.Floor(100*float64(met)/float64(n)))
	}
	fig := func(label string, now, prev int, higherIsWorse bool) HeadlineFigure {
		f := HeadlineFigure{Label: label, Now: fmt.Sprint(now), Prev: fmt.Sprint(prev)}
		switch d := now - prev; {
		case d > 0:
			f.Change, f.Worse = fmt.Sprintf("+%d", d), higherIsWorse
		case d < 0:
			f.Change, f.Worse = fmt.Sprint(d), !higherIsWorse
		default:
			f.Change = "±0"
		}
		return f
	}
	pctFig := func(label string, met, n, pm, pn int) HeadlineFigure {
		f := HeadlineFigure{Label: label, Now: pct(met, n) + fmt.Sprintf(" (%d of %d)", met, n), Prev: pct(pm, pn)}
		if n > 0 && pn > 0 {
			a, b := 100*float64(met)/float64(n), 100*float64(pm)/float64(pn)
			f.Change = fmt.Sprintf("%+.0f points", math.Floor(a)-math.Floor(b))
			f.Worse = math.Floor(a) < math.Floor(b)
		}
		if n > 0 && 100*float64(met)/float64(n) < s.ComplianceTarget {
			f.Worse = true
		}
		return f
	}
	sum.Headline = []HeadlineFigure{
		fig("Opened", cur.opened, before.opened, true),
		fig("Resolved", cur.resolved, before.resolved, false),
		fig("Backlog at the end", cur.backlog, before.backlog, true),
		pctFig("First response SLA met", cur.respMet, cur.respN, before.respMet, before.respN),
		pctFig("Resolution SLA met", cur.resMet, cur.resN, before.resMet, before.resN),
		fig("Breaches", cur.breaches, before.breaches, true),
	}

	// The matrix: every team and provider of the scope, in the
	// configuration's order, then any other assignee seen.
	var parties []string
	for _, n := range dir.Names() {
		if inScope(n) {
			parties = append(parties, n)
		}
	}
	var others []string
	for p := range matrix {
		if dir.Party(p) == nil {
			others = append(others, p)
		}
	}
	sort.Strings(others)
	parties = append(parties, others...)
	for _, p := range parties {
		row := MatrixRow{Party: partyName(cfg, p)}
		if pt := dir.Party(p); pt != nil {
			row.Kind = string(pt.Kind)
		} else if p == "" {
			row.Party = "unassigned"
		}
		cells := matrix[p]
		if cells == nil {
			cells = make([]cell, 2*len(prios))
		}
		for _, c := range cells {
			row.Cells = append(row.Cells, matrixCell(c.met, c.total, s.ComplianceTarget))
		}
		all := partyAll[p]
		if all == nil {
			all = &cell{}
		}
		row.All = matrixCell(all.met, all.total, s.ComplianceTarget)
		sum.Matrix = append(sum.Matrix, row)
	}

	// Times per priority, then per party.
	for _, p := range prios {
		sum.Times = append(sum.Times, timeLine(p, respTimes[p], resTimes[p]))
	}
	for _, p := range parties {
		sum.Times = append(sum.Times, timeLine(partyName(cfg, p), respTimes["party:"+p], resTimes["party:"+p]))
	}

	// Problems.
	ps, err := r.ListProblems(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if s.Scope != "all" && !problemIncidents[p.ID] {
			continue
		}
		pl := ProblemLine{Key: p.Key, Title: clipWords(p.Title), Status: p.Status, Incidents: p.IncidentCount}
		if within(&p.CreatedAt, period) {
			sum.Problems.New = append(sum.Problems.New, pl)
		}
		switch {
		case p.Status == store.ProblemOpen || p.Status == store.ProblemKnownError:
			sum.Problems.Open = append(sum.Problems.Open, pl)
			if p.Status == store.ProblemKnownError {
				sum.Problems.KnownErrors++
			}
		case within(p.ResolvedAt, period):
			sum.Problems.Resolved = append(sum.Problems.Resolved, pl)
		}
	}
	sort.SliceStable(sum.Problems.Open, func(i, j int) bool { return sum.Problems.Open[i].Incidents > sum.Problems.Open[j].Incidents })
	sum.Problems.Repeats = repeats

	// Ageing and the oldest open incidents.
	sort.Slice(open, func(i, j int) bool { return open[i].created.Before(open[j].created) })
	buckets := []struct {
		label    string
		min, max int // whole days, inclusive
	}{{"0–2 days", 0, 2}, {"3–7 days", 3, 7}, {"8–30 days", 8, 30}, {"over 30 days", 31, math.MaxInt}}
	for _, b := range buckets {
		ab := AgeBucket{Label: b.label}
		by := map[string]int{}
		var order []string
		for _, o := range open {
			days := int(period.End.Sub(o.created) / (24 * time.Hour))
			if days < b.min || days > b.max {
				continue
			}
			ab.Count++
			if by[o.waits] == 0 {
				order = append(order, o.waits)
			}
			by[o.waits]++
		}
		var parts []string
		for _, w := range order {
			parts = append(parts, fmt.Sprintf("%s %d", w, by[w]))
		}
		ab.WaitsOn = strings.Join(parts, ", ")
		sum.Ageing = append(sum.Ageing, ab)
	}
	for i := 0; i < len(open) && i < 10; i++ {
		oldest = append(oldest, open[i].line)
	}
	sum.Oldest = oldest

	// History.
	for i, p := range hist {
		c := histCounts[i]
		h := HistoryPoint{Label: shortLabel(p, loc), Key: p.Key, Opened: c.opened, Resolved: c.resolved, SLAPct: -1, SLA: "–"}
		if n := c.respN + c.resN; n > 0 {
			h.SLAPct = math.Floor(100 * float64(c.respMet+c.resMet) / float64(n))
			h.SLA = fmt.Sprintf("%.0f %%", h.SLAPct)
		}
		sum.History = append(sum.History, h)
	}
	sum.ChartAlt = fmt.Sprintf("Incidents opened and resolved, and SLA met %%, over the last %d %ss up to %s", SummaryPeriods, s.Period, sum.PeriodLabel)
	return sum, nil
}

func matrixCell(met, total int, target float64) MatrixCell {
	c := MatrixCell{Met: met, Total: total, Pct: "–"}
	if total > 0 {
		p := math.Floor(100 * float64(met) / float64(total))
		c.Pct = fmt.Sprintf("%.0f %%", p)
		c.Below = 100*float64(met)/float64(total) < target
	}
	return c
}

func timeLine(group string, resp, res []float64) TimeLine {
	t := TimeLine{Group: group, RespN: len(resp), ResN: len(res), RespMean: "–", RespP90: "–", ResMean: "–", ResP90: "–"}
	if len(resp) > 0 {
		t.RespMean, t.RespP90 = hoursWords(mean(resp)), hoursWords(Percentile(resp, 0.9))
	}
	if len(res) > 0 {
		t.ResMean, t.ResP90 = hoursWords(mean(res)), hoursWords(Percentile(res, 0.9))
	}
	return t
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Percentile is the p-th percentile (0 <= p <= 1) of xs by linear
// interpolation between the closest ranks, as PostgreSQL's
// percentile_cont: with xs sorted, the value at position p*(n-1). xs is
// sorted in place; it must not be empty.
func Percentile(xs []float64, p float64) float64 {
	sort.Float64s(xs)
	pos := p * float64(len(xs)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return xs[lo] + (xs[hi]-xs[lo])*(pos-float64(lo))
}

// hoursWords writes business hours to a tenth: "3.5 h".
func hoursWords(h float64) string {
	return fmt.Sprintf("%.1f h", math.Round(h*10)/10)
}

// longSpanWords writes a span in days and hours past two days ("2d 15h"),
// else as spanWords does.
func longSpanWords(d time.Duration) string {
	if d < 48*time.Hour {
		return spanWords(d)
	}
	d = d.Round(time.Hour)
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// ageWords writes an age in whole days, or hours under a day.
func ageWords(d time.Duration) string {
	if d < 24*time.Hour {
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d d", int(d/(24*time.Hour)))
}

// periodLabel names a period for people: "week 48 of 2026 (Mon 23 Nov –
// Sun 29 Nov 2026)", "Sunday 29 November 2026", "November 2026".
func periodLabel(p schedule.Period, loc *time.Location) string {
	start := p.Start.In(loc)
	last := p.End.Add(-time.Nanosecond).In(loc)
	switch p.Kind {
	case "day":
		return start.Format("Monday 2 January 2006")
	case "month":
		return start.Format("January 2006")
	}
	y, w := start.ISOWeek()
	return fmt.Sprintf("week %d of %d (%s – %s)", w, y, start.Format("Mon 2 Jan"), last.Format("Mon 2 Jan 2006"))
}

// shortLabel names a period in the history: "W48", "29 Nov", "Nov 26".
func shortLabel(p schedule.Period, loc *time.Location) string {
	start := p.Start.In(loc)
	switch p.Kind {
	case "day":
		return start.Format("2 Jan")
	case "month":
		if start.Month() == time.January {
			return start.Format("Jan 06")
		}
		return start.Format("Jan")
	}
	_, w := start.ISOWeek()
	return fmt.Sprintf("W%02d", w)
}
