package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const minimal = `[helpdesk]
address = "support@example.com"
`

// TestProblemsNotifyEveryDefault: [problems] notify_every is 4h unless set.
func TestProblemsNotifyEveryDefault(t *testing.T) {
	c, err := Parse("t.toml", []byte(minimal+"[problems]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Problems.NotifyEvery.Duration != 4*time.Hour {
		t.Errorf("notify_every default %s, want 4h", c.Problems.NotifyEvery.Duration)
	}
}

// TestProblemsZeroIsAnError: a [problems] duration or number written out
// as 0 is refused with the key and its line, not taken for the default
// ("notify_every = \"0s\"" would otherwise mean four hours).
func TestProblemsZeroIsAnError(t *testing.T) {
	for _, kv := range []string{`notify_every = "0s"`, `window = "0h"`, `threshold = 0`, `similarity = 0.0`} {
		_, err := Parse("t.toml", []byte(minimal+"[problems]\n"+kv+"\n"))
		name, _, _ := strings.Cut(kv, " ")
		if err == nil || !strings.Contains(err.Error(), "[problems] "+name) || !strings.Contains(err.Error(), "got 0") || !strings.Contains(err.Error(), "t.toml:4") {
			t.Errorf("%s: %v, want an error naming [problems] %s at t.toml:4", kv, err, name)
		}
	}
}

// TestDurationTooLong: a duration of more days than time.Duration holds
// is refused, not wrapped round to a small or negative one.
func TestDurationTooLong(t *testing.T) {
	_, err := Parse("t.toml", []byte(minimal+"[problems]\nwindow = \"99999999d\"\n"))
	if err == nil || !strings.Contains(err.Error(), "more than 36500 days") || !strings.Contains(err.Error(), "t.toml:4") {
		t.Errorf("window of 99999999 days: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("t.toml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Commands.BorderReceived != 1 || c.Helpdesk.KeyPrefix != "HD" || c.Database.URL != DefaultDatabaseURL || !c.IMAP.Idle || c.IMAP.Port != 993 || c.SMTP.Port != 587 {
		t.Fatalf("defaults: %+v", c)
	}
}

const routingConf = `[[team]]
name = "it"
members = ["alice@example.com"]
[[provider]]
name = "acme"
domains = ["acme-it.example"]
intake = "servicedesk@acme-it.example"
[routing]
default_assignee = "it"
`

func TestErrorsNameFileLineAndKey(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"unknown key", minimal + "colour = \"red\"\n", "t.toml:3: [helpdesk] colour: unknown key"},
		{"unknown section", minimal + "[imapp]\nhost = \"x\"\n", "t.toml:4: [imapp] host: unknown key"},
		{"port zero", minimal + "[imap]\nhost = \"imap.example.com\"\nusername = \"u\"\npassword = \"p\"\nport = 0\n", "t.toml:7: [imap] port: must be 1-65535, got 0"},
		{"bad port", minimal + "[smtp]\nhost = \"smtp.example.com\"\nport = 70000\n", "t.toml:5: [smtp] port: must be 1-65535, got 70000"},
		{"none on a remote host", minimal + "[imap]\nhost = \"imap.example.com\"\nsecurity = \"none\"\nusername = \"u\"\npassword = \"p\"\n", "t.toml:5: [imap] security: \"none\" sends passwords"},
		{"missing address", "[helpdesk]\nname = \"x\"\n", "t.toml:1: [helpdesk] address: required"},
		{"bad prefix", minimal + "key_prefix = \"hd-\"\n", "t.toml:3: [helpdesk] key_prefix: must be"},
		{"problem prefix", minimal + "key_prefix = \"PRB\"\n", "t.toml:3: [helpdesk] key_prefix: \"PRB\" is the prefix of problems"},
		{"bad duration", minimal + "[imap]\nhost = \"imap.example.com\"\nusername = \"u\"\npassword = \"p\"\npoll_interval = \"soon\"\n", "t.toml:7"},
		{"syntax", minimal + "name = \n", "t.toml:3"},
		{"both password forms", minimal + "[imap]\nhost = \"imap.example.com\"\nusername = \"u\"\npassword = \"p\"\npassword_file = \"/nonexistent\"\n", "[imap] password_file: set password or password_file, not both"},
		{"database url", minimal + "[database]\nurl = \"mysql://x\"\n", "t.toml:4: [database] url: must start with sqlite: or postgres://"},
		{"route to nobody", minimal + routingConf + "[[route]]\nname = \"printing\"\nkeywords = [\"printer\"]\nassign = \"acmee\"\n", "t.toml:15: [[route]] \"printing\" assign: \"acmee\" is not the name of a team or provider"},
		{"duplicate name", minimal + routingConf + "[[team]]\nname = \"acme\"\nmembers = [\"x@example.com\"]\n", "t.toml:7: [[provider]] \"acme\" name: \"acme\" is already the name of a team"},
		{"bad member", minimal + "[[team]]\nname = \"it\"\nmembers = [\"Alice <alice@example.com>\", \"bob\"]\n", "t.toml:5: [[team]] \"it\" members: not a plain email address: \"Alice <alice@example.com>\""},
		{"provider without intake", minimal + "[[provider]]\nname = \"acme\"\n", "t.toml:3: [[provider]] \"acme\" intake: required"},
		{"bad route priority", minimal + routingConf + "[[route]]\nname = \"p\"\nkeywords = [\"x\"]\nassign = \"it\"\npriority = \"P9\"\n", "t.toml:16: [[route]] \"p\" priority: must be P1-P5"},
		{"routes need a default", minimal + "[[team]]\nname = \"it\"\nmembers = [\"a@example.com\"]\n[[route]]\nname = \"p\"\nkeywords = [\"x\"]\nassign = \"it\"\n", "[routing] default_assignee: required when routes are configured"},
		{"notify_every too short", minimal + "[problems]\nnotify_every = \"10s\"\n", "[problems] notify_every: must be at least 1m, got 10s"},
		{"routing valid", minimal + routingConf, ""},
		{"border_received zero", minimal + "[commands]\nborder_received = 0\n", "t.toml:4: [commands] border_received: must be 1-20"},
		{"border_received too many", minimal + "[commands]\nborder_received = 21\n", "t.toml:4: [commands] border_received: must be 1-20"},
		{"border_received valid", minimal + "[commands]\nborder_received = 2\n", ""},
	} {
		_, err := Parse("t.toml", []byte(c.text))
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
		if err != nil && !IsConfigError(err) {
			t.Errorf("%s: not a config error: %T", c.name, err)
		}
	}
}

func TestPasswordFileAndRedaction(t *testing.T) {
	f := filepath.Join(t.TempDir(), "imap.secret")
	os.WriteFile(f, []byte("s3cret\n"), 0o600)
	c, err := Parse("t.toml", []byte(minimal+"[imap]\nhost = \"imap.example.com\"\nusername = \"u\"\npassword_file = \""+f+"\"\n[database]\nurl = \"postgres://hd:dbpass@db/hd\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAP.Password != "s3cret" {
		t.Fatalf("password from file = %q", c.IMAP.Password)
	}
	if r := c.RedactedDatabaseURL(); strings.Contains(r, "dbpass") {
		t.Fatalf("redacted url leaks the password: %s", r)
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	// The example names secret files that do not exist here.
	text := strings.ReplaceAll(string(data), "password_file = \"/etc/helpdeskd/imap.secret\"", "password = \"x\"")
	text = strings.ReplaceAll(text, "password_file = \"/etc/helpdeskd/smtp.secret\"", "password = \"x\"")
	if _, err := Parse("config.example.toml", []byte(text)); err != nil {
		t.Fatal(err)
	}
}

// [major]: defaults, and each bad value named with its key.
func TestMajorConfig(t *testing.T) {
	c, err := Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Major
	if strings.Join(m.Priorities, ",") != "P1" || m.ReportDue != "5d" || m.RemindEvery != "2d" || m.ReportDueDur.Days != 5 ||
		strings.Join(m.Sections, ",") != "what happened,cause,fix,prevention" || !m.IsMajorPriority("p1") || m.IsMajorPriority("P2") {
		t.Errorf("defaults: %+v", m)
	}
	for bad, want := range map[string]string{
		`priorities = ["P9"]`:           `t.toml:4: [major] priorities: "P9" is not a priority (want P1 to P5)`,
		`report_due = "5 days"`:         `t.toml:4: [major] report_due: duration "5 days"`,
		`remind_every = "0m"`:           `t.toml:4: [major] remind_every: must be more than 0`,
		`sections = []`:                 `t.toml:4: [major] sections: needs at least one section`,
		`sections = ["Cause", "cause"]`: `t.toml:4: [major] sections: section "cause" listed twice`,
	} {
		_, err := Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\n[major]\n"+bad+"\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", bad, err, want)
		}
	}
}

// [[summary]]: defaults, and each bad value named with its key and line.
func TestSummaryConfig(t *testing.T) {
	base := "[helpdesk]\naddress = \"support@example.com\"\n[[team]]\nname = \"it\"\nmembers = [\"a@example.com\"]\n[[summary]]\nname = \"weekly\"\nschedule = \"mon 07:30\"\nto = [\"m@example.com\"]\n"
	c, err := Parse("t.toml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	s := c.SummaryNamed("weekly")
	if s == nil || s.Period != "week" || s.Scope != "all" || strings.Join(s.Attach, ",") != "xlsx" || s.ComplianceTarget != 90 || s.Sched.Hour != 7 {
		t.Errorf("defaults: %+v", s)
	}
	for bad, want := range map[string]string{
		`schedule = "mon 25:00"`:  `[[summary]] "weekly" schedule: schedule "mon 25:00"`,
		`period = "fortnight"`:    `[[summary]] "weekly" period: period "fortnight": want day, week or month`,
		`scope = "nobody"`:        `[[summary]] "weekly" scope: "nobody" is neither "all" nor a team or provider`,
		`attach = ["pdf"]`:        `[[summary]] "weekly" attach: "pdf": want none, csv or xlsx`,
		`compliance_target = 120`: `[[summary]] "weekly" compliance_target: must be a percentage from 0 to 100`,
		`to = ["not an address"]`: `[[summary]] "weekly" to: "not an address" is not an email address`,
	} {
		key := strings.SplitN(bad, " ", 2)[0]
		text := base
		if strings.Contains(base, key+" =") {
			text = regexp.MustCompile(`(?m)^`+key+` = .*$`).ReplaceAllString(base, bad)
		} else {
			text += bad + "\n"
		}
		_, err := Parse("t.toml", []byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", bad, err, want)
		}
	}
}
