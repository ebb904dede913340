package workflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// An HTML-only mail from authenticated staff: a command in an element
// the reader does not see does not run; the same command shown does.
func TestHiddenHTMLCommandDoesNotRun(t *testing.T) {
	html := "Content-Type: text/html; charset=utf-8"
	for _, c := range []struct {
		name, body, priority string
	}{
		{"display:none", `<div style="display:none">#priority P1</div><p>Looking into it.</p>`, ""},
		{"hidden attribute", `<p hidden>#priority P1</p><p>Looking into it.</p>`, ""},
		{"comment", `<!-- #priority P1 --><p>Looking into it.</p>`, ""},
		{"shown", `<div>#priority P1</div><p>Looking into it.</p>`, "P1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			eng, st := commandEngine(t, "")
			before, _ := st.IncidentByKey(context.Background(), "HD-1")
			ingest(t, eng, commandMail("alice.admin@example.com", "<html><body>"+c.body+"</body></html>\r\n", "h1@x", trustedAR, html))
			inc, _ := st.IncidentByKey(context.Background(), "HD-1")
			want := store.Priority(c.priority)
			if want == "" {
				want = before.Priority
			}
			if inc.Priority != want {
				t.Errorf("priority %s, want %s (was %s)", inc.Priority, want, before.Priority)
			}
		})
	}
}

// [intake] parse_budget reaches the parser.
func TestParseBudgetFromConfig(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\n[intake]\nparse_budget = \"3s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := workflow.ParseOptions(cfg).MaxParseTime; got != 3*time.Second {
		t.Fatalf("MaxParseTime %v, want 3s", got)
	}
}
