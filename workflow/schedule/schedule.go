// Package schedule computes when a periodic summary is due and which
// period it covers, on the local wall clock of a time zone.
//
// A schedule is written "daily 07:30", "mon 07:30" (a weekday: mon … sun)
// or "month 1 08:00" (a day of the month, 1–31; a day past the month's
// end means its last day, so "month 31" runs on 30 April and 28 or 29
// February). No cron library is needed, and none is used: cron
// implementations skip or repeat runs around daylight-saving changes.
//
// Daylight-saving time (the wall clock, not elapsed time, decides):
//
//   - A wall time that does not exist, because the clocks jump forward
//     across it (02:30 on the spring-forward Sunday in Europe/Berlin),
//     runs once, as late as the jump: at 03:30. It is never skipped: a
//     summary sent an hour late is better than one not sent.
//   - A wall time that exists twice, because the clocks go back (01:30
//     on the fall-back Sunday in Europe/London), runs once, at its first
//     occurrence. The due instant of a day is one instant, so the second
//     01:30 finds the same due instant and the same period key.
//
// Periods ("day", "week", "month") are cut at local midnight: weeks are
// ISO 8601 weeks, Monday to Sunday; a period's key is stable and
// readable: "2026-11-29", "2026-W48" (ISO 8601 week-numbering year and
// week), "2026-11". A summary is due at Schedule.Latest and covers the
// period that ended at or before that instant (LastEnded): the weekly
// "mon 07:30" covers the week that ended at midnight.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Every is how often a schedule runs.
type Every int

// The schedules' frequencies.
const (
	Daily Every = iota
	Weekly
	Monthly
)

// Schedule is a parsed schedule: a wall-clock time (Hour, Minute) on every
// day, on one Weekday, or on one Day of every month.
type Schedule struct {
	Every   Every
	Weekday time.Weekday // Weekly
	Day     int          // Monthly: 1–31; past the month's end: its last day
	Hour    int          // 0–23
	Minute  int          // 0–59
}

var weekdays = map[string]time.Weekday{
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
	"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
}

// Parse reads "daily HH:MM", "WEEKDAY HH:MM" (mon, tue, wed, thu, fri,
// sat, sun) or "month DAY HH:MM" (DAY 1–31), case-insensitive, with a
// 24-hour clock. An error names the schedule and what is wrong with it.
func Parse(s string) (Schedule, error) {
	f := strings.Fields(strings.ToLower(s))
	fail := func(format string, args ...any) (Schedule, error) {
		return Schedule{}, fmt.Errorf("schedule %q: %s", s, fmt.Sprintf(format, args...))
	}
	if len(f) == 0 {
		return fail(`empty (want "daily 07:30", "mon 07:30" or "month 1 08:00")`)
	}
	var sc Schedule
	var clock string
	switch wd, isDay := weekdays[f[0]]; {
	case f[0] == "daily":
		if len(f) != 2 {
			return fail(`want "daily HH:MM"`)
		}
		sc.Every, clock = Daily, f[1]
	case isDay:
		if len(f) != 2 {
			return fail(`want "%s HH:MM"`, f[0])
		}
		sc.Every, sc.Weekday, clock = Weekly, wd, f[1]
	case f[0] == "month":
		if len(f) != 3 {
			return fail(`want "month DAY HH:MM" (e.g. "month 1 08:00")`)
		}
		d, err := strconv.Atoi(f[1])
		if err != nil || d < 1 || d > 31 {
			return fail("day %q: want 1 to 31 (a day past the month's end means its last day)", f[1])
		}
		sc.Every, sc.Day, clock = Monthly, d, f[2]
	default:
		return fail(`%q: want "daily", a weekday (mon, tue, wed, thu, fri, sat, sun) or "month"`, f[0])
	}
	h, m, ok := strings.Cut(clock, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return fail("time %q: want HH:MM on a 24-hour clock, 00:00 to 23:59", clock)
	}
	sc.Hour, sc.Minute = hh, mm
	return sc, nil
}

// String writes the schedule as Parse reads it.
func (s Schedule) String() string {
	clock := fmt.Sprintf("%02d:%02d", s.Hour, s.Minute)
	switch s.Every {
	case Weekly:
		return strings.ToLower(s.Weekday.String()[:3]) + " " + clock
	case Monthly:
		return fmt.Sprintf("month %d %s", s.Day, clock)
	}
	return "daily " + clock
}

// runsOn reports whether the schedule runs on the local date y-m-d.
func (s Schedule) runsOn(y int, m time.Month, d int) bool {
	switch s.Every {
	case Weekly:
		return time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday() == s.Weekday
	case Monthly:
		last := time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
		return d == min(s.Day, last)
	}
	return true
}

// Latest returns the latest instant at or before now at which the
// schedule is due in loc (see the package documentation for DST).
func (s Schedule) Latest(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	y, m, d := l.Date()
	// A monthly schedule runs at least once in 31 days; two months
	// cover every case with room to spare.
	for i := 0; i <= 62; i++ {
		if !s.runsOn(dateOf(y, m, d-i)) {
			continue
		}
		dy, dm, dd := dateOf(y, m, d-i)
		due := WallClock(dy, dm, dd, s.Hour, s.Minute, loc)
		if !due.After(now) {
			return due
		}
	}
	panic("schedule: no due date in 62 days: " + s.String())
}

func dateOf(y int, m time.Month, d int) (int, time.Month, int) {
	return time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Date()
}

// WallClock returns the instant at which the clocks of loc show the local
// date y-m-d (normalised as time.Date does) and hh:mm. A wall time that
// occurs twice (the clocks go back) gives its first occurrence; one that
// does not occur (the clocks jump forward) gives the instant the clocks
// would have shown it had they not jumped: hh:mm plus the jump, e.g.
// 03:30 for 02:30 when the clocks go from 02:00 to 03:00. time.Date
// leaves both choices unspecified.
func WallClock(y int, m time.Month, d, hh, mm int, loc *time.Location) time.Time {
	naive := time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
	want := naive
	var best time.Time
	offsets := [3]int{}
	for i, shift := range []time.Duration{-48 * time.Hour, 0, 48 * time.Hour} {
		_, offsets[i] = naive.Add(shift).In(loc).Zone()
	}
	for _, off := range offsets {
		c := naive.Add(-time.Duration(off) * time.Second)
		l := c.In(loc)
		if l.Year() == want.Year() && l.Month() == want.Month() && l.Day() == want.Day() && l.Hour() == hh && l.Minute() == mm {
			if best.IsZero() || c.Before(best) {
				best = c
			}
		}
	}
	if !best.IsZero() {
		return best
	}
	// In a gap: read the wall time with the offset in force before it.
	return naive.Add(-time.Duration(offsets[0]) * time.Second)
}

// Period is a span of local calendar time: [Start, End), both at local
// midnight (or the first instant after it, should a zone skip midnight).
type Period struct {
	Kind       string // "day", "week" or "month"
	Start, End time.Time
	Key        string // "2026-11-29", "2026-W48", "2026-11"
}

// CheckPeriod validates a period name: "day", "week" or "month".
func CheckPeriod(kind string) error {
	switch kind {
	case "day", "week", "month":
		return nil
	}
	return fmt.Errorf("period %q: want day, week or month", kind)
}

// PeriodAt returns the period of the kind that contains t, cut on loc's
// wall clock. It panics on a kind CheckPeriod refuses.
func PeriodAt(kind string, t time.Time, loc *time.Location) Period {
	y, m, d := t.In(loc).Date()
	p := Period{Kind: kind}
	switch kind {
	case "day":
		p.Start = WallClock(y, m, d, 0, 0, loc)
		p.End = WallClock(y, m, d+1, 0, 0, loc)
		p.Key = fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	case "week":
		back := (int(time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()) + 6) % 7 // days since Monday
		p.Start = WallClock(y, m, d-back, 0, 0, loc)
		p.End = WallClock(y, m, d-back+7, 0, 0, loc)
		wy, wn := time.Date(y, m, d-back, 12, 0, 0, 0, time.UTC).ISOWeek()
		p.Key = fmt.Sprintf("%04d-W%02d", wy, wn)
	case "month":
		p.Start = WallClock(y, m, 1, 0, 0, loc)
		p.End = WallClock(y, m+1, 1, 0, 0, loc)
		p.Key = fmt.Sprintf("%04d-%02d", y, m)
	default:
		panic(CheckPeriod(kind))
	}
	return p
}

// LastEnded returns the latest period of the kind that ended at or
// before t: the one before the period containing t.
func LastEnded(kind string, t time.Time, loc *time.Location) Period {
	cur := PeriodAt(kind, t, loc)
	return PeriodAt(kind, cur.Start.Add(-time.Nanosecond), loc)
}

// Due returns the latest instant at or before now at which the schedule
// is due, and the period of the kind that ended at or before it: the
// period a summary sent then covers, whose Key makes it unique.
func (s Schedule) Due(kind string, now time.Time, loc *time.Location) (time.Time, Period, error) {
	if err := CheckPeriod(kind); err != nil {
		return time.Time{}, Period{}, err
	}
	due := s.Latest(now, loc)
	return due, LastEnded(kind, due, loc), nil
}
