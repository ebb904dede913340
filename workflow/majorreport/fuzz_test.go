package majorreport

import (
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, c := range replyCases(&testing.T{}) {
		f.Add(c.text)
	}
	f.Add("**\n__\n*\n1.\n(1)\nI.\n:\n - \n===\n---\n# \n")
	f.Add("Cause:\nCause:\n**Cause**\n*Cause*\nCause ...... 3")
	f.Fuzz(func(t *testing.T, text string) {
		r := Parse(text, nil)
		if (r.Status == StatusComplete) != (len(r.Missing) == 0) {
			t.Fatalf("status %q with missing %q", r.Status, r.Missing)
		}
		for _, s := range r.Sections {
			if strings.TrimSpace(s.Text) == "" {
				t.Fatalf("section %q without text is listed", s.Name)
			}
			for _, m := range r.Missing {
				if m == s.Name {
					t.Fatalf("section %q both found and missing", m)
				}
			}
		}
		_ = MissingWords(r)
	})
}

func FuzzDocumentText(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pdf")
	docx, _ := filepath.Glob("testdata/*.docx")
	for _, name := range append(files, docx...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Neither library nor walker may panic or run away.
		_, _ = DocumentText("x", "", data)
	})
}

// TestParseLinear checks that Parse's time grows linearly: text four
// times longer of lines that stress the heading tests (markers, colons,
// bold openers without closers, numbering, rules) takes about four times
// as long, not sixteen.
func TestParseLinear(t *testing.T) {
	unit := strings.Join([]string{
		"**Cause** " + strings.Repeat("*", 200),
		"1. 2. 3. (4) IV. a) " + strings.Repeat(":", 100),
		"Reason - " + strings.Repeat("- ", 100),
		"Root cause ........ 3",
		strings.Repeat("_", 300),
		"",
		"Fixing the switch took an hour: " + strings.Repeat("x", 300),
		"# " + strings.Repeat("#", 100),
	}, "\n") + "\n"
	small := strings.Repeat(unit, (MaxTextBytes/4)/len(unit))
	large := strings.Repeat(unit, MaxTextBytes/len(unit))
	best := func(s string) time.Duration {
		d := time.Duration(1 << 62)
		for i := 0; i < 3; i++ {
			start := time.Now()
			Parse(s, nil)
			if e := time.Since(start); e < d {
				d = e
			}
		}
		return d
	}
	ds, dl := best(small), best(large)
	t.Logf("%d bytes: %v; %d bytes: %v", len(small), ds, len(large), dl)
	if dl > 10*ds+50*time.Millisecond {
		t.Errorf("4x the text took %v against %v: not linear", dl, ds)
	}
	// And a line of 1 MiB without a newline.
	start := time.Now()
	Parse("Cause: "+strings.Repeat("**a ", MaxTextBytes/4), nil)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("one long line took %v", d)
	}
}

func TestParseTruncates(t *testing.T) {
	text := "Summary: a\nCause: b\nFix: c\nPrevention: d " + strings.Repeat("ü", MaxTextBytes)
	r := Parse(text, nil)
	if !r.Truncated || r.Status != StatusComplete {
		t.Fatalf("truncated %v, status %q", r.Truncated, r.Status)
	}
	p, _ := r.Text(Prevention)
	if len(p) > MaxTextBytes || !strings.HasPrefix(p, "d ü") || strings.ContainsRune(p, '\uFFFD') {
		t.Errorf("prevention is %d bytes, cut mid-rune or lost", len(p))
	}
}

// TestDocumentMutations damages each testdata document in random places
// (a fixed seed, so failures reproduce) and checks that extraction ends
// in bounded time with text or an error, never a panic.
func TestDocumentMutations(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.pdf")
	docx, _ := filepath.Glob("testdata/*.docx")
	rng := rand.New(rand.NewSource(12))
	var worst time.Duration
	n := 0
	for _, name := range append(files, docx...) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			c := append([]byte(nil), b...)
			switch i % 3 {
			case 0: // flip bytes
				for k := 0; k < 1+i%8; k++ {
					c[rng.Intn(len(c))] = byte(rng.Intn(256))
				}
			case 1: // cut
				c = c[:rng.Intn(len(c))]
			case 2: // duplicate a slice
				a, z := rng.Intn(len(c)), rng.Intn(len(c))
				if a > z {
					a, z = z, a
				}
				c = append(c[:z:z], c[a:]...)
			}
			start := time.Now()
			_, _ = DocumentText(filepath.Base(name), "", c)
			if d := time.Since(start); d > worst {
				worst = d
			}
			n++
		}
	}
	t.Logf("%d damaged documents, slowest %v", n, worst)
	if worst > 5*time.Second {
		t.Errorf("a damaged document took %v", worst)
	}
}
