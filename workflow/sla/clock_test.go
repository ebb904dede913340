package sla

import (
	"strings"
	"testing"
	"time"
)

type fixture struct {
	office   *Calendar
	standard *Policy
	acme     *Policy
}

func newFixture(t testing.TB, country string) fixture {
	t.Helper()
	office := mustCal(t, CalendarSpec{Name: "office", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:00-18:00"}, HolidayCountry: country})
	cals := map[string]*Calendar{"office": office}
	standard, err := ParsePolicy(PolicySpec{Name: "standard", Calendar: "office", Targets: []TargetSpec{
		{Priority: "P1", Response: "30m", Resolution: "4h", Clock: "24x7"},
		{Priority: "P2", Response: "1h", Resolution: "8h"},
		{Priority: "P3", Response: "4h", Resolution: "3d"},
		{Priority: "P4", Response: "1d", Resolution: "10d"},
	}}, cals)
	if err != nil {
		t.Fatal(err)
	}
	acme, err := ParsePolicy(PolicySpec{Name: "acme-contract", Calendar: "office", Targets: []TargetSpec{
		{Priority: "P1", Response: "15m", Resolution: "2h", Clock: "24x7"},
		{Priority: "P3", Response: "2h", Resolution: "2d"},
	}}, cals)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{office, standard, acme}
}

func (f fixture) at(t testing.TB, s string) time.Time { return at(t, f.office, s) }

func derive(t testing.TB, evs []Event, now time.Time) *State {
	t.Helper()
	s, err := Derive(evs, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDerive(t *testing.T) {
	f := newFixture(t, "gb")
	ts := func(s string) time.Time { return f.at(t, s) }
	start := func(when, prio string) Event {
		return Event{At: ts(when), Kind: Started, Party: "it", Policy: f.standard, Priority: prio}
	}
	type want struct {
		metric     Metric
		party      string
		due        string // "" for zero
		breached   bool
		breachedBy string
		elapsed    time.Duration
		met        bool
		stopped    bool
		paused     bool
	}
	tests := []struct {
		name   string
		events []Event
		nows   []string // derived at each: the due time must not drift
		gen    int
		want   []want
	}{
		{
			name:   "4h business response created Mon 17:00 is due Tue 11:00",
			events: []Event{start("2026-03-02 17:00", "P3")},
			nows:   []string{"2026-03-02 17:30", "2026-03-03 10:59"},
			gen:    1,
			want:   []want{{metric: Response, due: "2026-03-03 11:00"}},
		},
		{
			name: "pause 2h then P3 to P2 while paused, resumed: due excludes the pause",
			events: []Event{
				start("2026-03-02 09:00", "P3"),
				{At: ts("2026-03-02 09:20"), Kind: Paused, Note: "waiting on requester"},
				{At: ts("2026-03-02 10:00"), Kind: PriorityChanged, Priority: "P2"},
				{At: ts("2026-03-02 11:20"), Kind: Resumed},
			},
			nows: []string{"2026-03-02 11:20", "2026-03-02 11:59"},
			gen:  1,
			want: []want{
				{metric: Response, due: "2026-03-02 12:00"},
				{metric: Resolution, due: "2026-03-03 09:00"},
				{metric: Response, party: "it", due: "2026-03-02 12:00"},
			},
		},
		{
			name: "while paused there is no due time and nothing counts",
			events: []Event{
				start("2026-03-02 09:00", "P3"),
				{At: ts("2026-03-02 09:20"), Kind: Paused},
			},
			nows: []string{"2026-03-02 16:00"},
			gen:  1,
			want: []want{{metric: Response, paused: true, elapsed: 20 * time.Minute}},
		},
		{
			name:   "created Saturday, 24x7 P1 response due Saturday",
			events: []Event{start("2026-03-07 10:00", "P1")},
			nows:   []string{"2026-03-07 10:10"},
			gen:    1,
			want:   []want{{metric: Response, due: "2026-03-07 10:30"}, {metric: Resolution, due: "2026-03-07 14:00"}},
		},
		{
			name:   "created Saturday, answered Monday 08:10: 10 business minutes",
			events: []Event{start("2026-03-07 10:00", "P3"), {At: ts("2026-03-09 08:10"), Kind: Met, Metric: Response}},
			nows:   []string{"2026-03-09 12:00"},
			gen:    1,
			want:   []want{{metric: Response, met: true, elapsed: 10 * time.Minute, due: "2026-03-09 12:00"}},
		},
		{
			name: "hand-over to a provider starts its contract clock; the team's stops",
			events: []Event{
				start("2026-03-02 09:00", "P3"),
				{At: ts("2026-03-02 10:00"), Kind: HandedOver, Party: "acme", Policy: f.acme},
			},
			nows: []string{"2026-03-02 11:00"},
			gen:  1,
			want: []want{
				{metric: Response, due: "2026-03-02 13:00", elapsed: 2 * time.Hour},
				{metric: Response, party: "it", stopped: true, elapsed: time.Hour},
				{metric: Response, party: "acme", due: "2026-03-02 12:00", elapsed: time.Hour},
				{metric: Resolution, party: "acme", due: "2026-03-04 10:00", elapsed: time.Hour},
			},
		},
		{
			name: "provider breaches its contract and the promise while holding it",
			events: []Event{
				start("2026-03-02 09:00", "P3"),
				{At: ts("2026-03-02 10:00"), Kind: HandedOver, Party: "acme", Policy: f.acme},
			},
			nows: []string{"2026-03-02 14:00"},
			gen:  1,
			want: []want{
				{metric: Response, due: "2026-03-02 13:00", breached: true, breachedBy: "acme", elapsed: 5 * time.Hour},
				{metric: Response, party: "it", stopped: true, elapsed: time.Hour},
				{metric: Response, party: "acme", due: "2026-03-02 12:00", breached: true, breachedBy: "acme", elapsed: 4 * time.Hour},
			},
		},
		{
			name: "handed back before the promise passed: the breach is the team's",
			events: []Event{
				start("2026-03-02 09:00", "P3"),
				{At: ts("2026-03-02 10:00"), Kind: HandedOver, Party: "acme", Policy: f.acme},
				{At: ts("2026-03-02 11:30"), Kind: HandedOver, Party: "it", Policy: f.standard},
			},
			nows: []string{"2026-03-02 14:00"},
			gen:  1,
			want: []want{
				{metric: Response, due: "2026-03-02 13:00", breached: true, breachedBy: "it", elapsed: 5 * time.Hour},
				{metric: Response, party: "it", due: "2026-03-02 14:30", elapsed: 3*time.Hour + 30*time.Minute},
				{metric: Response, party: "acme", stopped: true, elapsed: 90 * time.Minute},
			},
		},
		{
			name: "provider answers in time: its clock and the promise are met",
			events: []Event{
				start("2026-03-02 09:00", "P3"),
				{At: ts("2026-03-02 10:00"), Kind: HandedOver, Party: "acme", Policy: f.acme},
				{At: ts("2026-03-02 11:00"), Kind: Met, Metric: Response},
			},
			nows: []string{"2026-03-02 16:00"},
			gen:  1,
			want: []want{
				{metric: Response, met: true, due: "2026-03-02 13:00", elapsed: 2 * time.Hour},
				{metric: Response, party: "acme", met: true, due: "2026-03-02 12:00", elapsed: time.Hour},
				{metric: Resolution, party: "acme", elapsed: 6 * time.Hour, due: "2026-03-04 10:00"},
			},
		},
		{
			name: "raising the priority past what is counted breaches at the change",
			events: []Event{
				start("2026-03-02 09:00", "P3"),
				{At: ts("2026-03-02 11:00"), Kind: PriorityChanged, Priority: "P2"},
			},
			nows: []string{"2026-03-02 12:00"},
			gen:  1,
			want: []want{{metric: Response, breached: true, breachedBy: "it", due: "2026-03-02 11:00", elapsed: 3 * time.Hour}},
		},
		{
			name: "P3 to P1 switches to a 24x7 clock; counted business time stays",
			events: []Event{
				start("2026-03-06 17:50", "P3"),
				{At: ts("2026-03-06 18:30"), Kind: PriorityChanged, Priority: "P1"},
			},
			nows: []string{"2026-03-06 18:31"},
			gen:  1,
			want: []want{{metric: Response, due: "2026-03-06 18:50", elapsed: 11 * time.Minute}},
		},
		{
			name: "reopen starts generation 2 with fresh clocks",
			events: []Event{
				start("2026-03-02 09:00", "P2"),
				{At: ts("2026-03-02 09:30"), Kind: Met, Metric: Response},
				{At: ts("2026-03-02 12:00"), Kind: Met, Metric: Resolution},
				{At: ts("2026-03-03 09:00"), Kind: Reopened},
			},
			nows: []string{"2026-03-03 10:30"},
			gen:  2,
			want: []want{
				{metric: Response, due: "2026-03-03 10:00", breached: true, breachedBy: "it", elapsed: 90 * time.Minute},
				{metric: Resolution, due: "2026-03-03 17:00", elapsed: 90 * time.Minute},
			},
		},
		{
			name:   "no target for the priority: no clock",
			events: []Event{{At: ts("2026-03-02 09:00"), Kind: Started, Party: "acme", Policy: f.acme, Promise: f.standard, Priority: "P2"}},
			nows:   []string{"2026-03-02 18:00"},
			gen:    1,
			want: []want{
				{metric: Response, party: "acme", elapsed: 9 * time.Hour},
				{metric: Response, due: "2026-03-02 10:00", breached: true, breachedBy: "acme", elapsed: 9 * time.Hour},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, now := range tt.nows {
				s := derive(t, tt.events, ts(now))
				g := s.Current()
				if g.Number != tt.gen {
					t.Fatalf("generation %d, want %d", g.Number, tt.gen)
				}
				for _, w := range tt.want {
					c := g.Clock(w.metric, w.party)
					if c == nil {
						t.Fatalf("no %s clock for %q", w.metric, w.party)
					}
					var wantDue time.Time
					if w.due != "" {
						wantDue = ts(w.due)
					}
					if !c.Due.Equal(wantDue) {
						t.Errorf("now %s: %s/%q due %s, want %s", now, w.metric, w.party, c.Due, wantDue)
					}
					if c.Breached != w.breached || c.BreachedBy != w.breachedBy {
						t.Errorf("now %s: %s/%q breached %v by %q, want %v by %q", now, w.metric, w.party, c.Breached, c.BreachedBy, w.breached, w.breachedBy)
					}
					if w.elapsed != 0 && c.Elapsed != w.elapsed {
						t.Errorf("now %s: %s/%q elapsed %s, want %s", now, w.metric, w.party, c.Elapsed, w.elapsed)
					}
					if c.Met != w.met || c.Stopped != w.stopped || c.Paused != w.paused {
						t.Errorf("now %s: %s/%q met/stopped/paused %v/%v/%v, want %v/%v/%v", now, w.metric, w.party, c.Met, c.Stopped, c.Paused, w.met, w.stopped, w.paused)
					}
					if c.HasTarget && c.Remaining != c.Budget-c.Elapsed {
						t.Errorf("remaining %s != budget %s - elapsed %s", c.Remaining, c.Budget, c.Elapsed)
					}
				}
			}
		})
	}
}

func TestDeriveGenerationsKeptApart(t *testing.T) {
	f := newFixture(t, "")
	ts := func(s string) time.Time { return f.at(t, s) }
	s := derive(t, []Event{
		{At: ts("2026-03-02 09:00"), Kind: Started, Party: "it", Policy: f.standard, Priority: "P2"},
		{At: ts("2026-03-02 09:30"), Kind: Met, Metric: Response},
		{At: ts("2026-03-02 12:00"), Kind: Met, Metric: Resolution},
		{At: ts("2026-03-03 09:00"), Kind: Reopened},
	}, ts("2026-03-05 09:00"))
	g1 := s.Generations[0]
	if !g1.Resolved || !g1.End.Equal(ts("2026-03-02 12:00")) {
		t.Fatalf("generation 1 resolved %v at %s", g1.Resolved, g1.End)
	}
	if c := g1.Clock(Resolution, ""); !c.Met || c.Breached || c.Elapsed != 3*time.Hour {
		t.Fatalf("generation 1 resolution: met %v breached %v elapsed %s", c.Met, c.Breached, c.Elapsed)
	}
	if c := s.Current().Clock(Resolution, ""); !c.Breached || c.Generation != 2 {
		t.Fatalf("generation 2 resolution: breached %v gen %d", c.Breached, c.Generation)
	}
}

func TestDeriveErrors(t *testing.T) {
	f := newFixture(t, "")
	ts := func(s string) time.Time { return f.at(t, s) }
	st := Event{At: ts("2026-03-02 09:00"), Kind: Started, Party: "it", Policy: f.standard, Priority: "P2"}
	tests := []struct {
		name string
		evs  []Event
		want string
	}{
		{"empty", nil, `must begin with "started"`},
		{"no start", []Event{{At: ts("2026-03-02 09:00"), Kind: Paused}}, `must begin with "started"`},
		{"no policy", []Event{{At: ts("2026-03-02 09:00"), Kind: Started, Priority: "P2"}}, "has no policy"},
		{"no priority", []Event{{At: ts("2026-03-02 09:00"), Kind: Started, Policy: f.standard}}, "has no priority"},
		{"bad metric", []Event{st, {At: ts("2026-03-02 10:00"), Kind: Met, Metric: "lunch"}}, `metric "lunch"`},
		{"hand-over without policy", []Event{st, {At: ts("2026-03-02 10:00"), Kind: HandedOver, Party: "acme"}}, "needs a party and its policy"},
		{"unknown kind", []Event{st, {At: ts("2026-03-02 10:00"), Kind: "exploded"}}, `unknown event kind "exploded"`},
		{"two starts", []Event{st, st}, `second "started"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Derive(tt.evs, ts("2026-03-03 09:00"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParsePolicyErrors(t *testing.T) {
	f := newFixture(t, "")
	cals := map[string]*Calendar{"office": f.office}
	tests := []struct {
		name string
		spec PolicySpec
		want string
	}{
		{"unknown calendar", PolicySpec{Name: "s", Calendar: "home"}, `sla "s": calendar "home": no such [[calendar]]`},
		{"bad duration", PolicySpec{Name: "s", Calendar: "office", Targets: []TargetSpec{{Priority: "P1", Response: "30 min"}}}, `sla "s": priority P1: response: duration "30 min"`},
		{"bad clock", PolicySpec{Name: "s", Calendar: "office", Targets: []TargetSpec{{Priority: "P1", Response: "30m", Clock: "always"}}}, `clock "always"`},
		{"duplicate", PolicySpec{Name: "s", Calendar: "office", Targets: []TargetSpec{{Priority: "P1"}, {Priority: "P1"}}}, `priority "P1" has two targets`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy(tt.spec, cals)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	f := newFixture(t, "gb")
	ts := func(s string) time.Time { return f.at(t, s) }
	s := derive(t, []Event{
		{At: ts("2026-04-02 17:00"), Kind: Started, Party: "it", Policy: f.standard, Priority: "P3"},
		{At: ts("2026-04-07 08:30"), Kind: Paused, Note: "waiting on requester"},
		{At: ts("2026-04-07 09:30"), Kind: Resumed},
	}, ts("2026-04-07 10:00"))
	c := s.Current().Clock(Response, "")
	x := Explain(c)
	if !x.Due.Equal(ts("2026-04-07 12:00")) {
		t.Fatalf("due %s, want Tue 7 Apr 12:00", x.Due)
	}
	if len(x.Holidays) != 2 || x.Holidays[0].Name != "Good Friday" || x.Holidays[1].Name != "Easter Monday" {
		t.Fatalf("holidays %v", x.Holidays)
	}
	if len(x.Pauses) != 1 || x.Pauses[0].To.Sub(x.Pauses[0].From) != time.Hour {
		t.Fatalf("pauses %v", x.Pauses)
	}
	words := x.String()
	for _, w := range []string{
		`Response target for P3 under policy "standard"`, "4h of business time on calendar office (Europe/London",
		"Good Friday", "Easter Monday", "(waiting on requester): 1 h not counted",
		"Due Tue 7 Apr 2026 12:00 BST (2 h remaining)", "Time not counted (outside hours, holidays, pauses, with other parties): 111 h.",
	} {
		if !strings.Contains(words, w) {
			t.Errorf("explanation lacks %q:\n%s", w, words)
		}
	}
	// Thu 17:00 to Tue 12:00 is 115 h of real time, 4 h of it counted.
	if x.Closed != 111*time.Hour {
		t.Errorf("closed %s, want 111h", x.Closed)
	}
}

// A reply while paused meets the response clock and ends its pause.
func TestMetWhilePausedEndsThePause(t *testing.T) {
	f := newFixture(t, "")
	ts := func(s string) time.Time { return f.at(t, s) }
	s := derive(t, []Event{
		{At: ts("2026-03-02 09:00"), Kind: Started, Party: "it", Policy: f.standard, Priority: "P3"},
		{At: ts("2026-03-02 09:30"), Kind: Paused},
		{At: ts("2026-03-02 10:00"), Kind: Met, Metric: Response},
	}, ts("2026-03-02 12:00"))
	c := s.Current().Clock(Response, "")
	if !c.Met || c.Paused || len(c.Pauses) != 1 || !c.Pauses[0].To.Equal(ts("2026-03-02 10:00")) || c.Elapsed != 30*time.Minute {
		t.Fatalf("met %v paused %v pauses %v elapsed %s", c.Met, c.Paused, c.Pauses, c.Elapsed)
	}
	if w := Explain(c).String(); strings.Contains(w, "Paused since") {
		t.Fatalf("explanation still paused:\n%s", w)
	}
}
