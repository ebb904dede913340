package config

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://hd:s3cret@db/hd?sslmode=disable", "postgres://hd:xxxxx@db/hd?sslmode=disable"},
		{"postgres://db/hd?user=hd&password=s3cret&sslmode=disable", "postgres://db/hd?password=xxxxx&sslmode=disable&user=hd"},
		{"postgresql://db/hd?sslpassword=s3cret&sslkey=/k&PassFile=/p", "postgresql://db/hd?PassFile=xxxxx&sslkey=xxxxx&sslpassword=xxxxx"},
		{"postgres://hd:s3cret@db/hd#s3cret", "postgres://hd:xxxxx@db/hd"},
		{"postgres://hd:s3cret@ho st/db", "postgres://(rest not shown)"},
		{"postgres://hd:s3%zzcret@db/hd", "postgres://(rest not shown)"},
		{"mysql:hd:s3cret@db", "mysql:(rest not shown)"},
		{"host=db password=s3cret", "(not shown)"},
		{"sqlite:/var/lib/helpdeskd/helpdeskd.db", "sqlite:/var/lib/helpdeskd/helpdeskd.db"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Configuration errors about the database URL never quote a secret.
func TestDatabaseURLErrorsHideSecrets(t *testing.T) {
	for _, u := range []string{"postgres://hd:s3cret@ho st/db", "postgres://hd:s3%zzcret@db/hd", "host=db password=s3cret", "mysql://hd:s3cret@db/x"} {
		_, err := Parse("t.toml", []byte(minimal+"[database]\nurl = '"+u+"'\n"))
		if err == nil || !strings.Contains(err.Error(), "[database] url") || strings.Contains(err.Error(), "s3") {
			t.Errorf("%s: %v", u, err)
		}
	}
	c, err := Parse("t.toml", []byte(minimal+"[database]\nurl = 'postgres://db/hd?user=hd&password=s3cret'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.RedactedDatabaseURL(); strings.Contains(r, "s3cret") || !strings.Contains(r, "user=hd") {
		t.Errorf("redacted: %s", r)
	}
}

func TestParseBudget(t *testing.T) {
	c, err := Parse("t.toml", []byte(minimal))
	if err != nil || c.Intake.ParseBudget.String() != "10s" {
		t.Fatalf("default: %v %v", c.Intake.ParseBudget, err)
	}
	c, err = Parse("t.toml", []byte(minimal+"[intake]\nparse_budget = \"2s\"\n"))
	if err != nil || c.Intake.ParseBudget.String() != "2s" {
		t.Fatalf("2s: %v %v", c.Intake.ParseBudget, err)
	}
	if _, err := Parse("t.toml", []byte(minimal+"[intake]\nparse_budget = \"1ms\"\n")); err == nil ||
		!strings.Contains(err.Error(), "t.toml:4: [intake] parse_budget: must be 100ms-10m, got 1ms") {
		t.Fatalf("1ms: %v", err)
	}
}
