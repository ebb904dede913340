package workflow

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/register"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/templates"
	"github.com/helpdeskd/helpdeskd/workflow/schedule"
)

// The tick's "summaries" job: each [[summary]] is due at the latest
// instant of its schedule at or before the process clock, for the period
// that ended before it. Its run is recorded in summary_runs (name,
// period) in the transaction that queues the mail, before anything is
// sent: a repeated tick, a restart, a second daemon, or the wall clock
// passing the same time twice on a fall-back night find the period sent.
// After downtime the latest period that fell due is sent, once, and says
// it is late; earlier missed periods are not sent (their figures are in
// the history of the next).

// chartCID is the chart's Content-ID.
const chartCID = "chart@helpdeskd"

// SummaryLate is how long after its due time a summary is called late.
const SummaryLate = time.Hour

// SummaryJob is the tick's job that sends the summaries that are due.
func (e *Engine) SummaryJob() Job {
	return Job{Name: "summaries", Run: e.sendSummaries}
}

func (e *Engine) sendSummaries(ctx context.Context, w *Work) error {
	for i := range e.Cfg.Summaries {
		s := &e.Cfg.Summaries[i]
		queued, _, err := e.queueSummary(ctx, w.Tx, s, w.Now, false)
		if err != nil {
			return fmt.Errorf("summary %s: %w", s.Name, err)
		}
		if queued {
			w.u.queued++
		}
	}
	return nil
}

// ErrSummarySent: the period's summary was queued before.
var ErrSummarySent = errors.New("summary already sent for this period")

// SendSummary queues the summary due at now (the period that ended last
// before its latest scheduled time) at once, in its own transaction,
// unless that period was sent: then the run on record and
// ErrSummarySent.
func (e *Engine) SendSummary(ctx context.Context, s *config.Summary) (*store.SummaryRun, error) {
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	queued, run, err := e.queueSummary(ctx, tx, s, e.Now(), true)
	if err != nil {
		return nil, err
	}
	if !queued {
		return run, ErrSummarySent
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if e.Committed != nil {
		e.Committed()
	}
	return run, nil
}

// queueSummary queues the summary due at now unless its period is on
// record; run is the new run, or the one on record.
func (e *Engine) queueSummary(ctx context.Context, tx *store.Tx, s *config.Summary, now time.Time, byHand bool) (bool, *store.SummaryRun, error) {
	loc := e.location()
	due, period, err := s.Sched.Due(s.Period, now, loc)
	if err != nil {
		return false, nil, err
	}
	if prev, err := tx.SummaryRunOf(ctx, s.Name, period.Key); err == nil {
		return false, prev, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, nil, err
	}
	late := ""
	if now.Sub(due) >= SummaryLate {
		late = fmt.Sprintf("due %s, sent %s", due.In(loc).Format("Mon 2 Jan 15:04"), now.In(loc).Format("Mon 2 Jan 15:04 MST"))
		if !byHand {
			runs, err := tx.SummaryRuns(ctx, s.Name)
			if err != nil {
				return false, nil, err
			}
			if len(runs) == 0 {
				// A summary new to the configuration missed nothing: it
				// starts with the next period. The one due before is on
				// record as not sent (summary --send sends it by hand).
				run := store.SummaryRun{Name: s.Name, Period: period.Key, DueAt: due, QueuedAt: now}
				if _, err := tx.QueueSummary(ctx, run, nil, nil); err != nil {
					return false, nil, err
				}
				e.Log.Info("summary new to the configuration: it starts with the next period", "summary", s.Name, "not_sent", period.Key)
				return false, &run, nil
			}
			late += " (the helpdesk was not running at the time)"
		}
	}
	o, files, err := e.summaryMail(ctx, tx.Reader, s, due, now, late)
	if err != nil {
		return false, nil, err
	}
	run := store.SummaryRun{Name: s.Name, Period: period.Key, DueAt: due, QueuedAt: now, Late: late != "", MessageID: o.MessageID}
	queued, err := tx.QueueSummary(ctx, run, o, files)
	if err != nil || !queued {
		return false, &run, err
	}
	return true, &run, nil
}

func (e *Engine) location() *time.Location {
	if l := e.Cfg.Helpdesk.Location; l != nil {
		return l
	}
	return time.UTC
}

var notKeyChar = regexp.MustCompile(`[^a-z0-9-]+`)

// summaryMail renders a summary's mail and its files: the chart (inline)
// and the period's register in the formats of attach.
func (e *Engine) summaryMail(ctx context.Context, r store.Reader, s *config.Summary, due, now time.Time, late string) (*store.Outbox, []store.OutboxFile, error) {
	sum, rendered, chart, err := e.RenderSummary(ctx, r, s, due, now, late, htmltemplate.URL("cid:"+chartCID))
	if err != nil {
		return nil, nil, err
	}
	files := []store.OutboxFile{{Filename: "chart.png", ContentType: "image/png", ContentID: chartCID, Data: chart}}
	for _, f := range s.Attach {
		if f == "none" {
			continue
		}
		name := fmt.Sprintf("register-%s.%s", sum.Period.Key, f)
		var buf, probs bytes.Buffer
		var pw io.Writer // csv: the problems in a file of their own
		if f == "csv" {
			pw = &probs
		}
		scope := ""
		if s.Scope != "all" {
			scope = s.Scope // its own incidents only
		}
		if err := register.Write(ctx, r, e.Cfg, now, f, sum.Period.Start, sum.Period.End, scope, &buf, pw); err != nil {
			return nil, nil, fmt.Errorf("register attachment: %w", err)
		}
		ct := "text/csv; charset=utf-8"
		if f == "xlsx" {
			ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		}
		files = append(files, store.OutboxFile{Filename: name, ContentType: ct, Data: buf.Bytes()})
		if f == "csv" {
			files = append(files, store.OutboxFile{Filename: fmt.Sprintf("register-%s-problems.csv", sum.Period.Key), ContentType: ct, Data: probs.Bytes()})
		}
	}
	cfg := e.Cfg
	id := fmt.Sprintf("summary-%s-%s", notKeyChar.ReplaceAllString(strings.ToLower(s.Name), "-"), strings.ToLower(sum.Period.Key))
	dedupe := "summary:" + s.Name + ":" + sum.Period.Key
	o := &store.Outbox{Kind: string(OutSummary), MessageID: e.keys.NewMessageID(id), DedupeKey: &dedupe,
		FromAddr: cfg.SMTP.From, ToAddrs: strings.Join(s.To, ", "), ReplyTo: cfg.Helpdesk.Address,
		Subject: rendered.Subject, TextBody: rendered.Text, HTMLBody: rendered.HTML,
		AutoSubmitted: "auto-generated", NextAttemptAt: now, CreatedAt: now}
	return o, files, nil
}

// RenderSummary computes and renders the summary due at `due` (for the
// period that ended before it), generated at now; chartSrc is where the
// HTML finds the chart (a cid: URL in mail, a data: URL in a preview).
// It returns the figures, the rendered mail and the chart's PNG.
func (e *Engine) RenderSummary(ctx context.Context, r store.Reader, s *config.Summary, due, now time.Time, late string, chartSrc htmltemplate.URL) (*Summary, templates.Rendered, []byte, error) {
	sum, err := BuildSummary(ctx, r, e.Cfg, s, due, now, late)
	if err != nil {
		return nil, templates.Rendered{}, nil, err
	}
	chart, err := SummaryChart(sum.History)
	if err != nil {
		return nil, templates.Rendered{}, nil, err
	}
	sum.ChartSrc = chartSrc
	var names []string
	for _, f := range s.Attach {
		switch f {
		case "csv":
			names = append(names, fmt.Sprintf("register-%s.csv", sum.Period.Key), fmt.Sprintf("register-%s-problems.csv", sum.Period.Key))
		case "xlsx":
			names = append(names, fmt.Sprintf("register-%s.xlsx", sum.Period.Key))
		}
	}
	sum.Attachment = strings.Join(names, ", ")
	sum.ExportHint = fmt.Sprintf("Every incident, any range: helpdeskd register --format xlsx --from %s --to %s -o register.xlsx",
		sum.Period.Start.In(e.location()).Format("2006-01-02"), sum.Period.End.Add(-time.Nanosecond).In(e.location()).Format("2006-01-02"))
	rendered, err := e.Templates.Render("summary", sum)
	if err != nil {
		return nil, templates.Rendered{}, nil, err
	}
	return sum, rendered, chart, nil
}

// DataURL is a PNG as a data: URL, for a preview file that shows the
// chart without a mail client.
func DataURL(png []byte) htmltemplate.URL {
	return htmltemplate.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

// SummaryPeriod is the due time and period of a summary at now.
func (e *Engine) SummaryPeriod(s *config.Summary, now time.Time) (time.Time, schedule.Period, error) {
	return s.Sched.Due(s.Period, now, e.location())
}
