package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/xuri/excelize/v2"
)

const registerConfig = `[helpdesk]
address = "support@example.com"
timezone = "Europe/London"

[database]
url = "DBURL"

[[calendar]]
name = "office"
timezone = "Europe/London"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00-17:00"]

[[sla]]
name = "standard"
calendar = "office"
targets = [
  { priority = "P1", response = "30m", resolution = "4h", clock = "24x7" },
  { priority = "P3", response = "4h",  resolution = "3d" },
]
`

func utcTime(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptrTime(s string) *time.Time {
	t := utcTime(s)
	return &t
}

// registerFixture stores incidents around the local (Europe/London, BST
// in July) days 2026-07-01 and 2026-07-02 and returns a config path.
func registerFixture(t *testing.T, dialect string) string {
	t.Helper()
	u := testutil.URL(t, dialect)
	st := testutil.OpenURL(t, u)
	ctx := context.Background()
	prb := &store.Problem{Key: "PRB-1", Title: `=cmd|' /C calc'!A0`, Status: store.ProblemOpen, Fingerprint: "printer",
		CreatedAt: utcTime("2026-07-01 10:00:00"), UpdatedAt: utcTime("2026-07-01 10:00:00")}
	if err := st.InsertProblems(ctx, []*store.Problem{prb}); err != nil {
		t.Fatal(err)
	}
	inc := func(key, subject, created string, prio store.Priority, sla string) *store.Incident {
		return &store.Incident{Key: key, Subject: subject, NormSubject: strings.ToLower(subject), Status: store.StatusOpen,
			Priority: prio, Requester: "ann@example.com", Assignee: "it", Category: "hardware", SLA: sla,
			CreatedAt: utcTime(created), UpdatedAt: utcTime(created), MessageCount: 1}
	}
	// HD-3: 2026-06-30 23:30 local, before --from; HD-4: 00:30 local on
	// 2026-07-01 (23:30 UTC the day before); HD-5: 00:30 local on
	// 2026-07-03, after --to.
	incs := []*store.Incident{
		inc("HD-1", `=HYPERLINK("http://evil.example")`, "2026-07-01 09:00:00", "P3", "standard"),
		inc("HD-2", "+ printer on fire", "2026-07-02 08:00:00", "P1", "standard"),
		inc("HD-3", "before the range", "2026-06-30 22:30:00", "P3", ""),
		inc("HD-4", "@team\tfirst hour", "2026-06-30 23:30:00", "P3", ""),
		inc("HD-5", "after the range", "2026-07-02 23:30:00", "P3", ""),
	}
	if err := st.InsertIncidents(ctx, incs); err != nil {
		t.Fatal(err)
	}
	h1, h2 := incs[0], incs[1]
	h1.ProblemID, h2.ProblemID = &prb.ID, &prb.ID
	h1.Status = store.StatusClosed
	h1.ResponseDue, h1.FirstResponseAt = ptrTime("2026-07-01 13:00:00"), ptrTime("2026-07-01 12:00:00")
	h1.ResolutionDue, h1.ResolvedAt = ptrTime("2026-07-06 09:00:00"), ptrTime("2026-07-06 10:30:20")
	h1.ResolutionBreachedAt = h1.ResolutionDue
	h1.ClosedAt = ptrTime("2026-07-08 09:00:00")
	h2.ResponseDue, h2.ResponseBreachedAt = ptrTime("2026-07-02 08:15:00"), ptrTime("2026-07-02 08:15:00")
	h2.ResolutionDue = ptrTime("2026-07-02 12:00:00")
	h2.EscalationLevel = 2
	h2.Major, h2.ReportStatus = store.MajorDeclared, store.ReportRequested
	h2.ReportRequestedAt, h2.ReportDueAt = ptrTime("2026-07-02 08:10:00"), ptrTime("2026-07-02 08:30:00")
	if err := st.UpdateIncidents(ctx, []*store.Incident{h1, h2}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "helpdeskd.toml")
	if err := os.WriteFile(p, []byte(strings.Replace(registerConfig, "DBURL", u, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var registerArgs = []string{"--from", "2026-07-01", "--to", "2026-07-02", "--now", "2026-07-02T09:00:00Z"}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func checkFields(t *testing.T, what string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q = %q, want %q", what, k, got[k], v)
		}
	}
}

var (
	wantHD1 = map[string]string{
		"key": "HD-1", "subject": `'=HYPERLINK("http://evil.example")`, "opened (Europe/London)": "2026-07-01 10:00",
		"first response (Europe/London)": "2026-07-01 13:00", "resolved (Europe/London)": "2026-07-06 11:30",
		"closed (Europe/London)": "2026-07-08 10:00", "status": "closed", "SLA": "standard",
		"response target": "4h", "response due (Europe/London)": "2026-07-01 14:00", "response result": "met", "response late by (min)": "0",
		"resolution target": "3d", "resolution result": "breached", "resolution late by (min)": "91",
		"escalation level": "0", "problem": "PRB-1", "repeat of": "", "major": "no", "report status": "",
	}
	wantHD2 = map[string]string{
		"key": "HD-2", "subject": "'+ printer on fire", "opened (Europe/London)": "2026-07-02 09:00", "first response (Europe/London)": "",
		"response target": "30m", "response result": "breached", "response late by (min)": "45",
		"resolution target": "4h", "resolution result": "running", "resolution late by (min)": "",
		"escalation level": "2", "problem": "PRB-1", "repeat of": "HD-1", "team or provider": "it",
		"major": "yes", "report status": "overdue", // due 08:30 UTC, exported at 09:00
	}
	wantHD4 = map[string]string{
		"key": "HD-4", "subject": "'@team\tfirst hour", "opened (Europe/London)": "2026-07-01 00:30", "SLA": "",
		"response target": "", "response result": "", "problem": "",
	}
	wantPRB1 = map[string]string{
		"key": "PRB-1", "title": `'=cmd|' /C calc'!A0`, "status": "open", "incidents": "2", "created (Europe/London)": "2026-07-01 11:00",
		"resolved (Europe/London)": "",
	}
)

func TestRegisterCSV(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			cfg := registerFixture(t, d)
			out := filepath.Join(t.TempDir(), "register.csv")
			code, _, errOut := helpdeskd(t, "", append([]string{"-config", cfg, "register", "-o", out}, registerArgs...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			rows := readCSV(t, out)
			if len(rows) != 3 || rows[0]["key"] != "HD-1" || rows[1]["key"] != "HD-2" || rows[2]["key"] != "HD-4" {
				t.Fatalf("rows %v, want HD-1, HD-2, HD-4 (opened on the local days 2026-07-01 and 2026-07-02)", rows)
			}
			checkFields(t, "HD-1", rows[0], wantHD1)
			checkFields(t, "HD-2", rows[1], wantHD2)
			checkFields(t, "HD-4", rows[2], wantHD4)
			probs := readCSV(t, filepath.Join(filepath.Dir(out), "register-problems.csv"))
			if len(probs) != 1 {
				t.Fatalf("problems %v", probs)
			}
			checkFields(t, "PRB-1", probs[0], wantPRB1)

			// No range: everything, to standard output.
			code, stdout, errOut := helpdeskd(t, "", "-config", cfg, "register", "--now", "2026-07-02T09:00:00Z")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
			if err != nil || len(recs) != 6 {
				t.Fatalf("all incidents: %d records, %v", len(recs), err)
			}
		})
	}
}

func TestRegisterJSON(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			cfg := registerFixture(t, d)
			code, stdout, errOut := helpdeskd(t, "", append([]string{"-config", cfg, "register", "--format", "json"}, registerArgs...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var doc struct {
				TimeZone  string           `json:"time_zone"`
				Incidents []map[string]any `json:"incidents"`
				Problems  []map[string]any `json:"problems"`
			}
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			if doc.TimeZone != "Europe/London" || len(doc.Incidents) != 3 || len(doc.Problems) != 1 {
				t.Fatalf("got %+v", doc)
			}
			h1, h2 := doc.Incidents[0], doc.Incidents[1]
			if h1["subject"] != `=HYPERLINK("http://evil.example")` || h1["opened"] != "2026-07-01T10:00:00+01:00" ||
				h1["resolution_late_minutes"] != 91.0 || h1["response_result"] != "met" || h1["major"] != "no" || h1["report_status"] != nil {
				t.Errorf("HD-1 %v", h1)
			}
			if h2["repeat_of"] != "HD-1" || h2["response_late_minutes"] != 45.0 || h2["first_response"] != nil || h2["escalation_level"] != 2.0 {
				t.Errorf("HD-2 %v", h2)
			}
			if p := doc.Problems[0]; p["key"] != "PRB-1" || p["incidents"] != 2.0 {
				t.Errorf("PRB-1 %v", p)
			}
		})
	}
}

func TestRegisterXLSX(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			cfg := registerFixture(t, d)
			out := filepath.Join(t.TempDir(), "register.xlsx")
			code, _, errOut := helpdeskd(t, "", append([]string{"-config", cfg, "register", "--format", "xlsx", "-o", out}, registerArgs...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			f, err := excelize.OpenFile(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.GetSheetList(); len(got) != 2 || got[0] != "Incidents" || got[1] != "Problems" {
				t.Fatalf("sheets %v", got)
			}
			sheetRows := func(name string) []map[string]string {
				rows, err := f.GetRows(name)
				if err != nil {
					t.Fatal(err)
				}
				var out []map[string]string
				for _, r := range rows[1:] {
					m := map[string]string{}
					for i, h := range rows[0] {
						if i < len(r) {
							m[h] = r[i]
						} else {
							m[h] = ""
						}
					}
					out = append(out, m)
				}
				return out
			}
			rows := sheetRows("Incidents")
			if len(rows) != 3 {
				t.Fatalf("rows %v", rows)
			}
			checkFields(t, "HD-1", rows[0], wantHD1)
			checkFields(t, "HD-2", rows[1], wantHD2)
			checkFields(t, "HD-4", rows[2], wantHD4)
			probs := sheetRows("Problems")
			if len(probs) != 1 {
				t.Fatalf("problems %v", probs)
			}
			checkFields(t, "PRB-1", probs[0], wantPRB1)

			// D2 is HD-1's "opened": a number (a date serial) formatted as a
			// date, holding the local wall clock; P2 (late by) a number.
			for _, c := range []string{"D2", "P2"} {
				if typ, err := f.GetCellType("Incidents", c); err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
					t.Errorf("%s: cell type %v, %v; want a number", c, typ, err)
				}
			}
			raw, err := f.GetCellValue("Incidents", "D2", excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			var serial float64
			if err := json.Unmarshal([]byte(raw), &serial); err != nil {
				t.Fatalf("D2 raw %q: %v", raw, err)
			}
			if got, _ := excelize.ExcelDateToTime(serial, false); !got.Equal(time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)) {
				t.Errorf("D2 = %v (serial %v), want the wall clock 2026-07-01 10:00", got, serial)
			}
			if typ, _ := f.GetCellType("Incidents", "B2"); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
				t.Errorf("B2 (subject) type %v, want a string, never a formula", typ)
			}
			if formula, _ := f.GetCellFormula("Incidents", "B2"); formula != "" {
				t.Errorf("B2 has the formula %q", formula)
			}
		})
	}
}

func TestRegisterBadArguments(t *testing.T) {
	cfg := registerFixture(t, "sqlite")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "ods"}, `--format: want csv, json or xlsx, got "ods"`},
		{[]string{"--from", "1/7/2026"}, `--from: want a date YYYY-MM-DD, got "1/7/2026"`},
		{[]string{"--from", "2026-07-02", "--to", "2026-07-01"}, "--to 2026-07-01 is before --from 2026-07-02"},
		{[]string{"--now", "yesterday"}, "--now: want RFC 3339"},
	} {
		code, _, errOut := helpdeskd(t, "", append([]string{"-config", cfg, "register"}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, errOut, exitUsage, c.want)
		}
	}
}
