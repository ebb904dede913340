package config

import (
	"strings"
	"testing"
	"time"
)

// slaConf is issue 11's example configuration.
const slaConf = `[[calendar]]
name = "office"
timezone = "Europe/London"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["08:30-12:30", "13:30-17:30"]
holidays = ["2026-12-25", "2026-12-28"]
holiday_country = "gb"

[[sla]]
name = "standard"
calendar = "office"
targets = [
  { priority = "P1", response = "30m", resolution = "4h", clock = "24x7" },
  { priority = "P2", response = "1h",  resolution = "8h" },
  { priority = "P3", response = "4h",  resolution = "3d" },
  { priority = "P4", response = "1d",  resolution = "10d" },
]

[[sla]]
name = "acme-contract"
calendar = "office"
targets = [
  { priority = "P1", response = "15m", resolution = "2h", clock = "24x7" },
  { priority = "P3", response = "2h",  resolution = "2d" },
]

[[team]]
name = "it"
members = ["alice@example.com"]
chain = ["lead@example.com", "manager@example.com"]
sla = "standard"

[[provider]]
name = "acme"
domains = ["acme-it.example"]
intake = "servicedesk@acme-it.example"
sla = "acme-contract"

[[priority_rule]]
priority = "P1"
keywords = ["outage", "down for everyone", "cannot work", "server down"]

[escalation]
warn_at = 0.8
levels = ["0m", "4h", "1d"]
repeat = "1d"

[routing]
default_assignee = "it"
`

func TestSLAConfig(t *testing.T) {
	c, err := Parse("t.toml", []byte(minimal+slaConf))
	if err != nil {
		t.Fatal(err)
	}
	std, acme := c.Policy("it"), c.Policy("acme")
	if std == nil || std.Name != "standard" || acme == nil || acme.Name != "acme-contract" {
		t.Fatalf("policies: %+v %+v", std, acme)
	}
	p3 := std.Target("P3")
	if p3 == nil || p3.Clock != "business" || p3.ResolutionDur.Days != 3 || p3.ResponseDur.Clock != 4*time.Hour || std.CalendarOf(p3).Name() != "office" {
		t.Errorf("P3 target: %+v", p3)
	}
	if p1 := acme.Target("P1"); p1 == nil || !std.CalendarOf(p1).Is24x7() {
		t.Errorf("P1 target: %+v", p1)
	}
	if acme.Target("P2") != nil {
		t.Error("a priority without a target has a target")
	}
	if e := c.Escalation; len(e.LevelDurs) != 3 || e.LevelDurs[1].Clock != 4*time.Hour || e.RepeatDur.Days != 1 || e.WarnAt != 0.8 {
		t.Errorf("escalation: %+v", e)
	}
	// Without sla on a team, the first policy; without any, none.
	c2, err := Parse("t.toml", []byte(minimal+strings.Replace(slaConf, "sla = \"acme-contract\"\n", "", 1)))
	if err != nil || c2.Policy("acme").Name != "standard" {
		t.Fatalf("default policy: %v", err)
	}
	c3, _ := Parse("t.toml", []byte(minimal+routingConf))
	if c3.Policy("it") != nil {
		t.Error("a policy without any [[sla]]")
	}
}

func TestSLAConfigErrors(t *testing.T) {
	for _, c := range []struct{ name, old, new, want string }{
		{"UTC offset", `timezone = "Europe/London"`, `timezone = "+01:00"`, `t.toml:5: [[calendar]] "office" timezone:`},
		{"bad hours", `"13:30-17:30"]`, `"13:30-17"]`, `[[calendar]] "office" hours:`},
		{"bad day", `"fri"]`, `"fry"]`, `[[calendar]] "office" days: "fry" is not a weekday`},
		{"unknown calendar", `calendar = "office"
targets = [
  { priority = "P1", response = "15m"`, `calendar = "offices"
targets = [
  { priority = "P1", response = "15m"`, `[[sla]] "acme-contract" calendar: "offices" is not the name of a [[calendar]]`},
		{"bad duration", `response = "4h",  resolution = "3d"`, `response = "4 hours",  resolution = "3d"`, `t.toml:17: [[sla]] "standard" targets: P3 response: duration "4 hours"`},
		{"resolution before response", `response = "1h",  resolution = "8h"`, `response = "8h",  resolution = "1h"`, `t.toml:16: [[sla]] "standard" targets: P2: resolution 1h is sooner than response 8h`},
		{"resolution before response in days", `response = "1d",  resolution = "10d"`, `response = "2d",  resolution = "1d"`, `t.toml:18: [[sla]] "standard" targets: P4: resolution 1d is sooner than response 2d`},
		{"resolution before response, a day against hours", `response = "1d",  resolution = "10d"`, `response = "1d",  resolution = "7h"`, `t.toml:18: [[sla]] "standard" targets: P4: resolution 7h is sooner than response 1d`},
		{"no working day", `"fri"]`, `"fri", "fri"]`, `[[calendar]] "office" days: weekday Friday listed twice`},
		{"target in the second policy", `{ priority = "P3", response = "2h",  resolution = "2d" }`, `{ priority = "P3", response = "2h",  resolution = "2d", clock = "never" }`, `t.toml:26: [[sla]] "acme-contract" targets: P3: clock must be`},
		{"bad clock", `clock = "24x7" },
  { priority = "P2"`, `clock = "always" },
  { priority = "P2"`, `t.toml:15: [[sla]] "standard" targets: P1: clock must be "business" or "24x7", got "always"`},
		{"unknown policy", `sla = "acme-contract"`, `sla = "acme"`, `t.toml:39: [[provider]] "acme" sla: "acme" is not the name of an [[sla]]`},
		{"levels decrease", `levels = ["0m", "4h", "1d"]`, `levels = ["0m", "4h", "1h"]`, `[escalation] levels: levels must not decrease: 1h after 4h`},
		{"warn_at", `warn_at = 0.8`, `warn_at = 1.5`, `[escalation] warn_at: must be more than 0 and less than 1, got 1.5`},
		{"rule priority", `priority = "P1"
keywords = ["outage"`, `priority = "P0"
keywords = ["outage"`, `[[priority_rule]] #1 priority: must be P1-P5, got "P0"`},
	} {
		text := strings.Replace(slaConf, c.old, c.new, 1)
		if text == slaConf {
			t.Fatalf("%s: the replacement did not apply", c.name)
		}
		_, err := Parse("t.toml", []byte(minimal+text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// Targets written as [[sla.targets]] tables: an error names the target's
// own line; hours against days are different terms and both stand.
func TestSLATargetTables(t *testing.T) {
	conf := `[[calendar]]
name = "office"
timezone = "Europe/London"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00-17:00"]

[[sla]]
name = "standard"

[[sla.targets]]
priority = "P1"
response = "30m"
resolution = "4h"

[[sla.targets]]
priority = "P2"
response = "4h"
resolution = "1d"

[[sla.targets]]
priority = "P3"
response = "9h"
resolution = "3h"

[routing]
default_assignee = "it"
`
	_, err := Parse("t.toml", []byte(minimal+conf))
	want := `t.toml:23: [[sla]] "standard" targets: P3: resolution 3h is sooner than response 9h`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
	if strings.Contains(err.Error(), "P2") {
		t.Errorf("4h against 1d are different terms and stand: %v", err)
	}
}
