// Package register writes the register of incidents and problems as CSV,
// JSON or XLSX: every incident of a date range, one row each, with its
// SLA figures, and the problems behind them (helpdeskd register, and the
// summaries' attachment).
//
// Columns (incidents): key, subject, requester, opened, first response,
// resolved, closed, priority, status, category, team or provider (the
// assignee), SLA (the policy's name), then per metric (response,
// resolution): target (the configured text, e.g. "4h"), due, result and
// late by (min), then escalation level, problem (its key), repeat of (the
// key of the problem's first incident, when this one is a later
// occurrence), major ("yes" for a major incident, else "no") and report
// status (none, requested, partial, received, accepted, or overdue at the
// time of the export; empty for an incident that is not major and owes
// no report).
//
// Times are wall-clock times in the [helpdesk] timezone, named in the
// column headers ("opened (Europe/London)"); durations are whole minutes,
// rounded up. A metric's result is "met" (done by its due time; late by
// 0), "breached" (done after it, or not done and past it at the time of
// the export; late by the elapsed minutes from due to done, or to the
// export), "running" (not done, not yet due) or empty (no target).
//
// Text cells that begin with = + - @, a tab or a carriage return are
// prefixed with an apostrophe in CSV and XLSX: subjects come from email,
// and a spreadsheet must not take them for formulas (CSV injection). The
// apostrophe is shown by Excel and LibreOffice when they open the file,
// so the reader sees that the text was changed; it is never evaluated.
package register

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/xuri/excelize/v2"
)

// regCol is one column of the register: its header (with the time zone
// appended for times) and its JSON name.
type regCol struct {
	name, json string
	zoned      bool
}

var registerIncidentCols = []regCol{
	{"key", "key", false},
	{"subject", "subject", false},
	{"requester", "requester", false},
	{"opened", "opened", true},
	{"first response", "first_response", true},
	{"resolved", "resolved", true},
	{"closed", "closed", true},
	{"priority", "priority", false},
	{"status", "status", false},
	{"category", "category", false},
	{"team or provider", "assignee", false},
	{"SLA", "sla", false},
	{"response target", "response_target", false},
	{"response due", "response_due", true},
	{"response result", "response_result", false},
	{"response late by (min)", "response_late_minutes", false},
	{"resolution target", "resolution_target", false},
	{"resolution due", "resolution_due", true},
	{"resolution result", "resolution_result", false},
	{"resolution late by (min)", "resolution_late_minutes", false},
	{"escalation level", "escalation_level", false},
	{"problem", "problem", false},
	{"repeat of", "repeat_of", false},
	{"major", "major", false},
	{"report status", "report_status", false},
}

var registerProblemCols = []regCol{
	{"key", "key", false},
	{"title", "title", false},
	{"status", "status", false},
	{"root cause", "root_cause", false},
	{"workaround", "workaround", false},
	{"fix", "fix", false},
	{"incidents", "incidents", false},
	{"created", "created", true},
	{"resolved", "resolved", true},
}

// xlsxMaxRows is the number of rows a worksheet holds (ECMA-376; Excel's
// limit), the header included.
const xlsxMaxRows = 1048576

// register is one export: its zone, its clock and its configuration.
type register struct {
	loc   *time.Location
	now   time.Time
	cfg   *config.Config
	scope string // an assignee, or "" for every incident
}

// ErrTooManyRows: an XLSX sheet would pass the 1,048,576 rows a
// worksheet holds.
var ErrTooManyRows = errors.New("too many rows for XLSX")

// Formats are the formats Write takes.
var Formats = []string{"csv", "json", "xlsx"}

// Write writes the register of the incidents opened in [from, to) (zero:
// unbounded) and their problems to w in format (csv, json or xlsx),
// times in the [helpdesk] timezone, breaches of open incidents measured
// to now. For csv the problems go to problems (nil: not written); json
// and xlsx carry both. Errors are the database's, the writer's, or an
// XLSX sheet past its row limit.
//
// scope, when not empty, is a team's or provider's name: only its
// incidents, and the problems they are linked to, are written (a scoped
// summary's attachment must not carry other parties' incidents).
func Write(ctx context.Context, st store.Reader, cfg *config.Config, now time.Time, format string, from, to time.Time, scope string, w, problems io.Writer) error {
	r := &register{loc: cfg.Helpdesk.Location, now: now, cfg: cfg, scope: scope}
	if r.loc == nil {
		r.loc = time.UTC
	}
	return r.write(ctx, st, format, from, to, w, problems)
}

func (r *register) write(ctx context.Context, st store.Reader, format string, from, to time.Time, w, problems io.Writer) error {
	switch format {
	case "csv":
		return r.writeCSV(ctx, st, from, to, w, problems)
	case "json":
		return r.writeJSON(ctx, st, from, to, w)
	default:
		return r.writeXLSX(ctx, st, from, to, w)
	}
}

// header is a column's heading: times name the zone.
func (r *register) header(c regCol) string {
	if c.zoned {
		return c.name + " (" + r.loc.String() + ")"
	}
	return c.name
}

// neutralise makes a text cell that a spreadsheet would read as a formula
// (it begins with = + - @, a tab or a carriage return) plain text, by
// prefixing an apostrophe (OWASP's advice on CSV injection).
func neutralise(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// metric is a target's outcome for one incident.
type metric struct {
	target string
	due    *time.Time
	result string // met, breached, running, or empty: no target
	late   *int64 // whole minutes, rounded up; nil when not met or breached
}

func (r *register) metric(target string, due, done, breachedAt *time.Time) metric {
	m := metric{target: target, due: due}
	if due == nil {
		return m
	}
	lateBy := func(end time.Time) *int64 {
		n := int64(math.Ceil(end.Sub(*due).Minutes()))
		if n < 0 {
			n = 0
		}
		return &n
	}
	switch {
	case breachedAt != nil:
		// Breached (also in an earlier clock generation of a reopened
		// incident): late from the breach, when the target passed.
		end := r.now
		if done != nil && done.After(*breachedAt) {
			end = *done
		}
		n := int64(math.Ceil(end.Sub(*breachedAt).Minutes()))
		m.result, m.late = "breached", &n
	case done != nil && !done.After(*due):
		m.result, m.late = "met", lateBy(*due)
	case done != nil:
		m.result, m.late = "breached", lateBy(*done)
	case r.now.After(*due):
		m.result, m.late = "breached", lateBy(r.now)
	default:
		m.result = "running"
	}
	return m
}

// incidentCells fills cells (one per registerIncidentCols) with string,
// time.Time (in the report zone), int64 or nil values.
func (r *register) incidentCells(row *store.RegisterRow, cells []any) []any {
	cells = cells[:0]
	var respTarget, resTarget string
	for i := range r.cfg.SLAs {
		if r.cfg.SLAs[i].Name == row.SLA {
			if t := r.cfg.SLAs[i].Target(string(row.Priority)); t != nil {
				respTarget, resTarget = t.Response, t.Resolution
			}
			break
		}
	}
	resp := r.metric(respTarget, row.ResponseDue, row.FirstResponseAt, row.ResponseBreachedAt)
	done := row.ResolvedAt
	if done == nil {
		done = row.ClosedAt // closed without a resolution: done then
	}
	res := r.metric(resTarget, row.ResolutionDue, done, row.ResolutionBreachedAt)
	tm := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return t.In(r.loc)
	}
	str := func(s *string) any {
		if s == nil {
			return nil
		}
		return *s
	}
	num := func(n *int64) any {
		if n == nil {
			return nil
		}
		return *n
	}
	cells = append(cells, row.Key, row.Subject, row.Requester, row.CreatedAt.In(r.loc), tm(row.FirstResponseAt),
		tm(row.ResolvedAt), tm(row.ClosedAt), string(row.Priority), string(row.Status), row.Category, row.Assignee, row.SLA,
		resp.target, tm(resp.due), resp.result, num(resp.late),
		res.target, tm(res.due), res.result, num(res.late),
		int64(row.EscalationLevel), str(row.ProblemKey), str(row.RepeatOf))
	major, report := "no", any(nil)
	if row.IsMajor() {
		major = "yes"
	}
	if row.IsMajor() || row.ReportStatus != "" {
		report = row.ReportState(r.now)
	}
	cells = append(cells, major, report)
	return cells
}

func (r *register) problemCells(p *store.Problem, cells []any) []any {
	var resolved any
	if p.ResolvedAt != nil {
		resolved = p.ResolvedAt.In(r.loc)
	}
	return append(cells[:0], p.Key, p.Title, p.Status, p.RootCause, p.Workaround, p.Fix,
		int64(p.IncidentCount), p.CreatedAt.In(r.loc), resolved)
}

// csvTime is the CSV form of a time: what Excel and LibreOffice read as
// a date and time in the user's locale.
const csvTime = "2006-01-02 15:04"

func (r *register) csvRecord(cells []any, rec []string) []string {
	rec = rec[:0]
	for _, c := range cells {
		switch v := c.(type) {
		case nil:
			rec = append(rec, "")
		case string:
			rec = append(rec, neutralise(v))
		case time.Time:
			rec = append(rec, v.Format(csvTime))
		case int64:
			rec = append(rec, strconv.FormatInt(v, 10))
		default:
			panic(fmt.Sprintf("register: cell of type %T", c))
		}
	}
	return rec
}

func (r *register) csvHeader(cols []regCol) []string {
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = r.header(c)
	}
	return h
}

func (r *register) writeCSV(ctx context.Context, st store.Reader, from, to time.Time, w, problems io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.csvHeader(registerIncidentCols)); err != nil {
		return err
	}
	var cells []any
	var rec []string
	err := st.EachRegisterIncident(ctx, from, to, r.scope, func(row *store.RegisterRow) error {
		cells = r.incidentCells(row, cells)
		rec = r.csvRecord(cells, rec)
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	if cw.Flush(); cw.Error() != nil {
		return cw.Error()
	}
	if problems == nil {
		return nil
	}
	pw := csv.NewWriter(problems)
	if err := pw.Write(r.csvHeader(registerProblemCols)); err != nil {
		return err
	}
	err = st.EachRegisterProblem(ctx, from, to, r.scope, func(p *store.Problem) error {
		cells = r.problemCells(p, cells)
		rec = r.csvRecord(cells, rec)
		return pw.Write(rec)
	})
	if err != nil {
		return err
	}
	pw.Flush()
	return pw.Error()
}

// writeJSON streams {"time_zone": …, "incidents": […], "problems": […]}:
// times in RFC 3339 with the zone's offset, minutes as numbers, missing
// values as null. JSON is data, not a spreadsheet: nothing is neutralised.
func (r *register) writeJSON(ctx context.Context, st store.Reader, from, to time.Time, w io.Writer) error {
	zone, _ := json.Marshal(r.loc.String())
	if _, err := fmt.Fprintf(w, "{\"time_zone\":%s,\"incidents\":[", zone); err != nil {
		return err
	}
	var cells []any
	var buf []byte
	first := true
	object := func(cols []regCol) error {
		buf = buf[:0]
		if !first {
			buf = append(buf, ",\n"...)
		} else {
			buf = append(buf, '\n')
		}
		first = false
		buf = append(buf, '{')
		for i, c := range cols {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendQuote(buf, c.json)
			buf = append(buf, ':')
			switch v := cells[i].(type) {
			case nil:
				buf = append(buf, "null"...)
			case time.Time:
				buf = strconv.AppendQuote(buf, v.Format(time.RFC3339))
			case int64:
				buf = strconv.AppendInt(buf, v, 10)
			default:
				b, err := json.Marshal(v)
				if err != nil {
					return err
				}
				buf = append(buf, b...)
			}
		}
		buf = append(buf, '}')
		_, err := w.Write(buf)
		return err
	}
	err := st.EachRegisterIncident(ctx, from, to, r.scope, func(row *store.RegisterRow) error {
		cells = r.incidentCells(row, cells)
		return object(registerIncidentCols)
	})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n],\"problems\":["); err != nil {
		return err
	}
	first = true
	err = st.EachRegisterProblem(ctx, from, to, r.scope, func(p *store.Problem) error {
		cells = r.problemCells(p, cells)
		return object(registerProblemCols)
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n]}\n")
	return err
}

// xlsxDate is the number format of date cells: ISO order, unambiguous in
// every locale (excelize's default is the US m/d/yy h:mm).
const xlsxDate = "yyyy-mm-dd hh:mm"

// writeXLSX writes a workbook with the sheets Incidents and Problems
// through excelize's StreamWriter (rows go to temporary files in the
// system's temporary directory, not memory). Times are date cells
// (serial numbers formatted yyyy-mm-dd hh:mm) holding the report zone's
// wall clock; minutes are numbers. The workbook is zipped as it is
// written out; a sheet holds at most 1,048,575 rows: export a narrower
// range, or CSV, beyond that.
func (r *register) writeXLSX(ctx context.Context, st store.Reader, from, to time.Time, w io.Writer) error {
	f := excelize.NewFile(excelize.Options{TmpDir: os.TempDir()})
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Incidents"); err != nil {
		return err
	}
	if _, err := f.NewSheet("Problems"); err != nil {
		return err
	}
	numFmt := xlsxDate
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
	if err != nil {
		return err
	}
	headStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	var cells []any
	var vals []any
	sheet := func(name string, cols []regCol, each func(func() error) error, fill func() []any) error {
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		for i, c := range cols {
			width := 14.0
			switch c.json {
			case "subject", "title", "root_cause", "workaround", "fix":
				width = 40
			case "requester", "assignee":
				width = 24
			}
			if c.zoned {
				width = 17
			}
			if err := sw.SetColWidth(i+1, i+1, width); err != nil {
				return err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		head := make([]any, len(cols))
		for i, c := range cols {
			head[i] = excelize.Cell{StyleID: headStyle, Value: r.header(c)}
		}
		if err := sw.SetRow("A1", head); err != nil {
			return err
		}
		n := 1
		err = each(func() error {
			n++
			if n > xlsxMaxRows {
				return fmt.Errorf("%w: sheet %s: more than %d rows (the XLSX limit); export a narrower --from/--to range, or --format csv", ErrTooManyRows, name, xlsxMaxRows-1)
			}
			cells = fill()
			vals = vals[:0]
			for _, c := range cells {
				switch v := c.(type) {
				case string:
					vals = append(vals, neutralise(v))
				case time.Time:
					// excelize writes the wall clock of the time's
					// location: the cell shows the report zone's time.
					vals = append(vals, excelize.Cell{StyleID: dateStyle, Value: v})
				default:
					vals = append(vals, v)
				}
			}
			cell, err := excelize.CoordinatesToCellName(1, n)
			if err != nil {
				return err
			}
			return sw.SetRow(cell, vals)
		})
		if err != nil {
			return err
		}
		return sw.Flush()
	}
	var row *store.RegisterRow
	err = sheet("Incidents", registerIncidentCols, func(next func() error) error {
		return st.EachRegisterIncident(ctx, from, to, r.scope, func(x *store.RegisterRow) error {
			row = x
			return next()
		})
	}, func() []any { return r.incidentCells(row, cells) })
	if err != nil {
		return err
	}
	var prob *store.Problem
	err = sheet("Problems", registerProblemCols, func(next func() error) error {
		return st.EachRegisterProblem(ctx, from, to, r.scope, func(p *store.Problem) error {
			prob = p
			return next()
		})
	}, func() []any { return r.problemCells(prob, cells) })
	if err != nil {
		return err
	}
	if err := f.Write(w); err != nil {
		return errors.Join(errors.New("write xlsx"), err)
	}
	return nil
}
