package sla

import (
	"sync"
	"testing"
	"time"
)

func benchCal(b *testing.B) *Calendar {
	return mustCal(b, CalendarSpec{Name: "office", Timezone: "Europe/London", Days: weekdays,
		Hours: []string{"08:30-12:30", "13:30-17:30"}, Holidays: []string{"2026-12-24"}, HolidayCountry: "gb"})
}

func BenchmarkAdd10BusinessDays(b *testing.B) {
	c := benchCal(b)
	start := at(b, c, "2026-03-25 15:10")
	d := Duration{Days: 10}
	b.ReportAllocs()
	for b.Loop() {
		c.Add(start, d)
	}
}

func BenchmarkBetween10BusinessDays(b *testing.B) {
	c := benchCal(b)
	start := at(b, c, "2026-03-25 15:10")
	end := c.Add(start, Duration{Days: 10})
	b.ReportAllocs()
	for b.Loop() {
		c.Between(start, end)
	}
}

func BenchmarkBetweenOneYear(b *testing.B) {
	c := benchCal(b)
	start := at(b, c, "2026-01-05 09:00")
	end := at(b, c, "2027-01-05 09:00")
	b.ReportAllocs()
	for b.Loop() {
		c.Between(start, end)
	}
}

// A typical incident: started, handed over, paused and resumed, priority
// raised, answered, derived at a later tick.
func BenchmarkDerive(b *testing.B) {
	f := newFixture(b, "gb")
	ts := func(s string) time.Time { return f.at(b, s) }
	evs := []Event{
		{At: ts("2026-03-02 09:00"), Kind: Started, Party: "it", Policy: f.standard, Priority: "P3"},
		{At: ts("2026-03-02 10:00"), Kind: HandedOver, Party: "acme", Policy: f.acme},
		{At: ts("2026-03-02 11:00"), Kind: Paused},
		{At: ts("2026-03-03 09:00"), Kind: Resumed},
		{At: ts("2026-03-03 10:00"), Kind: PriorityChanged, Priority: "P2"},
		{At: ts("2026-03-03 10:30"), Kind: Met, Metric: Response},
	}
	now := ts("2026-03-10 12:00")
	esc := Escalation{WarnAt: 0.8, Levels: []Duration{{}, {Clock: 4 * time.Hour}, {Days: 1}}, Repeat: Duration{Days: 1}}
	b.ReportAllocs()
	for b.Loop() {
		s, err := Derive(evs, now)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range s.Current().Clocks {
			esc.Due(c, time.Time{}, time.Time{}, now)
		}
	}
}

// A Calendar is shared by every incident: concurrent use must be safe (run
// with -race).
func TestCalendarConcurrentUse(t *testing.T) {
	c := mustCal(t, CalendarSpec{Name: "office", Timezone: "Europe/London", Days: weekdays, Hours: []string{"08:00-18:00"}, HolidayCountry: "gb"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Date(2020+i, 12, 20, 9, 0, 0, 0, c.Location())
			end := c.Add(start, Duration{Days: 20})
			if got := c.Between(start, end); got != 200*time.Hour {
				t.Errorf("year %d: %s", 2020+i, got)
			}
		}()
	}
	wg.Wait()
}
