package sla

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is an amount of clock time as written in a target or an
// escalation delay: whole Days plus a Clock part (hours and minutes).
//
// A day is one full day of the calendar the duration is measured on: on a
// business calendar it is the open time of one working day (for
// "08:30-12:30", "13:30-17:30" that is 8 h), on the 24x7 calendar it is
// 24 h of elapsed time. Everything else (hours, minutes) is measured
// inside the calendar's open intervals, on the wall clock on a business
// calendar (so a DST change does not lengthen or shorten an open day) and
// as elapsed time on 24x7. Calendar.Budget turns
// a Duration into the time.Duration of counted time it stands for.
//
// The zero Duration is zero time (a "0m" escalation level).
type Duration struct {
	Days  int           // whole calendar days (business days on a business calendar)
	Clock time.Duration // hours and minutes of counted time; multiple of a minute when parsed
}

// ParseDuration parses the duration strings of the configuration: a
// sequence of a decimal whole number and a unit, units "d" (calendar day, see
// Duration), "h" and "m", each at most once and in that order, e.g. "30m",
// "4h", "3d", "1d4h", "2h30m", "0m". Negative, empty, fractional and
// unknown units are errors naming the value.
func ParseDuration(s string) (Duration, error) {
	var d Duration
	rest := strings.TrimSpace(s)
	if rest == "" {
		return d, fmt.Errorf("duration %q: empty (want e.g. \"30m\", \"4h\", \"3d\", \"1d4h\")", s)
	}
	order := "dhm"
	last := -1
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return Duration{}, fmt.Errorf("duration %q: want a whole number followed by d, h or m (e.g. \"30m\", \"4h\", \"3d\")", s)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n > 100000 {
			return Duration{}, fmt.Errorf("duration %q: number %q out of range", s, rest[:i])
		}
		u := strings.IndexByte(order, rest[i])
		if u < 0 {
			return Duration{}, fmt.Errorf("duration %q: unknown unit %q (want d, h or m)", s, rest[i:i+1])
		}
		if u <= last {
			return Duration{}, fmt.Errorf("duration %q: units must appear once each, in the order d, h, m", s)
		}
		last = u
		switch order[u] {
		case 'd':
			d.Days = n
		case 'h':
			d.Clock += time.Duration(n) * time.Hour
		case 'm':
			d.Clock += time.Duration(n) * time.Minute
		}
		rest = rest[i+1:]
	}
	return d, nil
}

// IsZero reports whether d is no time at all.
func (d Duration) IsZero() bool { return d.Days == 0 && d.Clock == 0 }

// String formats d in the syntax ParseDuration reads ("1d4h30m", "0m").
func (d Duration) String() string {
	var b strings.Builder
	if d.Days != 0 {
		fmt.Fprintf(&b, "%dd", d.Days)
	}
	h := d.Clock / time.Hour
	m := (d.Clock % time.Hour) / time.Minute
	rem := d.Clock % time.Minute
	if h != 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m != 0 || b.Len() == 0 && rem == 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if rem != 0 {
		fmt.Fprintf(&b, "+%s", rem)
	}
	return b.String()
}
