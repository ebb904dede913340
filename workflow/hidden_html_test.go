package workflow_test

import (
	"context"
	"testing"
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
			want := c.priority
			if want == "" {
				want = before.Priority
			}
			if inc.Priority != want {
				t.Errorf("priority %s, want %s (was %s)", inc.Priority, want, before.Priority)
			}
		})
	}
}
