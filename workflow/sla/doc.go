// Package sla computes helpdeskd's service-level clocks: business time on
// working calendars, the due times and breaches of response and resolution
// targets, and which escalation notices are due.
//
// It is pure: it imports only the standard library and the holiday dates
// of github.com/rickar/cal/v2, reads no clock (every function is given
// its "now"), does no I/O and keeps no state between calls. The engine
// stores clock events and calls Derive on every tick and state change;
// the same events always give the same clocks.
//
// # Terms (ITIL)
//
// A policy ([[sla]] in the configuration) is a service level agreement
// with the requesters, or a provider's underpinning contract. For each
// priority it may set a response target (time until the responsible
// party's first human reply) and a resolution target (time until the
// incident is resolved); a priority without a target has no clock.
// Targets count business time on the policy's calendar, or elapsed time
// around the clock for clock = "24x7" targets. A breach is the instant a
// clock's counted time reaches its target. The clock is paused while the
// incident waits on the requester ("waiting on customer"): paused time
// does not count, and a paused clock neither warns nor escalates.
//
// # Calendars and business time
//
// A Calendar is an IANA zone (never a UTC offset; see LoadZone), working
// weekdays, one or more open intervals a day ("08:30-12:30",
// "13:30-17:30") and closed dates: explicit ones and, optionally, a
// country's public holidays (Countries). Business time is the time that
// lies inside open intervals of working days, counted on the wall clock
// of the calendar's zone: an interval always counts its written length.
//
// Traps it handles:
//   - DST: each day's intervals are resolved with time.Date(y, m, d+i, hh,
//     mm, 0, 0, zone), never by adding 24 h or a duration to midnight, so
//     an 08:00 opening is 08:00 on both DST Sundays. An interval spanning
//     the change counts its written length on the wall clock (00:00-24:00
//     is 24 h on both Sundays): the hour a spring-forward change skips is
//     passed at once, the hour a fall-back change repeats counts once. So a
//     business day is always DayLength, and "1d" from Saturday 04:00 is
//     Sunday 04:00 on both DST Sundays. A bound or a due time in a skipped
//     hour resolves to the change (03:00 in Europe/Berlin); one in a
//     repeated hour to its first pass. time.Date leaves both open and
//     resolves them differently by zone, so they are resolved explicitly
//     (atWall). The 24x7 calendar counts elapsed time.
//   - Lunch breaks: any number of intervals a day.
//   - Holidays: the library gives dates only (its own business-hour
//     arithmetic is wrong across DST and is not used). Its dates are "the
//     start of the day in the system location"; only the civil date is
//     kept, so the host's zone does not matter. Both the actual and the
//     observed date of a holiday are closed (Boxing Day 2026, a Saturday,
//     also closes Monday 28 December).
//   - Concurrency: a Calendar is immutable apart from a per-year holiday
//     cache guarded by sync.Map; share one calendar between goroutines.
//
// # Units
//
// Duration is what targets and escalation delays are written in
// (ParseDuration: "30m", "4h", "3d", "1d4h"): whole Days plus a Clock
// part. A day is one full day of the calendar it is counted on: on a
// business calendar the open time of one working day (Calendar.DayLength,
// 8 h for 08:30-12:30 + 13:30-17:30), on the 24x7 calendar 24 h. So "3d"
// from Monday 10:00 is Thursday 10:00 on a Mon–Fri calendar, and
// Calendar.Budget(d) is the counted time.Duration it stands for.
// Everything else is time.Duration of counted time (wall-clock time inside
// open intervals; elapsed time on 24x7) and time.Time instants; results
// are in the calendar's zone.
//
//   - Calendar.Add(start, Duration) time.Time: the instant the duration of
//     business time has passed (AddTime for a time.Duration). Ending exactly
//     at a close gives the close, not the next opening.
//   - Calendar.Between(a, b) time.Duration: business time from a to b
//     (negative if b < a); Between(a, AddTime(a, d)) == d, except that an
//     amount ending in a skipped hour ends at the change, where Between
//     counts the whole skipped stretch.
//   - Calendar.Open(t) bool, Calendar.NextOpen(t) time.Time.
//   - Calendar.HolidaysBetween(a, b) []Holiday: closed working weekdays.
//
// # Derived clocks
//
// Clocks are derived, not mutated: Derive(events, now) replays an
// incident's Events (Started, Paused, Resumed, Met, HandedOver,
// PriorityChanged, Reopened) against the policies they carry and returns,
// per Generation, one Clock per metric for the promise to the requester
// and one per metric for each party that held the incident (RASCI
// responsible: the assigned team or provider). A Clock gives Due, Elapsed,
// Remaining, Fraction (compare with warn_at), Running/Paused/Stopped/Met,
// and Breached, BreachedAt and BreachedBy:
//
//   - the promise's clocks count all of the generation except pauses;
//   - a party's clocks count the time the incident was theirs (a hand-over
//     to a provider starts its response clock under its contract; the
//     previous holder's clocks stop and continue if it gets the incident
//     back);
//   - a breach is attributed to the party that held the incident when the
//     target passed;
//   - a priority change applies the new targets to the time already counted
//     (a pause of 2 h stays excluded); if what is counted already exceeds
//     the new target, the breach is at the change;
//   - a reopen starts a new generation with fresh clocks; earlier
//     generations stay as measured.
//
// Due times are computed from the last event, so they do not drift between
// ticks. Explain(clock) says why a due time is what it is (calendar,
// pauses, holidays skipped, priority changes, hand-overs, time not
// counted), as data and in words for escalation mail.
//
// # Escalation
//
// Escalation (the [escalation] keys warn_at, levels, repeat) decides with
// Due(clock, acknowledgedAt, resolvedAt, now) which Notices are due: a
// warning at warn_at (for business-time targets only while the calendar
// is open, so a warning reached at Friday's close goes out at Monday's
// opening), chain level i once the clock has counted levels[i] past its
// target, and the latest reminder every repeat after the last level.
// Delays count on the clock itself (business time for business targets;
// pauses hold them back). Nothing is due once acknowledged or resolved.
// Notice.Key gives the once-only key (incident, metric[@party], level,
// generation) under which the tick records and sends each notice.
package sla
