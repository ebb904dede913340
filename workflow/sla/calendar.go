package sla

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
)

// Hours is one open interval of a working day, in minutes after local
// midnight: Start inclusive, End exclusive, 0 <= Start < End <= 1440 (End
// 1440 is "24:00", the next midnight). The wall-clock times are resolved
// in the calendar's zone for each day separately, so an interval keeps its
// wall-clock bounds across DST changes.
type Hours struct {
	Start, End int
}

// String formats h as "08:30-12:30".
func (h Hours) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", h.Start/60, h.Start%60, h.End/60, h.End%60)
}

// Date is a civil date (no zone): a day of the calendar.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String formats d as "2026-12-25".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

func (d Date) key() int { return d.Year*10000 + int(d.Month)*100 + d.Day }

// Holiday is a closed day of a calendar.
type Holiday struct {
	Date Date
	Name string // "holiday" for explicit dates; the library's name for public holidays
}

// CalendarOptions are the parsed pieces of a calendar, for NewCalendar.
type CalendarOptions struct {
	Name     string
	Location *time.Location // an IANA zone; required
	Days     []time.Weekday // working weekdays; at least one
	Hours    []Hours        // open intervals of each working day, ascending, not overlapping; at least one
	Holidays []Holiday      // explicit closed dates
	// Country is a country code of github.com/rickar/cal/v2 (see
	// Countries); its national holiday list is added to Holidays. Empty
	// for none.
	Country string
}

// Calendar is the working time of a team or a contract: an IANA zone,
// working weekdays, several open intervals a day and closed dates. It is
// immutable and safe for concurrent use; the zero value is not usable
// (use NewCalendar, ParseCalendar or TwentyFourSeven).
//
// Business-time arithmetic walks the days of the calendar's zone with
// time.Date(y, m, d+i, hh, mm, 0, 0, zone), so days are never 24 h
// steps and intervals keep their wall-clock bounds on DST Sundays. Time
// inside an open interval is counted on the wall clock: an interval
// spanning a DST change counts its written length (see segment), so every
// working day counts DayLength and a "d" is the same time of day on the
// next working day.
type Calendar struct {
	name     string
	loc      *time.Location
	always   bool
	days     [7]bool
	hours    []Hours
	explicit map[int]string
	country  string
	list     []*cal.Holiday
	years    sync.Map // int year -> map[int]string: public holidays of that year
	dayLen   time.Duration
}

// TwentyFourSeven returns the calendar that is always open ("24x7"
// targets): business time is elapsed time, a day is 24 h, there are no
// holidays. loc is only the zone its results are given in (nil: UTC);
// ParsePolicy passes the policy calendar's zone.
func TwentyFourSeven(loc *time.Location) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	return &Calendar{name: "24x7", loc: loc, always: true, dayLen: 24 * time.Hour}
}

// NewCalendar builds a calendar from parsed pieces. Errors name the
// calendar and the bad piece: no zone, no working day, no or overlapping
// or out-of-range hours, an unknown country.
func NewCalendar(o CalendarOptions) (*Calendar, error) {
	c := &Calendar{name: o.Name, loc: o.Location, explicit: map[int]string{}}
	if o.Location == nil {
		return nil, fmt.Errorf("calendar %q: no time zone", o.Name)
	}
	if len(o.Days) == 0 {
		return nil, fmt.Errorf("calendar %q: no working days", o.Name)
	}
	for _, d := range o.Days {
		if d < time.Sunday || d > time.Saturday {
			return nil, fmt.Errorf("calendar %q: weekday %d out of range", o.Name, d)
		}
		if c.days[d] {
			return nil, fmt.Errorf("calendar %q: weekday %s listed twice", o.Name, d)
		}
		c.days[d] = true
	}
	if len(o.Hours) == 0 {
		return nil, fmt.Errorf("calendar %q: no hours", o.Name)
	}
	hours := append([]Hours(nil), o.Hours...)
	sort.Slice(hours, func(i, j int) bool { return hours[i].Start < hours[j].Start })
	for i, h := range hours {
		if h.Start < 0 || h.End > 1440 || h.Start >= h.End {
			return nil, fmt.Errorf("calendar %q: hours %s: want start before end, within 00:00-24:00", o.Name, h)
		}
		if i > 0 && h.Start < hours[i-1].End {
			return nil, fmt.Errorf("calendar %q: hours %s overlap %s", o.Name, h, hours[i-1])
		}
		c.dayLen += time.Duration(h.End-h.Start) * time.Minute
	}
	c.hours = hours
	for _, h := range o.Holidays {
		t := time.Date(h.Date.Year, h.Date.Month, h.Date.Day, 0, 0, 0, 0, time.UTC)
		if DateOf(t) != h.Date {
			return nil, fmt.Errorf("calendar %q: holiday %s is not a date", o.Name, h.Date)
		}
		name := h.Name
		if name == "" {
			name = "holiday"
		}
		c.explicit[h.Date.key()] = name
	}
	if o.Country != "" {
		list, ok := countries[strings.ToLower(o.Country)]
		if !ok {
			return nil, fmt.Errorf("calendar %q: holiday_country %q: unknown (known: %s)", o.Name, o.Country, strings.Join(Countries(), ", "))
		}
		c.country = strings.ToLower(o.Country)
		c.list = list
	}
	return c, nil
}

// CalendarSpec is a [[calendar]] table of the configuration, as strings.
type CalendarSpec struct {
	Name           string
	Timezone       string   // IANA zone name, e.g. "Europe/London"
	Days           []string // "mon" … "sun" (or full English names), any case
	Hours          []string // "08:30-12:30"; "24:00" is allowed as an end
	Holidays       []string // "2026-12-25"
	HolidayCountry string   // e.g. "gb", "de"; see Countries
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// ParseCalendar parses a [[calendar]] table. Each error names the calendar,
// the key and the bad value, e.g.
//
//	calendar "office": timezone "+01:00": a UTC offset, want an IANA zone name such as "Europe/Berlin"
//	calendar "office": hours "8:30-12": want "HH:MM-HH:MM"
func ParseCalendar(s CalendarSpec) (*Calendar, error) {
	loc, err := LoadZone(s.Timezone)
	if err != nil {
		return nil, fmt.Errorf("calendar %q: %w", s.Name, err)
	}
	o := CalendarOptions{Name: s.Name, Location: loc, Country: s.HolidayCountry}
	for _, d := range s.Days {
		wd, ok := weekdayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return nil, fmt.Errorf("calendar %q: days: %q is not a weekday (want mon, tue, wed, thu, fri, sat, sun)", s.Name, d)
		}
		o.Days = append(o.Days, wd)
	}
	for _, h := range s.Hours {
		hh, err := parseHours(h)
		if err != nil {
			return nil, fmt.Errorf("calendar %q: %w", s.Name, err)
		}
		o.Hours = append(o.Hours, hh)
	}
	for _, h := range s.Holidays {
		t, err := time.Parse("2006-01-02", strings.TrimSpace(h))
		if err != nil {
			return nil, fmt.Errorf("calendar %q: holidays: %q is not a date YYYY-MM-DD", s.Name, h)
		}
		o.Holidays = append(o.Holidays, Holiday{Date: DateOf(t)})
	}
	return NewCalendar(o)
}

// LoadZone loads an IANA zone by name. It refuses what is not a place:
// the empty name (which time.LoadLocation turns into UTC), "Local" (the
// host's zone), UTC offsets such as "+01:00" or "UTC+1", and the fixed
// offset zones "Etc/GMT+N" (whose sign is inverted); "UTC" itself is
// allowed.
func LoadZone(name string) (*time.Location, error) {
	n := strings.TrimSpace(name)
	switch {
	case n == "":
		return nil, errors.New("timezone: empty, want an IANA zone name such as \"Europe/Berlin\"")
	case n == "Local":
		return nil, fmt.Errorf("timezone %q: the host's zone, want an IANA zone name such as \"Europe/Berlin\"", name)
	case strings.ContainsAny(n[:1], "+-0123456789") ||
		strings.HasPrefix(n, "Etc/GMT+") || strings.HasPrefix(n, "Etc/GMT-") ||
		(len(n) > 3 && (strings.HasPrefix(n, "UTC") || strings.HasPrefix(n, "GMT")) && strings.ContainsAny(n[3:4], "+-")):
		return nil, fmt.Errorf("timezone %q: a UTC offset, want an IANA zone name such as \"Europe/Berlin\"", name)
	}
	loc, err := time.LoadLocation(n)
	if err != nil {
		return nil, fmt.Errorf("timezone %q: not a known IANA zone name: %v", name, err)
	}
	return loc, nil
}

func parseHours(s string) (Hours, error) {
	bad := fmt.Errorf("hours %q: want \"HH:MM-HH:MM\" (e.g. \"08:30-12:30\")", s)
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Hours{}, bad
	}
	start, ok1 := parseClock(strings.TrimSpace(a))
	end, ok2 := parseClock(strings.TrimSpace(b))
	if !ok1 || !ok2 {
		return Hours{}, bad
	}
	if start >= end || start == 1440 {
		return Hours{}, fmt.Errorf("hours %q: the start must be before the end, within one day (00:00-24:00)", s)
	}
	return Hours{start, end}, nil
}

func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}

// Name is the calendar's name ("24x7" for TwentyFourSeven).
func (c *Calendar) Name() string { return c.name }

// Location is the calendar's zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Is24x7 reports whether the calendar is always open.
func (c *Calendar) Is24x7() bool { return c.always }

// DayLength is the nominal open time of one working day (the sum of its
// intervals; 24 h for 24x7): the length of a "d" in a Duration.
func (c *Calendar) DayLength() time.Duration { return c.dayLen }

// Budget is the counted time a Duration stands for on this calendar:
// d.Days*DayLength() + d.Clock.
func (c *Calendar) Budget(d Duration) time.Duration {
	return time.Duration(d.Days)*c.dayLen + d.Clock
}

// String describes the calendar: "office (Europe/London; Mon Tue Wed Thu
// Fri 08:30-12:30, 13:30-17:30; 2 holidays; public holidays: gb)".
func (c *Calendar) String() string {
	if c.always {
		return "24x7 (always open)"
	}
	var days []string
	for i := 1; i <= 7; i++ {
		if c.days[i%7] {
			days = append(days, time.Weekday(i % 7).String()[:3])
		}
	}
	var hs []string
	for _, h := range c.hours {
		hs = append(hs, h.String())
	}
	s := fmt.Sprintf("%s (%s; %s %s", c.name, c.loc, strings.Join(days, " "), strings.Join(hs, ", "))
	if len(c.explicit) > 0 {
		s += fmt.Sprintf("; %d holidays", len(c.explicit))
	}
	if c.country != "" {
		s += "; public holidays: " + c.country
	}
	return s + ")"
}

// day returns the normalised civil date of y-m-d (d may be out of range).
func day(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 12, 0, 0, 0, time.UTC))
}

func weekday(d Date) time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// HolidayOn returns the name of the holiday on date d, if d is one
// (explicit dates first, then the country's public holidays, observed and
// actual dates both).
func (c *Calendar) HolidayOn(d Date) (string, bool) {
	if c.always {
		return "", false
	}
	if n, ok := c.explicit[d.key()]; ok {
		return n, true
	}
	if c.list == nil {
		return "", false
	}
	n, ok := c.publicYear(d.Year)[d.key()]
	return n, ok
}

// publicYear returns the public holidays falling in year y. The library
// computes dates "at the start of the day in the system location"; only
// their civil date is used. A holiday of year y-1 observed in year y
// (New Year on a Saturday observed on Monday 3 January is year y's own;
// Boxing Day moved from 26 to 28 December stays) is included.
func (c *Calendar) publicYear(y int) map[int]string {
	if m, ok := c.years.Load(y); ok {
		return m.(map[int]string)
	}
	m := map[int]string{}
	for yy := y - 1; yy <= y+1; yy++ {
		for _, h := range c.list {
			act, obs := h.Calc(yy)
			if act.IsZero() {
				continue
			}
			a, o := DateOf(act), DateOf(obs)
			if a.Year == y {
				m[a.key()] = h.Name
			}
			if o != a && o.Year == y {
				if _, taken := m[o.key()]; !taken {
					m[o.key()] = h.Name + " (observed)"
				}
			}
		}
	}
	v, _ := c.years.LoadOrStore(y, m)
	return v.(map[int]string)
}

// openDay reports whether date d is a working day (weekday and no holiday).
func (c *Calendar) openDay(d Date) bool {
	if !c.days[weekday(d)] {
		return false
	}
	_, hol := c.HolidayOn(d)
	return !hol
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// span resolves interval h on date d in the calendar's zone: the first
// instants at which the wall clock shows its start and its end (see
// atWall), so a bound in the hour a spring-forward change skips resolves
// to the change itself, and a bound in the hour a fall-back change repeats
// to its first pass.
func (c *Calendar) span(d Date, h Hours) (time.Time, time.Time) {
	off, plain := c.plainDay(d)
	return c.spanOn(d, h, off, plain)
}

// spanOn is span with plainDay's answer for d.
func (c *Calendar) spanOn(d Date, h Hours, off time.Duration, plain bool) (time.Time, time.Time) {
	if plain {
		mid := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Add(-off)
		return mid.Add(time.Duration(h.Start) * time.Minute).In(c.loc), mid.Add(time.Duration(h.End) * time.Minute).In(c.loc)
	}
	return c.atWall(d, time.Duration(h.Start)*time.Minute), c.atWall(d, time.Duration(h.End)*time.Minute)
}

// plainDay reports whether the zone's UTC offset is the same from well
// before local midnight of d to well after the next (14 h either side
// covers every zone), and returns it: on such a day the wall clock and
// elapsed time agree, as they do on all days but those of a DST change.
func (c *Calendar) plainDay(d Date) (time.Duration, bool) {
	u := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	_, a := u.Add(-14 * time.Hour).In(c.loc).Zone()
	_, b := u.Add(38 * time.Hour).In(c.loc).Zone()
	return time.Duration(a) * time.Second, a == b
}

// maxClosedDays bounds the search for open time: a calendar closed for ten
// years in a row (holidays covering every working day) has none.
const maxClosedDays = 3660

// Add returns the instant at which d of business time has elapsed on the
// calendar, counting from start (see Duration for what a day is). Time
// before start, outside the open intervals and on holidays does not count.
// The result is in the calendar's zone; it is start itself for a zero d,
// and the end of an open interval when d ends exactly there (not the next
// opening). It returns the zero Time only if the calendar has no open time
// for ten years after start.
func (c *Calendar) Add(start time.Time, d Duration) time.Time {
	return c.AddTime(start, c.Budget(d))
}

// AddTime is Add for an amount of counted time (a time.Duration, not
// business days). A negative or zero amount returns start. On a business
// calendar time is counted on the wall clock (see Calendar); when the
// amount ends inside the hour a spring-forward change skips, the result is
// the instant of the change (03:00 in Europe/Berlin), where the wall clock
// passes that position.
func (c *Calendar) AddTime(start time.Time, rem time.Duration) time.Time {
	if rem <= 0 {
		return start
	}
	if c.always {
		return start.Add(rem).In(c.loc)
	}
	d0 := DateOf(start.In(c.loc))
	closed := 0
	for i := 0; closed < maxClosedDays; i++ {
		d := day(d0.Year, d0.Month, d0.Day+i)
		if !c.openDay(d) {
			closed++
			continue
		}
		closed = 0
		var prev time.Time
		for _, h := range c.hours {
			g := c.segment(d, h, &prev)
			if !g.e.After(start) {
				continue
			}
			base := g.countedAt(start)
			if avail := g.length - base; rem <= avail {
				return g.instant(base + rem)
			} else {
				rem -= avail
			}
		}
	}
	return time.Time{}
}

// Between returns the business time elapsed on the calendar from a to b:
// the open time of working days in [a, b), counted on the wall clock (see
// Calendar). It is negative when b is before a (-Between(b, a)). For the
// 24x7 calendar it is b.Sub(a), elapsed time.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if b.Before(a) {
		return -c.Between(b, a)
	}
	if c.always {
		return b.Sub(a)
	}
	if !b.After(a) {
		return 0
	}
	d0 := DateOf(a.In(c.loc))
	last := DateOf(b.In(c.loc)).key()
	var sum time.Duration
	for i := 0; ; i++ {
		d := day(d0.Year, d0.Month, d0.Day+i)
		if d.key() > last {
			return sum
		}
		if !c.openDay(d) {
			continue
		}
		var prev time.Time
		for _, h := range c.hours {
			g := c.segment(d, h, &prev)
			if n := g.countedAt(b) - g.countedAt(a); n > 0 {
				sum += n
			}
		}
	}
}

// segment is one open interval of one day, resolved to instants, with the
// wall-clock measure of the time inside it. Most intervals contain no DST
// change and their counted time is their elapsed time (simple). An
// interval that contains a change counts the wall clock's position: the
// hour a spring-forward change skips is passed at once, the hour a
// fall-back change repeats is counted once (the second pass counts
// nothing), so every interval counts its written length.
type segment struct {
	c      *Calendar
	d      Date
	start  time.Duration // written start, after local midnight of d
	s, e   time.Time     // resolved bounds; s no earlier than the previous interval's end
	length time.Duration // written length: the counted time of the whole interval
	simple bool
}

// segment resolves interval h on date d; *prev is the previous interval's
// resolved end on that day (zero for the first), updated to this one's.
func (c *Calendar) segment(d Date, h Hours, prev *time.Time) segment {
	off, plain := c.plainDay(d)
	s, e := c.spanOn(d, h, off, plain)
	s, *prev = later(s, *prev), later(e, *prev)
	g := segment{c: c, d: d, start: time.Duration(h.Start) * time.Minute, s: s, e: e,
		length: time.Duration(h.End-h.Start) * time.Minute}
	if plain {
		g.simple = true
		return g
	}
	_, change := s.ZoneBounds()
	g.simple = (change.IsZero() || !change.Before(e)) && e.Sub(s) == g.length && c.rawWall(s, d) == g.start
	return g
}

// countedAt is the counted time of the interval before t: 0 at or before
// its start, its length at or after its end.
func (g segment) countedAt(t time.Time) time.Duration {
	switch {
	case t.Before(g.s), t.Equal(g.s) && g.simple:
		return 0
	case !t.Before(g.e):
		return g.length
	case g.simple:
		return t.Sub(g.s)
	}
	// Not simple: at s itself the wall clock may already stand past the
	// written start (an interval starting in a skipped hour).
	n := g.c.wall(t, g.d) - g.start
	if n < 0 {
		return 0
	}
	if n > g.length {
		return g.length
	}
	return n
}

// instant is the first instant at which the interval has counted n
// (0 <= n <= length).
func (g segment) instant(n time.Duration) time.Time {
	if g.simple {
		return g.s.Add(n).In(g.c.loc)
	}
	if n >= g.length {
		return g.e.In(g.c.loc)
	}
	t := g.c.atWall(g.d, g.start+n)
	if t.Before(g.s) {
		return g.s.In(g.c.loc)
	}
	return t
}

// rawWall is the wall-clock reading of t in the calendar's zone, as time
// after local midnight of date d (24 h and more on the next day).
func (c *Calendar) rawWall(t time.Time, d Date) time.Duration {
	lt := t.In(c.loc)
	y, m, dd := lt.Date()
	days := time.Date(y, m, dd, 12, 0, 0, 0, time.UTC).Sub(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)) / (24 * time.Hour)
	return days*24*time.Hour + time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute +
		time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
}

// fallBack returns how far the wall clock went back at the change that
// started t's zone period, and that change, when t lies within that
// stretch after it (the wall clock shows a time it showed before); its
// end, the change plus the stretch, counts too when inclusive.
func (c *Calendar) fallBack(t time.Time, inclusive bool) (time.Duration, time.Time) {
	lt := t.In(c.loc)
	from, _ := lt.ZoneBounds()
	if from.IsZero() {
		return 0, time.Time{}
	}
	_, now := lt.Zone()
	_, before := from.Add(-time.Nanosecond).In(c.loc).Zone()
	back := time.Duration(before-now) * time.Second
	if in := t.Sub(from); back > 0 && (in < back || inclusive && in == back) {
		return back, from
	}
	return 0, time.Time{}
}

// wall is rawWall made monotonic: during the stretch a fall-back change
// repeats, the wall position stays where the clock stood before the change.
func (c *Calendar) wall(t time.Time, d Date) time.Duration {
	w := c.rawWall(t, d)
	if back, from := c.fallBack(t, false); back > 0 {
		w = w - t.Sub(from) + back
	}
	return w
}

// atWall is the first instant at which the wall clock of the calendar's
// zone shows w after local midnight of date d: the first pass of a time
// a fall-back change repeats, and the change itself for a time a
// spring-forward change skips. (time.Date leaves both choices open.)
func (c *Calendar) atWall(d Date, w time.Duration) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, int(w/time.Hour), 0, 0, int(w%time.Hour), c.loc)
	switch raw := c.rawWall(t, d); {
	case raw < w: // resolved before a skipped stretch
		_, change := t.ZoneBounds()
		return change
	case raw > w: // resolved after a skipped stretch
		change, _ := t.ZoneBounds()
		return change
	}
	// In the stretch a fall-back change repeats, or at its end: the wall
	// clock reached w first before the change (its end, the instant the
	// clock went back, for w at the end of the repeated stretch).
	if back, _ := c.fallBack(t, true); back > 0 {
		return t.Add(-back)
	}
	return t
}

// Open reports whether t lies inside an open interval of a working day
// (start inclusive, end exclusive). The 24x7 calendar is always open.
func (c *Calendar) Open(t time.Time) bool {
	if c.always {
		return true
	}
	d := DateOf(t.In(c.loc))
	if !c.openDay(d) {
		return false
	}
	for _, h := range c.hours {
		s, e := c.span(d, h)
		if !t.Before(s) && t.Before(e) {
			return true
		}
	}
	return false
}

// NextOpen returns t if the calendar is open at t, else the start of the
// next open interval after t, in the calendar's zone (zero Time only for
// a calendar with no open time for ten years).
func (c *Calendar) NextOpen(t time.Time) time.Time {
	if c.always {
		return t.In(c.loc)
	}
	d0 := DateOf(t.In(c.loc))
	closed := 0
	for i := 0; closed < maxClosedDays; i++ {
		d := day(d0.Year, d0.Month, d0.Day+i)
		if !c.openDay(d) {
			closed++
			continue
		}
		closed = 0
		var prev time.Time
		for _, h := range c.hours {
			s, e := c.span(d, h)
			s, prev = later(s, prev), later(e, prev)
			if !e.After(t) || !e.After(s) {
				continue
			}
			if !s.After(t) {
				return t.In(c.loc)
			}
			return s
		}
	}
	return time.Time{}
}

// HolidaysBetween lists the holidays on working weekdays whose dates lie in
// [a, b] (dates taken in the calendar's zone): the closed days that moved
// a due time. At most 400 are listed.
func (c *Calendar) HolidaysBetween(a, b time.Time) []Holiday {
	if c.always || b.Before(a) {
		return nil
	}
	d0 := DateOf(a.In(c.loc))
	last := DateOf(b.In(c.loc)).key()
	var out []Holiday
	for i := 0; len(out) < 400; i++ {
		d := day(d0.Year, d0.Month, d0.Day+i)
		if d.key() > last {
			break
		}
		if !c.days[weekday(d)] {
			continue
		}
		if n, ok := c.HolidayOn(d); ok {
			out = append(out, Holiday{d, n})
		}
	}
	return out
}
