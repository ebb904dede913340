package sla

import (
	"testing"
	"time"
)

// Random pauses, resumes, priority changes and hand-overs: the due time does
// not depend on when the clocks are derived, and a clock derived at its
// breach time has counted exactly its budget.
func FuzzDerive(f *testing.F) {
	f.Add([]byte{1, 30, 2, 90, 3, 10, 4, 200})
	f.Add([]byte{3, 5, 1, 250, 2, 10, 3, 7, 4, 1})
	fx := newFixture(f, "gb")
	start := fx.at(f, "2026-03-27 16:00")
	prios := []string{"P1", "P2", "P3", "P4"}
	f.Fuzz(func(t *testing.T, ops []byte) {
		evs := []Event{{At: start, Kind: Started, Party: "it", Policy: fx.standard, Priority: "P2"}}
		tm := start
		for i := 0; i+1 < len(ops) && i < 40; i += 2 {
			tm = tm.Add(time.Duration(ops[i+1]) * 7 * time.Minute)
			switch ops[i] % 5 {
			case 0, 1:
				evs = append(evs, Event{At: tm, Kind: Paused})
			case 2:
				evs = append(evs, Event{At: tm, Kind: Resumed})
			case 3:
				evs = append(evs, Event{At: tm, Kind: PriorityChanged, Priority: prios[int(ops[i+1])%4]})
			case 4:
				if ops[i+1]%2 == 0 {
					evs = append(evs, Event{At: tm, Kind: HandedOver, Party: "acme", Policy: fx.acme})
				} else {
					evs = append(evs, Event{At: tm, Kind: HandedOver, Party: "it", Policy: fx.standard})
				}
			}
		}
		now1 := tm.Add(time.Minute)
		s1, err := Derive(evs, now1)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range s1.Current().Clocks {
			if !c.HasTarget {
				continue
			}
			if c.Running && !c.Breached {
				// Later derivations before the due time give the same due time.
				later := now1.Add(c.Due.Sub(now1) / 2)
				s2, err := Derive(evs, later)
				if err != nil {
					t.Fatal(err)
				}
				if c2 := s2.Current().Clock(c.Metric, c.Party); !c2.Due.Equal(c.Due) || c2.Breached {
					t.Fatalf("%s/%q: due %s at %s, %s (breached %v) at %s", c.Metric, c.Party, c.Due, now1, c2.Due, c2.Breached, later)
				}
				s3, _ := Derive(evs, c.Due)
				if c3 := s3.Current().Clock(c.Metric, c.Party); !c3.Breached || !c3.BreachedAt.Equal(c.Due) || c3.Elapsed != c.Budget {
					t.Fatalf("%s/%q at due %s: breached %v at %s, elapsed %s of %s", c.Metric, c.Party, c.Due, c3.Breached, c3.BreachedAt, c3.Elapsed, c3.Budget)
				}
			}
			if c.Elapsed < 0 || c.Remaining != c.Budget-c.Elapsed {
				t.Fatalf("%s/%q: elapsed %s remaining %s budget %s", c.Metric, c.Party, c.Elapsed, c.Remaining, c.Budget)
			}
		}
	})
}
