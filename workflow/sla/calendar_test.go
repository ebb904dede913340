package sla

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata"
)

func mustCal(t testing.TB, s CalendarSpec) *Calendar {
	t.Helper()
	c, err := ParseCalendar(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustDur(t testing.TB, s string) Duration {
	t.Helper()
	d, err := ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// at parses "2026-03-30 17:00" in the calendar's zone.
func at(t testing.TB, c *Calendar, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, c.Location())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var weekdays = []string{"mon", "tue", "wed", "thu", "fri"}

func office(t testing.TB) *Calendar { // Mon-Fri 08:00-18:00, Europe/London
	return mustCal(t, CalendarSpec{Name: "office", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:00-18:00"}})
}

func TestAdd(t *testing.T) {
	berlin7 := mustCal(t, CalendarSpec{Name: "seven", Timezone: "Europe/Berlin",
		Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Hours: []string{"08:00-20:00"}})
	close17 := mustCal(t, CalendarSpec{Name: "short", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:00-17:00"}})
	lunch := mustCal(t, CalendarSpec{Name: "lunch", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:30-12:30", "13:30-17:30"}})
	gbEaster := mustCal(t, CalendarSpec{Name: "gb", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:00-18:00"}, HolidayCountry: "gb"})
	deEaster := mustCal(t, CalendarSpec{Name: "de", Timezone: "Europe/Berlin", Days: weekdays, Hours: []string{"08:00-18:00"}, HolidayCountry: "de"})
	xmas := mustCal(t, CalendarSpec{Name: "xmas", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:30-12:30", "13:30-17:30"},
		Holidays: []string{"2026-12-25", "2026-12-28"}})
	tests := []struct {
		name  string
		cal   *Calendar
		start string
		d     string
		want  string // wall clock in the calendar's zone
	}{
		{"4h from Mon 17:00 is Tue 11:00", office(t), "2026-03-02 17:00", "4h", "2026-03-03 11:00"},
		{"30m at 16:50 with a 17:00 close is next day 08:20", close17, "2026-03-02 16:50", "30m", "2026-03-03 08:20"},
		{"Friday evening over the weekend", office(t), "2026-03-06 17:30", "1h", "2026-03-09 08:30"},
		{"created Saturday starts Monday", office(t), "2026-03-07 10:00", "10m", "2026-03-09 08:10"},
		{"ends exactly at the close", office(t), "2026-03-02 17:00", "1h", "2026-03-02 18:00"},
		{"zero is the start", office(t), "2026-03-07 10:00", "0m", "2026-03-07 10:00"},
		{"a business day is one full day", office(t), "2026-03-02 17:00", "1d", "2026-03-03 17:00"},
		{"3 business days over a weekend", office(t), "2026-03-05 09:00", "3d", "2026-03-10 09:00"},
		{"Berlin spring-forward Sunday: Sat 19:00 + 2h", berlin7, "2026-03-28 19:00", "2h", "2026-03-29 09:00"},
		{"Berlin fall-back Sunday: Sat 19:00 + 2h", berlin7, "2026-10-24 19:00", "2h", "2026-10-25 09:00"},
		{"lunch break is skipped", lunch, "2026-03-02 12:00", "1h", "2026-03-02 14:00"},
		{"lunch calendar day is 8h", lunch, "2026-03-02 08:30", "1d", "2026-03-02 17:30"},
		{"gb Good Friday and Easter Monday skipped", gbEaster, "2026-04-02 17:00", "2h", "2026-04-07 09:00"},
		{"de Karfreitag and Ostermontag skipped", deEaster, "2026-04-02 17:00", "2h", "2026-04-07 09:00"},
		{"explicit holidays skipped", xmas, "2026-12-24 17:00", "1h", "2026-12-29 09:00"},
		{"across a year", xmas, "2026-12-31 17:00", "1h", "2027-01-01 09:00"},
		{"gb New Year skipped", gbEaster, "2026-12-31 17:00", "2h", "2027-01-04 09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := at(t, tt.cal, tt.start)
			d := mustDur(t, tt.d)
			got := tt.cal.Add(start, d)
			if want := at(t, tt.cal, tt.want); !got.Equal(want) {
				t.Fatalf("Add(%s, %s) = %s, want %s", tt.start, tt.d, got, want)
			}
			if b := tt.cal.Between(start, got); b != tt.cal.Budget(d) {
				t.Fatalf("Between(start, Add) = %s, want %s", b, tt.cal.Budget(d))
			}
		})
	}
}

// A calendar open across the hour a DST change skips or repeats: a day is
// the same wall-clock time on the next open day, on both Sundays, in a zone
// where time.Date resolves skipped and repeated times one way (Berlin) and
// one where it resolves them the other way (New York).
func TestDayAcrossDSTNight(t *testing.T) {
	all := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	berlin := mustCal(t, CalendarSpec{Name: "night", Timezone: "Europe/Berlin", Days: all, Hours: []string{"01:00-05:00"}})
	ny := mustCal(t, CalendarSpec{Name: "night", Timezone: "America/New_York", Days: all, Hours: []string{"00:00-04:00"}})
	tests := []struct {
		name     string
		cal      *Calendar
		start, d string
		want     string
	}{
		{"Berlin spring: Sat 04:00 + 1d", berlin, "2026-03-28 04:00", "1d", "2026-03-29 04:00"},
		{"Berlin fall: Sat 04:00 + 1d", berlin, "2026-10-24 04:00", "1d", "2026-10-25 04:00"},
		{"Berlin spring: Sat 04:00 + 2d", berlin, "2026-03-28 04:00", "2d", "2026-03-30 04:00"},
		{"Berlin fall: Sun 01:30 + 1h is 02:30 CEST, the first pass", berlin, "2026-10-25 01:30", "1h", "2026-10-25 02:30"},
		{"Berlin spring: Sun 01:30 + 2h is 03:30 CEST", berlin, "2026-03-29 01:30", "2h", "2026-03-29 03:30"},
		{"Berlin spring: Sun 01:30 + 1h ends at the change, 03:00 CEST", berlin, "2026-03-29 01:30", "1h", "2026-03-29 03:00"},
		{"Berlin spring: Sun 01:00 + 1h ends at the change, 03:00 CEST", berlin, "2026-03-29 01:00", "1h", "2026-03-29 03:00"},
		{"New York spring: Sat 03:00 + 1d", ny, "2026-03-07 03:00", "1d", "2026-03-08 03:00"},
		{"New York fall: Sat 03:00 + 1d", ny, "2026-10-31 03:00", "1d", "2026-11-01 03:00"},
		{"New York fall: Sun 00:30 + 1h is 01:30 EDT, the first pass", ny, "2026-11-01 00:30", "1h", "2026-11-01 01:30"},
		{"New York spring: Sun 01:30 + 2h is 03:30 EDT", ny, "2026-03-08 01:30", "2h", "2026-03-08 03:30"},
		{"New York spring: Sun 01:30 + 1h ends at the change, 03:00 EDT", ny, "2026-03-08 01:30", "1h", "2026-03-08 03:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := at(t, tt.cal, tt.start)
			d := mustDur(t, tt.d)
			got := tt.cal.Add(start, d)
			want := at(t, tt.cal, tt.want)
			if strings.Contains(tt.name, "the first pass") {
				// "02:30" is ambiguous on that Sunday; the first pass is the
				// summer-time one, an hour before the second.
				_, off := want.Zone()
				if _, std := want.Add(2 * time.Hour).Zone(); off == std {
					want = want.Add(-time.Hour)
				}
			}
			if !got.Equal(want) {
				t.Fatalf("Add(%s, %s) = %s, want %s", tt.start, tt.d, got, want)
			}
			b := tt.cal.Between(start, got)
			if strings.Contains(tt.name, "ends at the change") {
				// The wall clock jumps past the amount at the change.
				if b <= tt.cal.Budget(d) {
					t.Fatalf("Between(start, Add) = %s, want more than %s", b, tt.cal.Budget(d))
				}
			} else if b != tt.cal.Budget(d) {
				t.Fatalf("Between(start, Add) = %s, want %s", b, tt.cal.Budget(d))
			}
		})
	}
}

// The first pass of the hour a fall-back change repeats counts, the
// second does not: an hour from 02:00 CEST ends at the change (03:00
// CEST, which the wall clock shows as 02:00 CET), where Between has
// counted the hour, not an hour later (a reply in the second pass is
// late by the wall clock the promise was made on).
func TestHourEndingAtFallBack(t *testing.T) {
	c := mustCal(t, CalendarSpec{Name: "night", Timezone: "Europe/Berlin", Days: []string{"sun"}, Hours: []string{"01:00-05:00"}})
	start := time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC) // 02:00 CEST
	change := time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)
	if got := c.AddTime(start, time.Hour); !got.Equal(change) {
		t.Errorf("AddTime(02:00 CEST, 1h) = %s, want the change %s", got, change.In(c.Location()))
	}
	if b := c.Between(start, change); b != time.Hour {
		t.Errorf("Between(02:00 CEST, the change) = %s, want 1h", b)
	}
	if b := c.Between(change, change.Add(time.Hour)); b != 0 {
		t.Errorf("the second pass counts %s, want 0", b)
	}
}

// Every start minute and amount across both DST nights of a calendar open
// through the change: Add is monotonic in the amount, and Between counts
// back exactly the amount, except that an amount ending inside the skipped
// hour ends at the change, where the wall clock has passed it.
func TestAddBetweenAcrossDSTNights(t *testing.T) {
	all := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe"} {
		c := mustCal(t, CalendarSpec{Name: "night", Timezone: zone, Days: all, Hours: []string{"00:30-02:15", "02:15-02:45", "02:50-05:00"}})
		atChange := 0
		for _, sunday := range []string{"2026-03-29", "2026-10-25", "2026-03-08", "2026-11-01", "2026-04-05", "2026-10-04"} {
			base := at(t, c, sunday+" 00:00").Add(-6 * time.Hour)
			for startMin := 0; startMin < 12*60; startMin += 13 {
				start := base.Add(time.Duration(startMin) * time.Minute)
				var last time.Time
				for amount := time.Duration(0); amount <= 6*time.Hour; amount += 7 * time.Minute {
					got := c.AddTime(start, amount)
					if got.Before(last) {
						t.Fatalf("%s: AddTime(%s, %s) = %s, before the result for a smaller amount %s", zone, start, amount, got, last)
					}
					last = got
					b := c.Between(start, got)
					if b == amount {
						continue
					}
					from, _ := got.ZoneBounds()
					if !(got.Equal(from) && b > amount && b-amount <= time.Hour) {
						t.Fatalf("%s: Between(%s, AddTime(+%s) = %s) = %s", zone, start, amount, got, b)
					}
					atChange++
				}
			}
		}
		if atChange == 0 { // the spring-forward nights must have been crossed
			t.Fatalf("%s: no amount ended in a skipped hour", zone)
		}
	}
}

func TestTwentyFourSevenAcrossSpringForward(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	c := TwentyFourSeven(berlin)
	start := time.Date(2026, 3, 29, 0, 30, 0, 0, berlin)
	got := c.Add(start, mustDur(t, "4h"))
	if got.Sub(start) != 4*time.Hour {
		t.Fatalf("24x7 + 4h = %s real, want 4h", got.Sub(start))
	}
	if w := got.In(berlin).Format("15:04"); w != "05:30" { // 4 real hours, one wall-clock hour skipped
		t.Fatalf("wall clock %s, want 05:30", w)
	}
	if c.Between(start, got) != 4*time.Hour || !c.Open(start) || !c.NextOpen(start).Equal(start) {
		t.Fatal("24x7 Between/Open/NextOpen")
	}
}

func TestBetween(t *testing.T) {
	lunch := mustCal(t, CalendarSpec{Name: "lunch", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:30-12:30", "13:30-17:30"}})
	berlinAllDay := mustCal(t, CalendarSpec{Name: "allday", Timezone: "Europe/Berlin", Days: []string{"sun"}, Hours: []string{"00:00-24:00"}})
	berlinGap := mustCal(t, CalendarSpec{Name: "gap", Timezone: "Europe/Berlin", Days: []string{"sun"}, Hours: []string{"01:00-02:30", "03:00-04:00"}})
	tests := []struct {
		name string
		cal  *Calendar
		a, b string
		want time.Duration
	}{
		{"created Saturday, answered Monday 08:10", office(t), "2026-03-07 11:00", "2026-03-09 08:10", 10 * time.Minute},
		{"same interval", office(t), "2026-03-02 09:00", "2026-03-02 09:45", 45 * time.Minute},
		{"over lunch", lunch, "2026-03-02 12:00", "2026-03-02 14:00", time.Hour},
		{"a full week", office(t), "2026-03-02 00:00", "2026-03-09 00:00", 50 * time.Hour},
		{"reversed is negative", office(t), "2026-03-09 08:10", "2026-03-07 11:00", -10 * time.Minute},
		// A business calendar counts on the wall clock: an interval counts
		// its written length on both DST Sundays.
		{"spring-forward Sunday 00:00-24:00 counts 24h", berlinAllDay, "2026-03-28 12:00", "2026-03-30 12:00", 24 * time.Hour},
		{"intervals in the spring-forward gap count their written length", berlinGap, "2026-03-28 12:00", "2026-03-30 12:00", 150 * time.Minute},
		{"the same intervals on an ordinary Sunday", berlinGap, "2026-03-21 12:00", "2026-03-23 12:00", 150 * time.Minute},
		{"fall-back Sunday 00:00-24:00 counts 24h", berlinAllDay, "2026-10-24 12:00", "2026-10-26 12:00", 24 * time.Hour},
		{"spring-forward: 01:00 to 03:30 CEST is 2h30 on the wall", berlinAllDay, "2026-03-29 01:00", "2026-03-29 03:30", 150 * time.Minute},
		{"fall-back: 01:00 to 03:30 CET is 2h30 on the wall", berlinAllDay, "2026-10-25 01:00", "2026-10-25 03:30", 150 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cal.Between(at(t, tt.cal, tt.a), at(t, tt.cal, tt.b)); got != tt.want {
				t.Fatalf("Between = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestOpenNextOpen(t *testing.T) {
	lunch := mustCal(t, CalendarSpec{Name: "lunch", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:30-12:30", "13:30-17:30"}, HolidayCountry: "gb"})
	tests := []struct {
		name string
		t    string
		open bool
		next string
	}{
		{"inside morning", "2026-03-02 09:00", true, "2026-03-02 09:00"},
		{"at opening", "2026-03-02 08:30", true, "2026-03-02 08:30"},
		{"at lunch start (end exclusive)", "2026-03-02 12:30", false, "2026-03-02 13:30"},
		{"evening", "2026-03-02 18:00", false, "2026-03-03 08:30"},
		{"Saturday", "2026-03-07 10:00", false, "2026-03-09 08:30"},
		{"Good Friday", "2026-04-03 10:00", false, "2026-04-07 08:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := at(t, lunch, tt.t)
			if got := lunch.Open(v); got != tt.open {
				t.Fatalf("Open = %v, want %v", got, tt.open)
			}
			if got, want := lunch.NextOpen(v), at(t, lunch, tt.next); !got.Equal(want) {
				t.Fatalf("NextOpen = %s, want %s", got, want)
			}
		})
	}
}

func TestParseCalendarErrors(t *testing.T) {
	ok := CalendarSpec{Name: "office", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:30-12:30"}}
	tests := []struct {
		name   string
		change func(*CalendarSpec)
		want   string
	}{
		{"utc offset", func(s *CalendarSpec) { s.Timezone = "+01:00" }, `calendar "office": timezone "+01:00": a UTC offset`},
		{"utc plus", func(s *CalendarSpec) { s.Timezone = "UTC+2" }, `timezone "UTC+2": a UTC offset`},
		{"etc gmt", func(s *CalendarSpec) { s.Timezone = "Etc/GMT-1" }, `timezone "Etc/GMT-1": a UTC offset`},
		{"empty zone", func(s *CalendarSpec) { s.Timezone = "" }, `timezone: empty`},
		{"unknown zone", func(s *CalendarSpec) { s.Timezone = "Europe/Atlantis" }, `timezone "Europe/Atlantis": not a known IANA zone`},
		{"bad day", func(s *CalendarSpec) { s.Days = []string{"mon", "funday"} }, `days: "funday" is not a weekday`},
		{"no days", func(s *CalendarSpec) { s.Days = nil }, `no working days`},
		{"twice", func(s *CalendarSpec) { s.Days = []string{"mon", "Monday"} }, `weekday Monday listed twice`},
		{"bad hours", func(s *CalendarSpec) { s.Hours = []string{"8:30-12"} }, `hours "8:30-12": want "HH:MM-HH:MM"`},
		{"backwards hours", func(s *CalendarSpec) { s.Hours = []string{"12:30-08:30"} }, `hours "12:30-08:30": the start must be before the end`},
		{"overlap", func(s *CalendarSpec) { s.Hours = []string{"08:00-12:00", "11:00-13:00"} }, `hours 11:00-13:00 overlap 08:00-12:00`},
		{"no hours", func(s *CalendarSpec) { s.Hours = nil }, `no hours`},
		{"bad holiday", func(s *CalendarSpec) { s.Holidays = []string{"2026-02-30"} }, `holidays: "2026-02-30" is not a date`},
		{"bad country", func(s *CalendarSpec) { s.HolidayCountry = "xx" }, `holiday_country "xx": unknown`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.change(&s)
			_, err := ParseCalendar(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	c, err := ParseCalendar(CalendarSpec{Name: "full", Timezone: "UTC", Days: []string{"Sun"}, Hours: []string{"00:00-24:00"}})
	if err != nil || c.DayLength() != 24*time.Hour {
		t.Fatalf("00:00-24:00: %v %v", c, err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name, in string
		want     Duration
		err      string
	}{
		{"minutes", "30m", Duration{Clock: 30 * time.Minute}, ""},
		{"hours", "4h", Duration{Clock: 4 * time.Hour}, ""},
		{"days", "3d", Duration{Days: 3}, ""},
		{"mixed", "1d4h30m", Duration{Days: 1, Clock: 4*time.Hour + 30*time.Minute}, ""},
		{"zero", "0m", Duration{}, ""},
		{"empty", "", Duration{}, "empty"},
		{"no unit", "30", Duration{}, "want a whole number followed by"},
		{"seconds", "30s", Duration{}, `unknown unit "s"`},
		{"negative", "-1h", Duration{}, "want a whole number"},
		{"order", "4h1d", Duration{}, "in the order d, h, m"},
		{"fraction", "1.5h", Duration{}, `unknown unit "."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), tt.in) {
					t.Fatalf("err = %v, want %q naming %q", err, tt.err, tt.in)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
			if back, _ := ParseDuration(got.String()); back != got {
				t.Fatalf("String %q does not parse back", got.String())
			}
		})
	}
}

// The library dates come "at the start of the day in the system location":
// the civil date must not depend on the host's zone.
func TestPublicHolidaysIndependentOfLocal(t *testing.T) {
	saved := time.Local
	defer func() { time.Local = saved }()
	for _, z := range []string{"Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"} {
		time.Local, _ = time.LoadLocation(z)
		c := mustCal(t, CalendarSpec{Name: "gb", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:00-18:00"}, HolidayCountry: "gb"})
		got := c.HolidaysBetween(at(t, c, "2026-04-01 00:00"), at(t, c, "2026-04-30 00:00"))
		if len(got) != 2 || got[0].Date.String() != "2026-04-03" || got[1].Date.String() != "2026-04-06" {
			t.Fatalf("Local=%s: %v, want Good Friday 2026-04-03 and Easter Monday 2026-04-06", z, got)
		}
		// US New Year 2022 is a Saturday: observed on Friday 31 December 2021.
		us := mustCal(t, CalendarSpec{Name: "us", Timezone: "America/New_York", Days: weekdays, Hours: []string{"09:00-17:00"}, HolidayCountry: "us"})
		if n, ok := us.HolidayOn(Date{2021, 12, 31}); !ok || n != "New Year's Day (observed)" {
			t.Fatalf("Local=%s: 2021-12-31 = %q %v, want New Year's Day (observed)", z, n, ok)
		}
		// Boxing Day 2026 is a Saturday: observed on Monday 28 December.
		if n, ok := c.HolidayOn(Date{2026, 12, 28}); !ok || !strings.Contains(n, "observed") {
			t.Fatalf("Local=%s: 2026-12-28 = %q %v, want Boxing Day (observed)", z, n, ok)
		}
	}
}

func FuzzBetweenAdd(f *testing.F) {
	f.Add(int64(0), int64(90), uint8(0))
	f.Add(int64(86400*87+3600*19), int64(60*125), uint8(1))
	f.Add(int64(86400*297+3600*23), int64(60*60*30), uint8(2))
	f.Add(int64(86400*86+3600*23), int64(60*200), uint8(3))
	cals := []*Calendar{
		mustCal(f, CalendarSpec{Name: "lunch", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:30-12:30", "13:30-17:30"}, HolidayCountry: "gb"}),
		mustCal(f, CalendarSpec{Name: "seven", Timezone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Hours: []string{"00:00-03:00", "08:00-20:00", "23:00-24:00"}}),
		mustCal(f, CalendarSpec{Name: "ny", Timezone: "America/New_York", Days: []string{"sun", "sat", "wed"}, Hours: []string{"01:00-02:30", "09:00-17:00"}, HolidayCountry: "us"}),
		mustCal(f, CalendarSpec{Name: "gap", Timezone: "Europe/Berlin", Days: []string{"sun", "mon"}, Hours: []string{"01:00-02:30", "02:40-02:50", "03:00-04:00"}}),
		TwentyFourSeven(nil),
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	f.Fuzz(func(t *testing.T, off int64, mins int64, ci uint8) {
		c := cals[int(ci)%len(cals)]
		a := time.Unix(base+off%(86400*800), 0)
		d := time.Duration(mins%(60*24*30)) * time.Minute
		if d < 0 {
			d = -d
		}
		end := c.AddTime(a, d)
		if got := c.Between(a, end); got != d {
			t.Fatalf("%s: Between(%s, Add(%s)=%s) = %s", c.Name(), a, d, end, got)
		}
		if d > 0 && !c.Open(end.Add(-time.Nanosecond)) {
			t.Fatalf("%s: Add(%s, %s) = %s ends outside open time", c.Name(), a, d, end)
		}
	})
}

func TestParseCalendarIssueExample(t *testing.T) {
	c := mustCal(t, CalendarSpec{Name: "office", Timezone: "Europe/London", Days: weekdays,
		Hours: []string{"13:30-17:30", "08:30-12:30"}, Holidays: []string{"2026-12-25", "2026-12-28"}, HolidayCountry: "GB"})
	if got, want := c.String(), "office (Europe/London; Mon Tue Wed Thu Fri 08:30-12:30, 13:30-17:30; 2 holidays; public holidays: gb)"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
	if c.DayLength() != 8*time.Hour || c.Budget(Duration{Days: 3, Clock: time.Hour}) != 25*time.Hour {
		t.Fatalf("day length %s", c.DayLength())
	}
	if n, ok := c.HolidayOn(Date{2026, 12, 25}); !ok || n != "holiday" {
		t.Fatalf("2026-12-25: %q %v", n, ok)
	}
}
