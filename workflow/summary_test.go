package workflow_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
	"github.com/helpdeskd/helpdeskd/workflow/schedule"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the summary tests")

// summaryRouting: a Berlin office (Mon-Fri 09:00-17:00), the promise (P1
// around the clock, P3 on the office calendar), a team and a provider,
// and a weekly summary on Monday 07:30.
const summaryRouting = `
[[calendar]]
name = "office"
timezone = "Europe/Berlin"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00-17:00"]

[[sla]]
name = "standard"
calendar = "office"
targets = [
  { priority = "P1", response = "30m", resolution = "4h", clock = "24x7" },
  { priority = "P3", response = "4h", resolution = "3d" },
]

[[team]]
name = "it"
display_name = "IT team"
members = ["alice.admin@example.com"]
chain = ["it-lead@example.com"]

[[provider]]
name = "acme"
domains = ["acme-it.example"]
intake = "servicedesk@acme-it.example"
chain = ["account.manager@acme-it.example"]

[routing]
default_assignee = "it"

[[summary]]
name = "weekly"
schedule = "mon 07:30"
period = "week"
to = ["management@example.com"]
attach = ["xlsx"]
`

// summaryFixture stores a known week (ISO week 48 of 2026, Monday 23 to
// Sunday 29 November, Europe/Berlin) and the week before, and returns the
// engine. Times are Berlin wall clock.
func summaryFixture(t *testing.T, d string) (*workflow.Engine, *store.Store) {
	t.Helper()
	eng, st := newEngine(t, d, `timezone = "Europe/Berlin"
name = "IT Helpdesk"`)
	withRouting(t, eng, summaryRouting)
	eng.Cfg.Summaries = parseSummaries(t)
	ctx := context.Background()
	b := func(s string) *time.Time {
		at := berlin(t, s)
		return &at
	}
	prb := &store.Problem{Key: "PRB-1", Title: "VPN drops every hour", Status: store.ProblemKnownError, Fingerprint: "vpn drops",
		CreatedAt: *b("2026-11-24 10:00"), UpdatedAt: *b("2026-11-24 10:00"), IncidentCount: 2}
	if err := st.InsertProblems(ctx, []*store.Problem{prb}); err != nil {
		t.Fatal(err)
	}
	inc := func(key, subject, created string, prio store.Priority, assignee string) *store.Incident {
		return &store.Incident{Key: key, Subject: subject, NormSubject: strings.ToLower(subject), Status: store.StatusOpen,
			Priority: prio, Requester: "carol@example.com", Assignee: assignee, SLA: "standard",
			CreatedAt: *b(created), UpdatedAt: *b(created), MessageCount: 1}
	}
	incs := []*store.Incident{
		inc("HD-1", "VPN drops every hour", "2026-11-23 09:00", "P3", "it"),
		inc("HD-2", "VPN drops again", "2026-11-24 09:00", "P3", "acme"),
		inc("HD-3", "Mail is down for everyone", "2026-11-25 08:00", "P1", "it"),
		inc("HD-4", "Printer <b>jams</b> & smears", "2026-11-27 10:00", "P3", "it"),
		inc("HD-5", "New laptop for Dana", "2026-11-18 10:00", "P3", "it"),
		inc("HD-6", "Old request nobody took", "2026-10-01 10:00", "P3", ""),
		inc("HD-7", "Password reset", "2026-11-17 10:00", "P3", "it"),
		inc("HD-8", "Late Sunday fix", "2026-11-27 11:00", "P3", "it"),
	}
	if err := st.InsertIncidents(ctx, incs); err != nil {
		t.Fatal(err)
	}
	h1, h2, h3, h4, h5, h6, h7, h8 := incs[0], incs[1], incs[2], incs[3], incs[4], incs[5], incs[6], incs[7]
	// HD-1: answered and resolved in time; the first of PRB-1.
	h1.ResponseDue, h1.FirstResponseAt = b("2026-11-23 13:00"), b("2026-11-23 10:00")
	h1.ResolutionDue, h1.ResolvedAt, h1.Status = b("2026-11-26 09:00"), b("2026-11-24 10:00"), store.StatusResolved
	h1.ProblemID = &prb.ID
	// HD-2: the provider answered late (breached 13:00, answered 15:00,
	// acknowledged 14:00), then the resolution breached too; a repeat.
	h2.ResponseDue, h2.ResponseBreachedAt, h2.FirstResponseAt = b("2026-11-24 13:00"), b("2026-11-24 13:00"), b("2026-11-24 15:00")
	h2.ResolutionDue, h2.ResolutionBreachedAt = b("2026-11-27 09:00"), b("2026-11-27 09:00")
	h2.EscalationLevel, h2.AcknowledgedBy, h2.AcknowledgedAt = 1, "account.manager@acme-it.example", b("2026-11-24 14:00")
	h2.ProblemID = &prb.ID
	// HD-3: a major incident, answered and resolved in time; its report
	// is requested and due next week.
	h3.ResponseDue, h3.FirstResponseAt = b("2026-11-25 08:30"), b("2026-11-25 08:10")
	h3.ResolutionDue, h3.ResolvedAt, h3.Status = b("2026-11-25 12:00"), b("2026-11-25 11:00"), store.StatusResolved
	h3.Major, h3.ReportStatus = store.MajorDeclared, store.ReportRequested
	h3.ReportRequestedAt, h3.ReportDueAt = b("2026-11-25 11:00"), b("2026-12-02 11:00")
	// HD-4: answered, still open at the end of the week.
	h4.ResponseDue, h4.FirstResponseAt, h4.ResolutionDue = b("2026-11-27 14:00"), b("2026-11-27 11:30"), b("2026-12-02 10:00")
	// HD-5 (the week before): waiting on the requester since.
	h5.ResponseDue, h5.FirstResponseAt, h5.Status = b("2026-11-18 14:00"), b("2026-11-18 11:00"), store.StatusWaiting
	// HD-6: unassigned for two months.
	// HD-7 (the week before): answered and resolved in time.
	h7.ResponseDue, h7.FirstResponseAt = b("2026-11-17 14:00"), b("2026-11-17 10:30")
	h7.ResolutionDue, h7.ResolvedAt, h7.Status = b("2026-11-20 10:00"), b("2026-11-18 16:00"), store.StatusResolved
	// HD-8: resolved Sunday 23:30 local (22:30 UTC): in this week.
	h8.ResponseDue, h8.FirstResponseAt = b("2026-11-27 15:00"), b("2026-11-27 12:00")
	h8.ResolutionDue, h8.ResolvedAt, h8.Status = b("2026-12-02 11:00"), b("2026-11-29 23:30"), store.StatusResolved
	_ = h6
	if err := st.UpdateIncidents(ctx, incs); err != nil {
		t.Fatal(err)
	}
	// HD-9: resolved Monday 00:30 local (Sunday 23:30 UTC): next week.
	h9 := inc("HD-9", "Just after midnight", "2026-11-29 20:00", "P3", "it")
	if err := st.InsertIncidents(ctx, []*store.Incident{h9}); err != nil {
		t.Fatal(err)
	}
	h9.ResolvedAt, h9.Status = b("2026-11-30 00:30"), store.StatusResolved
	if err := st.UpdateIncidents(ctx, []*store.Incident{h9}); err != nil {
		t.Fatal(err)
	}
	return eng, st
}

// TestSummaryGolden: the weekly summary of the fixture, as text and HTML,
// is the same on both stores and equal to the golden files
// (testdata/summary-weekly.txt, .html; "go test -run TestSummaryGolden
// -update" rewrites them); its figures are checked by hand below.
func TestSummaryGolden(t *testing.T) {
	var texts, htmls []string
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := summaryFixture(t, d)
			now := berlin(t, "2026-11-30 07:30")
			s := eng.Cfg.SummaryNamed("weekly")
			sum, r, chart, err := eng.RenderSummary(context.Background(), st.Reader, s, now, now, "", "cid:chart@helpdeskd")
			if err != nil {
				t.Fatal(err)
			}
			texts, htmls = append(texts, r.Subject+"\n\n"+r.Text), append(htmls, r.HTML)
			// By hand: opened HD-1, 2, 3, 4, 8, 9 (6); resolved HD-1, 3, 8
			// (3; HD-9 at 00:30 on Monday is next week's); backlog HD-2,
			// 4, 5, 6, 9 (5); first response met HD-1, 3, 4, 8, breached
			// HD-2 (4 of 5); resolution met HD-1, 3, 8, breached HD-2 (3
			// of 4); 2 breaches.
			want := map[string]string{"Opened": "6", "Resolved": "3", "Backlog at the end": "5",
				"First response SLA met": "80 % (4 of 5)", "Resolution SLA met": "75 % (3 of 4)", "Breaches": "2"}
			for _, h := range sum.Headline {
				if want[h.Label] != h.Now {
					t.Errorf("%s = %q, want %q", h.Label, h.Now, want[h.Label])
				}
			}
			if sum.Headline[0].Prev != "2" || sum.Headline[1].Prev != "1" {
				t.Errorf("the week before: opened %s, resolved %s; want 2 (HD-5, HD-7) and 1 (HD-7)", sum.Headline[0].Prev, sum.Headline[1].Prev)
			}
			if len(sum.Breaches) != 2 || sum.Breaches[0].Key != "HD-2" || !strings.Contains(sum.Breaches[0].Ack, "acknowledged by account.manager@acme-it.example") ||
				sum.Breaches[0].By != "2h late" || sum.Breaches[1].Metric != "resolution" {
				t.Errorf("breaches %+v", sum.Breaches)
			}
			if len(sum.Major.Outstanding) != 1 || sum.Major.Outstanding[0].Key != "HD-3" || sum.Major.Declared != 1 {
				t.Errorf("major %+v", sum.Major)
			}
			if strings.Join(sum.Problems.Repeats, ",") != "HD-2" || len(sum.Problems.New) != 1 || sum.Problems.KnownErrors != 1 {
				t.Errorf("problems %+v", sum.Problems)
			}
			// Ageing at Monday 00:00: HD-9 (4 h) and HD-4 (2 d), HD-2 (5
			// d), HD-5 (11 d, waiting on the requester), HD-6 (59 d,
			// nobody).
			ages := []int{sum.Ageing[0].Count, sum.Ageing[1].Count, sum.Ageing[2].Count, sum.Ageing[3].Count}
			if fmt.Sprint(ages) != "[2 1 1 1]" || sum.Ageing[2].WaitsOn != "the requester 1" || sum.Oldest[0].Key != "HD-6" {
				t.Errorf("ageing %+v oldest %+v", sum.Ageing, sum.Oldest)
			}
			// P3 first response in business hours: HD-1 1 h, HD-2 6 h
			// (09:00-15:00), HD-4 1.5 h, HD-8 1 h: mean 2.4 h, p90 by
			// interpolation 6 - 0.3*(6-1.5) = 4.65 h.
			if p3 := sum.Times[2]; p3.Group != "P3" || p3.RespMean != "2.4 h" || p3.RespP90 != "4.7 h" || p3.RespN != 4 {
				t.Errorf("P3 times %+v", p3)
			}
			var it workflow.MatrixRow
			for _, m := range sum.Matrix {
				if m.Party == "IT team" {
					it = m
				}
			}
			// IT team: P1 response 1/1, P1 resolution 1/1, P3 response 3/3, P3 resolution 2/2.
			if it.All.Met != 7 || it.All.Total != 7 || it.Cells[4].Met != 3 || it.Cells[5].Total != 2 {
				t.Errorf("IT team's row %+v", it)
			}
			// The database's count of the history (used for the older
			// periods) agrees with the incident-by-incident one (used for
			// the last two) on the last two.
			var last2 [][2]time.Time
			for _, h := range []schedule.Period{sum.Prev, sum.Period} {
				last2 = append(last2, [2]time.Time{h.Start, h.End})
			}
			counted, err := st.SummaryHistory(context.Background(), last2, "")
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range counted {
				h := sum.History[workflow.SummaryPeriods-2+i]
				pct := -1.0
				if n := c.RespN + c.ResN; n > 0 {
					pct = math.Floor(100 * float64(c.RespMet+c.ResMet) / float64(n))
				}
				if c.Opened != h.Opened || c.Resolved != h.Resolved || pct != h.SLAPct {
					t.Errorf("%s: the database counts %+v, the summary %+v", h.Key, c, h)
				}
			}
			img, err := png.Decode(bytes.NewReader(chart))
			if err != nil || img.Bounds().Dx() != workflow.ChartWidth || img.Bounds().Dy() != workflow.ChartHeight {
				t.Errorf("chart: %v %v", err, img.Bounds())
			}
			if !strings.Contains(r.HTML, `src="cid:chart@helpdeskd" width="560" alt="Incidents opened and resolved`) ||
				!strings.Contains(r.HTML, "Printer &lt;b&gt;jams&lt;/b&gt; &amp; smears") {
				t.Errorf("HTML: the chart or the escaping is missing")
			}
		})
	}
	for name, got := range map[string][]string{"summary-weekly.txt": texts, "summary-weekly.html": htmls} {
		path := filepath.Join("testdata", name)
		if *updateGolden {
			if err := os.WriteFile(path, []byte(got[0]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range got {
			if g != string(want) {
				t.Errorf("%s differs from %s (store %d of %d); run with -update after checking the change", name, path, i+1, len(got))
			}
		}
	}
}

// TestSummaryOncePerPeriod: the tick sends the weekly summary at Monday
// 07:30, once however often it runs, and two engines on one database
// send it once; a period missed while the daemon was down goes out once,
// late, and says so.
func TestSummaryOncePerPeriod(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := summaryFixture(t, d)
			ctx := context.Background()
			var mu sync.Mutex
			now := berlin(t, "2026-11-30 07:29")
			eng.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			set := func(s string) { mu.Lock(); now = berlin(t, s); mu.Unlock() }
			count := func() []store.Outbox {
				var rows []store.Outbox
				if err := st.DB().Select(&rows, `SELECT * FROM outbox WHERE kind = 'summary' ORDER BY id`); err != nil {
					t.Fatal(err)
				}
				return rows
			}
			// A summary new to the configuration: the period due before
			// (week 47, due Monday 23 November) is on record, not sent.
			eng.Tick(ctx)
			eng.Tick(ctx)
			if rows := count(); len(rows) != 0 {
				t.Fatalf("before 07:30: %d summaries, want none", len(rows))
			}
			set("2026-11-30 07:30")
			other := workflow.NewEngine(st, eng.Cfg, eng.Templates, nil)
			other.Now = eng.Now
			var wg sync.WaitGroup
			for _, e := range []*workflow.Engine{eng, other, eng, other} {
				wg.Add(1)
				go func() { defer wg.Done(); e.Tick(ctx) }()
			}
			wg.Wait()
			set("2026-12-01 09:00")
			eng.Tick(ctx)
			rows := count()
			if len(rows) != 1 {
				t.Fatalf("%d summaries of week 48, want 1", len(rows))
			}
			o := rows[0]
			if o.ToAddrs != "management@example.com" || o.Files != 2 || o.AutoSubmitted != "auto-generated" ||
				!strings.Contains(o.Subject, "weekly accountability summary, week 48 of 2026") || strings.Contains(o.Subject, "late") {
				t.Errorf("summary mail: to %q, %d files, subject %q", o.ToAddrs, o.Files, o.Subject)
			}
			files, err := st.OutboxFiles(ctx, o.ID)
			if err != nil || len(files) != 2 || files[0].ContentID != "chart@helpdeskd" || files[1].Filename != "register-2026-W48.xlsx" {
				t.Fatalf("files: %v %+v", err, files)
			}
			// Down from Sunday 6 December to Wednesday 9 December: week 49
			// goes out once, late.
			set("2026-12-09 10:00")
			eng.Tick(ctx)
			eng.Tick(ctx)
			rows = count()
			if len(rows) != 2 || !strings.Contains(rows[1].Subject, "week 49") || !strings.Contains(rows[1].Subject, "(late)") ||
				!strings.Contains(rows[1].TextBody, "LATE: due Mon 7 Dec 07:30, sent Wed 9 Dec 10:00") {
				t.Fatalf("after downtime: %d summaries; %q", len(rows), rows[len(rows)-1].Subject)
			}
			runs, _ := st.SummaryRuns(ctx, "weekly")
			if len(runs) != 3 || !runs[0].Late || runs[1].Late || runs[2].MessageID != "" {
				t.Errorf("runs %+v", runs)
			}
		})
	}
}

// TestSummaryScheduleAcrossDST: a daily summary at 02:30 in Europe/Berlin
// ticked every five minutes across both 2026 DST nights: once on the
// night 02:30 does not exist (at 03:30), once on the night it exists
// twice.
func TestSummaryScheduleAcrossDST(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := summaryFixture(t, d)
			eng.Cfg.Summaries[0].Sched.Every = 0 // daily
			eng.Cfg.Summaries[0].Sched.Hour, eng.Cfg.Summaries[0].Sched.Minute = 2, 30
			eng.Cfg.Summaries[0].Period = "day"
			eng.Cfg.Summaries[0].Attach = []string{"none"}
			ctx := context.Background()
			for _, night := range []string{"2026-03-28 23:00", "2026-10-24 23:00"} {
				now := berlin(t, night)
				eng.Now = func() time.Time { return now }
				for i := 0; i < 6*12; i++ { // six hours of real time
					eng.Tick(ctx)
					now = now.Add(5 * time.Minute)
				}
			}
			var keys []string
			if err := st.DB().Select(&keys, `SELECT period FROM summary_runs ORDER BY period`); err != nil {
				t.Fatal(err)
			}
			// The first tick of the first night records the day before's
			// as not sent (a summary new to the configuration); the second
			// night's first tick sends the missed one late; each 02:30
			// sends its own once.
			if strings.Join(keys, " ") != "2026-03-27 2026-03-28 2026-10-23 2026-10-24" {
				t.Errorf("periods sent %v", keys)
			}
		})
	}
}

// parseSummaries parses the [[summary]] of summaryRouting in a
// configuration of its own (withRouting copies the rules, not summaries).
func parseSummaries(t *testing.T) []config.Summary {
	t.Helper()
	cfg, err := config.Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\ntimezone = \"Europe/Berlin\"\n"+summaryRouting))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Summaries
}

// chromium finds headless Chromium; without it the test is skipped,
// unless HELPDESKD_REQUIRE_CHROMIUM is set (CI), which fails it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("HELPDESKD_REQUIRE_CHROMIUM") != "" {
		t.Fatal("HELPDESKD_REQUIRE_CHROMIUM is set and no chromium is on $PATH (apt-get install chromium)")
	}
	t.Skip("no chromium on $PATH")
	return ""
}

// TestSummaryRendersInChromium renders the fixture's summary (the chart
// as a data: URL, as a preview has it) in headless Chromium 600 px wide:
// the page is no wider than 600 px (nothing overflows sideways), and the
// screenshot shows the header and the chart. The PNG is kept in
// $HELPDESKD_ARTIFACTS (else the test's temporary directory).
func TestSummaryRendersInChromium(t *testing.T) {
	bin := chromium(t)
	eng, st := summaryFixture(t, "sqlite")
	now := berlin(t, "2026-11-30 07:30")
	sum, _, chart, err := eng.RenderSummary(context.Background(), st.Reader, eng.Cfg.SummaryNamed("weekly"), now, now, "", "")
	if err != nil {
		t.Fatal(err)
	}
	sum.ChartSrc = workflow.DataURL(chart)
	r, err := eng.Templates.Render("summary", sum)
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("HELPDESKD_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "summary-weekly.html")
	if err := os.WriteFile(page, []byte(r.HTML), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir()}
	// The page's width as laid out: a copy that writes it into its title.
	probe := filepath.Join(t.TempDir(), "probe.html")
	os.WriteFile(probe, []byte(strings.Replace(r.HTML, "</body>",
		`<script>document.title = "width=" + document.documentElement.scrollWidth;</script></body>`, 1)), 0o644)
	out, err := exec.Command(bin, append(args, "--window-size=600,2000", "--dump-dom", "file://"+probe)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	m := regexp.MustCompile(`<title>width=(\d+)</title>`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no width in the dumped page:\n%.500s", out)
	}
	if w, _ := strconv.Atoi(string(m[1])); w > 600 {
		t.Errorf("the summary is %d px wide in a 600 px window: something overflows", w)
	}
	shot := filepath.Join(dir, "summary-weekly.png")
	if out, err := exec.Command(bin, append(args, "--window-size=600,2400", "--screenshot="+shot, "file://"+page)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 600 {
		t.Errorf("screenshot %d px wide, want 600", img.Bounds().Dx())
	}
	// The header's dark blue (#1f3b57) across the top, edge to edge.
	for _, x := range []int{10, 300, 590} {
		r, g, b, _ := img.At(x, 20).RGBA()
		if r>>8 != 0x1f || g>>8 != 0x3b || b>>8 != 0x57 {
			t.Errorf("pixel (%d, 20) is #%02x%02x%02x, want the header's #1f3b57", x, r>>8, g>>8, b>>8)
		}
	}
	// The chart drew its bars: the library's first series colour
	// appears somewhere below the header.
	colours := map[[3]uint32]bool{}
	for y := 0; y < img.Bounds().Dy(); y += 3 {
		for x := 0; x < 600; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("the screenshot has %d colours: blank or unstyled", len(colours))
	}
	t.Logf("rendered: %s", shot)
}

// TestSummaryScope: a summary scoped to the provider is its own
// scorecard: its incidents, its row, its breaches.
func TestSummaryScope(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := summaryFixture(t, d)
			s := *eng.Cfg.SummaryNamed("weekly")
			s.Scope = "acme"
			now := berlin(t, "2026-11-30 07:30")
			sum, err := workflow.BuildSummary(context.Background(), st.Reader, eng.Cfg, &s, now, now, "")
			if err != nil {
				t.Fatal(err)
			}
			if sum.Scope != "Acme only" || len(sum.Matrix) != 1 || sum.Matrix[0].Party != "Acme" || sum.Headline[0].Now != "1" ||
				len(sum.Breaches) != 2 || sum.Major.Declared != 0 || len(sum.Problems.Open) != 1 {
				t.Errorf("acme's scorecard: scope %q, matrix %+v, opened %s, %d breaches, major %+v, problems %+v",
					sum.Scope, sum.Matrix, sum.Headline[0].Now, len(sum.Breaches), sum.Major, sum.Problems)
			}
			// Its attachment carries its incidents only. HD-1 (the
			// team's, opened first) is made part of acme's HD-2's
			// problem: HD-2 is a repeat, but acme reads no other
			// party's key.
			if _, err := st.DB().Exec(`UPDATE incidents SET problem_id = (SELECT problem_id FROM incidents WHERE key = 'HD-2') WHERE key = 'HD-1'`); err != nil {
				t.Fatal(err)
			}
			eng.Cfg.Summaries[0].Scope, eng.Cfg.Summaries[0].Attach = "acme", []string{"csv"}
			eng.Now = func() time.Time { return now }
			run, err := eng.SendSummary(context.Background(), &eng.Cfg.Summaries[0])
			if err != nil {
				t.Fatal(err)
			}
			var id int64
			st.DB().Get(&id, st.DB().Rebind(`SELECT id FROM outbox WHERE message_id = ?`), run.MessageID)
			files, err := st.OutboxFiles(context.Background(), id)
			if err != nil || len(files) != 3 {
				t.Fatalf("files %v %d", err, len(files))
			}
			csv := string(files[1].Data)
			if !strings.Contains(csv, "\nHD-2,") || strings.Contains(csv, "\nHD-1,") || strings.Contains(csv, "\nHD-3,") {
				t.Errorf("acme's register carries other parties' incidents:\n%s", csv)
			}
			// Nor their keys: "repeat of" names acme's own first
			// occurrence only; nor their subjects or totals: the
			// problem is titled after acme's HD-2 and counts it alone.
			if strings.Contains(csv, "HD-1") || strings.Contains(csv, "HD-3") {
				t.Errorf("acme's register names other parties' incidents:\n%s", csv)
			}
			hd1, _ := st.IncidentByKey(context.Background(), "HD-1")
			hd2, _ := st.IncidentByKey(context.Background(), "HD-2")
			problems := string(files[2].Data)
			if strings.Contains(problems, hd1.Subject) || !strings.Contains(problems, hd2.Subject) || !strings.Contains(problems, ",1,") {
				t.Errorf("acme's problems: another party's title or count:\n%s", problems)
			}
		})
	}
}

// TestSummaryBreachCountsAgainstItsHolder: HD-2's first response was
// breached while the team held it (then handed to the provider): the
// breach and the matrix count it against the team.
func TestSummaryBreachCountsAgainstItsHolder(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := summaryFixture(t, d)
			ctx := context.Background()
			inc, _ := st.IncidentByKey(ctx, "HD-2")
			inc.ResponseBreachedBy = "it"
			if err := st.UpdateIncidents(ctx, []*store.Incident{inc}); err != nil {
				t.Fatal(err)
			}
			now := berlin(t, "2026-11-30 07:30")
			sum, err := workflow.BuildSummary(ctx, st.Reader, eng.Cfg, eng.Cfg.SummaryNamed("weekly"), now, now, "")
			if err != nil {
				t.Fatal(err)
			}
			if sum.Breaches[0].Party != "IT team" || sum.Breaches[0].Metric != "first response" {
				t.Errorf("first breach %+v, want the IT team's first response", sum.Breaches[0])
			}
			for _, m := range sum.Matrix {
				if m.Party == "IT team" && (m.Cells[4].Total != 4 || m.Cells[4].Met != 3) {
					t.Errorf("IT team's P3 first response %+v, want 3 of 4", m.Cells[4])
				}
				if m.Party == "Acme" && m.Cells[4].Total != 0 {
					t.Errorf("Acme charged with the team's breach: %+v", m.Cells[4])
				}
			}
		})
	}
}
