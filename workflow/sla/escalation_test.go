package sla

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEscalationDue(t *testing.T) {
	f := newFixture(t, "")
	ts := func(s string) time.Time { return f.at(t, s) }
	esc, err := ParseEscalation(0.8, []string{"0m", "4h", "1d"}, "1d")
	if err != nil {
		t.Fatal(err)
	}
	// P2: response 1h business time, from Mon 09:00: warning 09:48,
	// breach 10:00, L2 14:00, L3 one business day (10 h) after the breach =
	// Tue 10:00, reminders every business day after that.
	base := []Event{{At: ts("2026-03-02 09:00"), Kind: Started, Party: "it", Policy: f.standard, Priority: "P2"}}
	paused := append(append([]Event(nil), base...),
		Event{At: ts("2026-03-02 11:00"), Kind: Paused}, Event{At: ts("2026-03-02 16:00"), Kind: Resumed})
	stillPaused := append(append([]Event(nil), base...), Event{At: ts("2026-03-02 11:00"), Kind: Paused})
	met := append(append([]Event(nil), base...), Event{At: ts("2026-03-02 10:30"), Kind: Met, Metric: Response})
	reopened := append(append([]Event(nil), met...),
		Event{At: ts("2026-03-02 11:00"), Kind: Met, Metric: Resolution},
		Event{At: ts("2026-03-03 09:00"), Kind: Reopened})
	tests := []struct {
		name     string
		events   []Event
		now      string
		ack, res string
		want     []string
	}{
		{"before warn_at", base, "2026-03-02 09:47", "", "", nil},
		{"warning at warn_at", base, "2026-03-02 09:50", "", "", []string{"HD-1/response/warn/g1"}},
		{"level 1 at the breach", base, "2026-03-02 10:00", "", "", []string{"HD-1/response/L1/g1"}},
		{"level 2 four hours later", base, "2026-03-02 14:00", "", "", []string{"HD-1/response/L1/g1", "HD-1/response/L2/g1"}},
		{"level 3 not before one business day", base, "2026-03-03 09:59", "", "", []string{"HD-1/response/L1/g1", "HD-1/response/L2/g1"}},
		{"level 3 one business day later", base, "2026-03-03 10:00", "", "", []string{"HD-1/response/L1/g1", "HD-1/response/L2/g1", "HD-1/response/L3/g1"}},
		{"first reminder", base, "2026-03-04 10:00", "", "", []string{"HD-1/response/L1/g1", "HD-1/response/L2/g1", "HD-1/response/L3/g1", "HD-1/response/L3r1/g1"}},
		{"only the latest reminder", base, "2026-03-05 10:00", "", "", []string{"HD-1/response/L1/g1", "HD-1/response/L2/g1", "HD-1/response/L3/g1", "HD-1/response/L3r2/g1"}},
		{"acknowledged stops levels and reminders", base, "2026-03-04 10:00", "2026-03-02 15:00", "", nil},
		{"acknowledged later than now does not count yet", base, "2026-03-02 10:00", "2026-03-02 15:00", "", []string{"HD-1/response/L1/g1"}},
		{"resolved stops everything", base, "2026-03-04 10:00", "", "2026-03-02 15:00", nil},
		{"met stops the metric", met, "2026-03-04 10:00", "", "", nil},
		{"paused: nothing", stillPaused, "2026-03-02 15:00", "", "", nil},
		{"a pause holds the levels back", paused, "2026-03-02 17:00", "", "", []string{"HD-1/response/L1/g1"}},
		{"after the pause level 2 comes", paused, "2026-03-03 09:00", "", "", []string{"HD-1/response/L1/g1", "HD-1/response/L2/g1"}},
		{"reopen: a new generation escalates again", reopened, "2026-03-03 10:00", "", "", []string{"HD-1/response/L1/g2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := derive(t, tt.events, ts(tt.now))
			var ack, res time.Time
			if tt.ack != "" {
				ack = ts(tt.ack)
			}
			if tt.res != "" {
				res = ts(tt.res)
			}
			var got []string
			for _, n := range esc.Due(s.Current().Clock(Response, ""), ack, res, ts(tt.now)) {
				got = append(got, n.Key("HD-1"))
				if n.At.After(ts(tt.now)) {
					t.Errorf("%s due at %s, after now", n.Key("HD-1"), n.At)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("due %v, want %v", got, tt.want)
			}
		})
	}
}

// A warning that falls due at Friday's close for a business-time target is
// not sent on Saturday but at Monday's opening; a 24x7 one is sent at once.
func TestWarningOnlyInsideHours(t *testing.T) {
	f := newFixture(t, "")
	ts := func(s string) time.Time { return f.at(t, s) }
	esc := Escalation{WarnAt: 0.8}
	business := []Event{{At: ts("2026-03-06 10:00"), Kind: Started, Party: "it", Policy: f.standard, Priority: "P4"}} // response 1d = 10h, warn at 8h = Fri 18:00
	allDay := []Event{{At: ts("2026-03-07 10:00"), Kind: Started, Party: "it", Policy: f.standard, Priority: "P1"}}   // response 30m 24x7, warn at 24m
	tests := []struct {
		name   string
		events []Event
		now    string
		want   int
		at     string
	}{
		{"business: not before warn_at", business, "2026-03-06 17:59", 0, ""},
		{"business: reached at the close, closed", business, "2026-03-06 18:00", 0, ""},
		{"business: not on Saturday", business, "2026-03-07 10:00", 0, ""},
		{"business: not on Sunday", business, "2026-03-08 15:00", 0, ""},
		{"business: Monday at the opening", business, "2026-03-09 08:00", 1, "2026-03-06 18:00"},
		{"24x7: on Saturday", allDay, "2026-03-07 10:24", 1, "2026-03-07 10:24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := derive(t, tt.events, ts(tt.now))
			got := esc.Due(s.Current().Clock(Response, ""), time.Time{}, time.Time{}, ts(tt.now))
			if len(got) != tt.want {
				t.Fatalf("%d notices %v, want %d", len(got), got, tt.want)
			}
			if tt.want == 1 && (got[0].Kind != Warning || !got[0].At.Equal(ts(tt.at))) {
				t.Fatalf("notice %+v, want a warning at %s", got[0], tt.at)
			}
		})
	}
}

func TestProviderClockEscalatesUnderItsOwnKey(t *testing.T) {
	f := newFixture(t, "")
	ts := func(s string) time.Time { return f.at(t, s) }
	s := derive(t, []Event{
		{At: ts("2026-03-02 09:00"), Kind: Started, Party: "it", Policy: f.standard, Priority: "P3"},
		{At: ts("2026-03-02 10:00"), Kind: HandedOver, Party: "acme", Policy: f.acme},
	}, ts("2026-03-02 12:30"))
	esc := Escalation{WarnAt: 0.8, Levels: []Duration{{}}}
	g := s.Current()
	got := esc.Due(g.Clock(Response, "acme"), time.Time{}, time.Time{}, ts("2026-03-02 12:30"))
	if len(got) != 1 || got[0].Key("HD-2") != "HD-2/response@acme/L1/g1" {
		t.Fatalf("acme: %v", got)
	}
	if got := esc.Due(g.Clock(Response, "it"), time.Time{}, time.Time{}, ts("2026-03-02 12:30")); got != nil {
		t.Fatalf("the team no longer holds it, nothing is due on its clock: %v", got)
	}
}

func TestParseEscalationErrors(t *testing.T) {
	tests := []struct {
		name   string
		warn   float64
		levels []string
		repeat string
		want   string
	}{
		{"warn_at 1", 1, nil, "", "warn_at 1: want a fraction"},
		{"warn_at negative", -0.1, nil, "", "warn_at -0.1"},
		{"warn_at NaN", math.NaN(), nil, "", "warn_at NaN"},
		{"bad level", 0.8, []string{"0m", "4 hours"}, "", `levels[1]: duration "4 hours"`},
		{"descending", 0.8, []string{"1d", "4h"}, "", `levels[1] "4h" is earlier than levels[0] "1d"`},
		{"bad repeat", 0.8, nil, "daily", `repeat: duration "daily"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEscalation(tt.warn, tt.levels, tt.repeat)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseEscalation(t *testing.T) {
	e, err := ParseEscalation(0.8, []string{"0m", "4h", "1d"}, "1d")
	want := Escalation{WarnAt: 0.8, Levels: []Duration{{}, {Clock: 4 * time.Hour}, {Days: 1}}, Repeat: Duration{Days: 1}}
	if err != nil || !reflect.DeepEqual(e, want) {
		t.Fatalf("got %+v, %v; want %+v", e, err, want)
	}
}
