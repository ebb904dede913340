package schedule

import (
	"strings"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Schedule
	}{
		{"mon 07:30", Schedule{Every: Weekly, Weekday: time.Monday, Hour: 7, Minute: 30}},
		{"  SUN   7:05 ", Schedule{Every: Weekly, Weekday: time.Sunday, Hour: 7, Minute: 5}},
		{"daily 07:30", Schedule{Every: Daily, Hour: 7, Minute: 30}},
		{"daily 00:00", Schedule{Every: Daily}},
		{"month 1 08:00", Schedule{Every: Monthly, Day: 1, Hour: 8}},
		{"month 31 23:59", Schedule{Every: Monthly, Day: 31, Hour: 23, Minute: 59}},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if again, err := Parse(got.String()); err != nil || again != got {
			t.Errorf("Parse(%q.String() = %q) = %+v, %v", c.in, got.String(), again, err)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", `schedule "": empty`},
		{"weekly 07:30", `schedule "weekly 07:30": "weekly": want "daily", a weekday`},
		{"monday 07:30", `"monday": want "daily", a weekday`},
		{"mon", `schedule "mon": want "mon HH:MM"`},
		{"mon 7.30", `time "7.30": want HH:MM on a 24-hour clock`},
		{"daily 24:00", `time "24:00": want HH:MM`},
		{"daily 07:60", `time "07:60": want HH:MM`},
		{"daily 07:5", `time "07:5": want HH:MM`},
		{"daily -1:30", `time "-1:30"`},
		{"daily 07:30 extra", `want "daily HH:MM"`},
		{"month 0 08:00", `day "0": want 1 to 31`},
		{"month 32 08:00", `day "32": want 1 to 31`},
		{"month 08:00", `want "month DAY HH:MM"`},
	} {
		_, err := Parse(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error %v, want it to contain %q", c.in, err, c.want)
		}
	}
}

func TestWallClockAcrossDST(t *testing.T) {
	berlin, london := zone(t, "Europe/Berlin"), zone(t, "Europe/London")
	for _, c := range []struct {
		name          string
		loc           *time.Location
		y             int
		m             time.Month
		d, hh, mm     int
		wantUTC, wall string
	}{
		{"ordinary winter", berlin, 2026, 1, 5, 7, 30, "2026-01-05T06:30:00Z", "07:30 CET"},
		{"ordinary summer", berlin, 2026, 7, 6, 7, 30, "2026-07-06T05:30:00Z", "07:30 CEST"},
		{"spring gap: 02:30 runs at 03:30", berlin, 2026, 3, 29, 2, 30, "2026-03-29T01:30:00Z", "03:30 CEST"},
		{"spring, just after the gap", berlin, 2026, 3, 29, 3, 0, "2026-03-29T01:00:00Z", "03:00 CEST"},
		{"fall-back 02:30 twice: the first", berlin, 2026, 10, 25, 2, 30, "2026-10-25T00:30:00Z", "02:30 CEST"},
		{"London spring gap 01:30", london, 2026, 3, 29, 1, 30, "2026-03-29T01:30:00Z", "02:30 BST"},
		{"London fall-back 01:30: the first", london, 2026, 10, 25, 1, 30, "2026-10-25T00:30:00Z", "01:30 BST"},
		{"day normalised", london, 2026, 12, 32, 0, 0, "2027-01-01T00:00:00Z", "00:00 GMT"},
	} {
		got := WallClock(c.y, c.m, c.d, c.hh, c.mm, c.loc)
		if got.UTC().Format(time.RFC3339) != c.wantUTC || got.In(c.loc).Format("15:04 MST") != c.wall {
			t.Errorf("%s: %s (%s), want %s (%s)", c.name, got.UTC().Format(time.RFC3339), got.In(c.loc).Format("15:04 MST"), c.wantUTC, c.wall)
		}
	}
}

func TestLatestAndPeriod(t *testing.T) {
	berlin, london, utc := zone(t, "Europe/Berlin"), zone(t, "Europe/London"), time.UTC
	for _, c := range []struct {
		name, sched, period string
		loc                 *time.Location
		now                 string // RFC 3339
		wantDue             string // RFC 3339 in UTC
		wantKey             string
		wantStart, wantEnd  string // local "2006-01-02 15:04"
	}{
		{"weekly, due this morning", "mon 07:30", "week", london, "2026-11-30T08:00:00Z", "2026-11-30T07:30:00Z", "2026-W48", "2026-11-23 00:00", "2026-11-30 00:00"},
		{"weekly, exactly at due", "mon 07:30", "week", london, "2026-11-30T07:30:00Z", "2026-11-30T07:30:00Z", "2026-W48", "2026-11-23 00:00", "2026-11-30 00:00"},
		{"weekly, a minute before due: last week's", "mon 07:30", "week", london, "2026-11-30T07:29:00Z", "2026-11-23T07:30:00Z", "2026-W47", "2026-11-16 00:00", "2026-11-23 00:00"},
		{"weekly, mid-week", "mon 07:30", "week", london, "2026-12-03T12:00:00Z", "2026-11-30T07:30:00Z", "2026-W48", "2026-11-23 00:00", "2026-11-30 00:00"},
		{"ISO week 53 across the new year", "mon 07:30", "week", utc, "2027-01-04T09:00:00Z", "2027-01-04T07:30:00Z", "2026-W53", "2026-12-28 00:00", "2027-01-04 00:00"},
		{"ISO week 1 belongs to the next year", "mon 07:30", "week", utc, "2025-12-29T09:00:00Z", "2025-12-29T07:30:00Z", "2025-W52", "2025-12-22 00:00", "2025-12-29 00:00"},
		{"daily", "daily 07:30", "day", london, "2026-11-29T20:00:00Z", "2026-11-29T07:30:00Z", "2026-11-28", "2026-11-28 00:00", "2026-11-29 00:00"},
		{"daily, before today's time", "daily 07:30", "day", london, "2026-11-29T07:00:00Z", "2026-11-28T07:30:00Z", "2026-11-27", "2026-11-27 00:00", "2026-11-28 00:00"},
		{"monthly", "month 1 08:00", "month", london, "2026-12-01T09:00:00Z", "2026-12-01T08:00:00Z", "2026-11", "2026-11-01 00:00", "2026-12-01 00:00"},
		{"monthly, mid-month", "month 1 08:00", "month", london, "2026-12-15T09:00:00Z", "2026-12-01T08:00:00Z", "2026-11", "2026-11-01 00:00", "2026-12-01 00:00"},
		{"month 31 in February: the 28th", "month 31 08:00", "month", utc, "2026-03-15T00:00:00Z", "2026-02-28T08:00:00Z", "2026-01", "2026-01-01 00:00", "2026-02-01 00:00"},
		{"month 31 in a leap February: the 29th", "month 31 08:00", "month", utc, "2028-03-01T00:00:00Z", "2028-02-29T08:00:00Z", "2028-01", "2028-01-01 00:00", "2028-02-01 00:00"},
		{"month 31 in April: the 30th", "month 31 08:00", "month", utc, "2026-05-02T00:00:00Z", "2026-04-30T08:00:00Z", "2026-03", "2026-03-01 00:00", "2026-04-01 00:00"},
		{"month 31 in a 31-day month", "month 31 08:00", "month", utc, "2026-05-31T09:00:00Z", "2026-05-31T08:00:00Z", "2026-04", "2026-04-01 00:00", "2026-05-01 00:00"},
		{"month 1 in January: December of the year before", "month 1 08:00", "month", utc, "2027-01-01T08:00:00Z", "2027-01-01T08:00:00Z", "2026-12", "2026-12-01 00:00", "2027-01-01 00:00"},
		// Spring forward in Berlin: 02:00 → 03:00 on Sunday 29 March 2026.
		{"spring: 02:30 not due before 03:30", "daily 02:30", "day", berlin, "2026-03-29T01:29:00Z", "2026-03-28T01:30:00Z", "2026-03-27", "2026-03-27 00:00", "2026-03-28 00:00"},
		{"spring: 02:30 runs at 03:30", "daily 02:30", "day", berlin, "2026-03-29T01:30:00Z", "2026-03-29T01:30:00Z", "2026-03-28", "2026-03-28 00:00", "2026-03-29 00:00"},
		{"spring: weekly sun 02:30", "sun 02:30", "week", berlin, "2026-03-29T05:00:00Z", "2026-03-29T01:30:00Z", "2026-W12", "2026-03-16 00:00", "2026-03-23 00:00"},
		{"spring: the 23-hour day is a whole day", "daily 07:30", "day", berlin, "2026-03-30T06:00:00Z", "2026-03-30T05:30:00Z", "2026-03-29", "2026-03-29 00:00", "2026-03-30 00:00"},
		// Fall back in Berlin: 03:00 → 02:00 on Sunday 25 October 2026.
		{"fall-back: first 02:30", "daily 02:30", "day", berlin, "2026-10-25T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-24", "2026-10-24 00:00", "2026-10-25 00:00"},
		{"fall-back: the second 02:30 is the same run", "daily 02:30", "day", berlin, "2026-10-25T01:30:00Z", "2026-10-25T00:30:00Z", "2026-10-24", "2026-10-24 00:00", "2026-10-25 00:00"},
		{"fall-back: after both", "daily 02:30", "day", berlin, "2026-10-25T12:00:00Z", "2026-10-25T00:30:00Z", "2026-10-24", "2026-10-24 00:00", "2026-10-25 00:00"},
		{"fall-back: the 25-hour day is a whole day", "daily 07:30", "day", berlin, "2026-10-26T07:00:00Z", "2026-10-26T06:30:00Z", "2026-10-25", "2026-10-25 00:00", "2026-10-26 00:00"},
	} {
		s, err := Parse(c.sched)
		if err != nil {
			t.Fatal(err)
		}
		now, _ := time.Parse(time.RFC3339, c.now)
		due, p, err := s.Due(c.period, now, c.loc)
		if err != nil {
			t.Fatal(err)
		}
		const local = "2006-01-02 15:04"
		if got := due.UTC().Format(time.RFC3339); got != c.wantDue {
			t.Errorf("%s: due %s, want %s", c.name, got, c.wantDue)
		}
		if p.Key != c.wantKey || p.Start.In(c.loc).Format(local) != c.wantStart || p.End.In(c.loc).Format(local) != c.wantEnd {
			t.Errorf("%s: period %s [%s, %s), want %s [%s, %s)", c.name, p.Key, p.Start.In(c.loc).Format(local),
				p.End.In(c.loc).Format(local), c.wantKey, c.wantStart, c.wantEnd)
		}
	}
}

// TestOnceAcrossDSTDays walks every minute of both DST Sundays and the
// days around them and counts the distinct due instants: a daily 02:30
// (inside the spring gap, twice on fall-back) is due once a day.
func TestOnceAcrossDSTDays(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	s, _ := Parse("daily 02:30")
	for _, day := range []string{"2026-03-28T00:00:00+01:00", "2026-10-24T00:00:00+02:00"} {
		start, _ := time.Parse(time.RFC3339, day)
		seen := map[time.Time]bool{}
		keys := map[string]bool{}
		for at := start; at.Before(start.Add(72 * time.Hour)); at = at.Add(time.Minute) {
			due, p, _ := s.Due("day", at, berlin)
			seen[due] = true
			keys[p.Key] = true
		}
		// Three days walked: the due instant of the day before the walk
		// plus one per day.
		if len(seen) != 4 || len(keys) != 4 {
			t.Errorf("from %s: %d due instants, %d period keys, want 4 each: %v", day, len(seen), len(keys), seen)
		}
	}
}

func TestCheckPeriod(t *testing.T) {
	for _, k := range []string{"day", "week", "month"} {
		if err := CheckPeriod(k); err != nil {
			t.Error(err)
		}
	}
	s, _ := Parse("daily 07:30")
	if _, _, err := s.Due("fortnight", time.Now(), time.UTC); err == nil || !strings.Contains(err.Error(), `period "fortnight": want day, week or month`) {
		t.Errorf("fortnight: %v", err)
	}
}
