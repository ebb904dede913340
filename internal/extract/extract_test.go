package extract

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/workflow/majorreport"
)

func TestMain(m *testing.M) {
	ServeIfChild()
	os.Exit(m.Run())
}

// TestHostileDocuments: documents of a few hundred bytes to a few KiB
// that make the PDF library recurse until the stack overflows
// (selfobjstm: an object stream holding itself), loop for ever
// (extendsloop, objstmN, prevloop), allocate a 96 GB table (xrefstart)
// or gigabytes of CMap entries (tounicodeN, tounicodeamp), size a
// predictor row by a compressed object (columnsobjstm), or a DOCX whose
// table cell is copied once a paragraph (docxcell): each is refused with
// a clear error within the time limit, and this process lives on. In
// process, the first ones end it (recover cannot catch a stack overflow
// or an out-of-memory error).
func TestHostileDocuments(t *testing.T) {
	TimeLimit = 5 * time.Second
	defer func() { TimeLimit = 30 * time.Second }()
	for _, c := range []struct {
		file string
		want []error
	}{
		{"selfobjstm.bin", []error{majorreport.ErrMalformed, majorreport.ErrTooLarge}},
		{"extendsloop.bin", []error{majorreport.ErrTooLarge, majorreport.ErrMalformed}},
		{"objstmN.bin", []error{majorreport.ErrTooLarge, majorreport.ErrMalformed}},
		{"prevloop.bin", []error{majorreport.ErrTooLarge, majorreport.ErrMalformed}},
		{"xrefstart.bin", []error{majorreport.ErrTooLarge}},
		{"tounicodeN.bin", []error{majorreport.ErrTooLarge}},
		{"tounicodeamp.bin", []error{majorreport.ErrTooLarge}},
		{"columnsobjstm.bin", []error{majorreport.ErrTooLarge, majorreport.ErrMalformed}},
		{"docxcell.bin", []error{majorreport.ErrTooLarge}},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		name, ctype := "report.pdf", "application/pdf"
		if filepath.Base(c.file) == "docxcell.bin" {
			name, ctype = "report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
		}
		start := time.Now()
		_, err = Text(context.Background(), name, ctype, data)
		took := time.Since(start)
		ok := false
		for _, w := range c.want {
			ok = ok || errors.Is(err, w)
		}
		if !ok || took > TimeLimit+3*time.Second {
			t.Errorf("%s (%d bytes): %v after %s, want one of %v within %s", c.file, len(data), err, took.Round(time.Millisecond), c.want, TimeLimit)
		}
		t.Logf("%s: %v (%s)", c.file, err, took.Round(time.Millisecond))
	}
}

// TestTextAsInProcess: an ordinary report reads the same in the child as
// in this process.
func TestTextAsInProcess(t *testing.T) {
	for _, f := range []string{"lo-report-from-docx.pdf", "lo-report.docx", "cairo-report.pdf"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "workflow", "majorreport", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		want, werr := majorreport.DocumentText(f, "", data)
		got, err := Text(context.Background(), f, "", data)
		if werr != nil || err != nil || got != want || len(got) < 100 {
			t.Errorf("%s: %d bytes (%v), in process %d bytes (%v)", f, len(got), err, len(want), werr)
		}
	}
	// An error the child's reader gave is said as it said it, and is of
	// its kind.
	_, err := Text(context.Background(), "notes.txt", "text/plain", []byte("hello"))
	_, want := majorreport.DocumentText("notes.txt", "text/plain", []byte("hello"))
	if !errors.Is(err, majorreport.ErrUnsupported) || err.Error() != want.Error() {
		t.Errorf("a text file: %v, in process %v", err, want)
	}
}
