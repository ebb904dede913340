package workflow_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/workflow"
)

// Recorded quality of the "same issue" decision at the default
// similarity (0.75) on testdata/repeats.tsv (300 subjects, 83 groups,
// English and German, with hard negatives), document frequencies from the
// set itself; the test fails below these. Precision meets the target
// (0.95); recall is a regression floor at what is measured today, short
// of the 0.70 aimed at: many paraphrases share no word ("Beamer im Raum A
// geht nicht" / "No picture on projector room A").
const (
	repeatPrecisionFloor = 0.95
	repeatRecallFloor    = 0.36
)

type labelled struct {
	group, subject string
}

func readLabelled(t testing.TB, path string) []labelled {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		g, s, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		out = append(out, labelled{group: g, subject: s})
	}
	return out
}

// pairScores: precision and recall of the pairwise decision.
func pairScores(items []labelled, fps []workflow.Fingerprint, threshold float64) (tp, fp, fn int) {
	df := setDF(fps)
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			same := items[i].group == items[j].group
			said := df.Similarity(fps[i], fps[j]) >= threshold
			switch {
			case same && said:
				tp++
			case said:
				fp++
			case same:
				fn++
			}
		}
	}
	return
}

func TestRepeatDetectionQuality(t *testing.T) {
	items := readLabelled(t, filepath.Join("testdata", "repeats.tsv"))
	fps := make([]workflow.Fingerprint, len(items))
	for i, it := range items {
		fps[i] = workflow.NewFingerprint(it.subject, "", nil)
	}
	tp, fp, fn := pairScores(items, fps, 0.75)
	precision := float64(tp) / float64(max(tp+fp, 1))
	recall := float64(tp) / float64(max(tp+fn, 1))
	df := setDF(fps)
	groups := map[string]bool{}
	for _, it := range items {
		groups[it.group] = true
	}
	t.Logf("%d subjects in %d groups", len(items), len(groups))
	t.Logf("pairs: %d true, %d false positives, %d missed: precision %.3f, recall %.3f", tp, fp, fn, precision, recall)
	if testing.Verbose() && os.Getenv("HELPDESKD_REPEAT_DISAGREE") != "" {
		for i := range items {
			for j := i + 1; j < len(items); j++ {
				same := items[i].group == items[j].group
				s := df.Similarity(fps[i], fps[j])
				if same != (s >= 0.75) {
					t.Logf("%v %.2f %q [%s] / %q [%s]", same, s, items[i].subject, fps[i], items[j].subject, fps[j])
				}
			}
		}
	}
	if precision < repeatPrecisionFloor || recall < repeatRecallFloor {
		t.Errorf("below the recorded precision %.3f / recall %.3f", repeatPrecisionFloor, repeatRecallFloor)
	}
}

// setDF counts the words of a labelled set, as the helpdesk counts its
// history.
func setDF(fps []workflow.Fingerprint) *workflow.DF {
	df := &workflow.DF{}
	for _, f := range fps {
		df.Add(f)
	}
	return df
}

// TestFingerprintExamples are the issue's own examples.
func TestFingerprintExamples(t *testing.T) {
	fp := func(s string) workflow.Fingerprint { return workflow.NewFingerprint(s, "", nil) }
	base := fp("Outlook crashes on start")
	for _, same := range []string{"outlook keeps crashing when starting", "Re: Outlook crash at startup again"} {
		if s := workflow.Similarity(base, fp(same)); s < 0.75 {
			t.Errorf("%q ~ %q: %.2f, want the same issue", base, same, s)
		}
	}
	if s := workflow.Similarity(base, fp("Outlook calendar not syncing")); s >= 0.75 {
		t.Errorf("calendar sync matched the crash: %.2f", s)
	}
	if got := workflow.NewFingerprint("Help", "The printer on floor 2 jams", nil).String(); got != "floor jam printer" {
		t.Errorf("a subject that says little takes the first line: %q", got)
	}
	if got := fp("[HD-12] RE: fileserver01.corp.example.com disk 97% full").String(); got != "disk fileserver full" {
		t.Errorf("masking: %q", got)
	}
}

// TestIDFWeighting: in a history where most incidents name Outlook, two
// reports that share only "outlook" are further apart than two that
// share only a rare word, though both pairs share one word of three; with
// no history every word weighs alike.
func TestIDFWeighting(t *testing.T) {
	fp := func(s string) workflow.Fingerprint { return workflow.NewFingerprint(s, "", nil) }
	df := &workflow.DF{}
	for i := range 400 {
		df.Add(fp([]string{"Outlook crashes", "Outlook calendar", "Outlook search", "Outlook rules"}[i%4]))
	}
	df.Add(fp("Toner empty"))
	common := df.Similarity(fp("Outlook archive slow"), fp("Outlook signature wrong"))
	rare := df.Similarity(fp("toner archive slow"), fp("toner signature wrong"))
	if !(common < rare) {
		t.Errorf("sharing a common word %.3f, sharing a rare one %.3f: want the rare one closer", common, rare)
	}
	var none *workflow.DF
	if a, b := none.Similarity(fp("Outlook archive slow"), fp("Outlook signature wrong")), none.Similarity(fp("toner archive slow"), fp("toner signature wrong")); a != b {
		t.Errorf("without history: %.3f vs %.3f, want equal", a, b)
	}
}
