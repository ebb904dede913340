package majorreport

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The PDFs and DOCX files in testdata were made on Debian from the
// sources beside them: groff-report.pdf with `groff -Tpdf -ms report.ms`
// (gropdf, justified text with word spacing), gs-bericht.pdf with
// `preconv bericht.ms | groff -Tps -ms | ps2pdf` (Ghostscript),
// lo-report.pdf and lo-report.docx with LibreOffice 7 headless
// (`soffice --headless --convert-to pdf|docx --infilter='HTML (StarWriter)'
// lo-report.html`), lo-report-from-docx.pdf by converting that DOCX to PDF,
// lo-bericht.docx from lo-bericht.html, cairo-report.pdf with
// `pango-view --no-display --output=cairo-report.pdf cairo-report.txt`
// (cairo: a simple TrueType font plus a CID TrueType font, Identity-H,
// for "–" and "•").

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDocumentReports(t *testing.T) {
	loCause := "A Windows update rebooted the SQL Server cluster node SQL01 while its partner\nSQL02 was paused for maintenance, so the availability group went offline."
	cases := []struct {
		file, contentType string
		heads             map[string]string // section → heading as written
		texts             map[string]string // section → exact text
		actions           int
	}{
		{
			file: "groff-report.pdf", contentType: "application/pdf",
			heads: map[string]string{WhatHappened: "1. What happened", Cause: "2. Root cause", Fix: "3. Resolution", Prevention: "4. Preventive actions"},
			texts: map[string]string{
				WhatHappened: "On 14 November between 07:40 and 10:15 CET the Exchange server MAIL01 stopped accepting\nmail. Outlook clients showed \"disconnected\" for all 210 users at the Hamburg site.",
				Fix:          "We extended the log volume by 50 GB, ran a manual full backup to truncate the logs and remounted\nthe database at 10:12.",
			},
			actions: 2,
		},
		{
			file: "gs-bericht.pdf", contentType: "application/octet-stream",
			heads: map[string]string{WhatHappened: "1. Was ist passiert?", Cause: "2. Ursache", Fix: "3. Behebung", Prevention: "4. Vorbeugende Maßnahmen"},
			texts: map[string]string{
				Cause: "Ein fehlerhaftes Firmware-Update auf dem Core-Switch hat das VLAN 20 der Datenbankserver getrennt.",
			},
		},
		{
			file: "lo-report.pdf", contentType: "application/pdf",
			heads: map[string]string{WhatHappened: "1. Incident summary", Cause: "3. Root cause", Fix: "4. Resolution", Prevention: "5. Preventive actions", Impact: "2. Impact window", Actions: "6. Action items"},
			texts: map[string]string{Cause: loCause, Impact: "17.11.2026 07:55 – 11:10 CET (3 h 15 min)"},
			// The PDF's table has no cell separators left; the bullets of
			// the prevention section are read instead.
			actions: 2,
		},
		{
			file: "lo-report-from-docx.pdf", contentType: "application/pdf",
			heads: map[string]string{WhatHappened: "1. Incident summary", Cause: "3. Root cause", Fix: "4. Resolution", Prevention: "5. Preventive actions"},
			texts: map[string]string{Cause: loCause},
		},
		{
			file: "lo-report.docx", contentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			heads: map[string]string{WhatHappened: "# 1. Incident summary", Cause: "# 3. Root cause", Fix: "# 4. Resolution", Prevention: "# 5. Preventive actions"},
			texts: map[string]string{
				Cause:      strings.ReplaceAll(loCause, "\n", " "),
				Prevention: "- Windows updates on cluster nodes only through the cluster-aware updating run.\n\n- Paused nodes raise a ticket after 24 hours.",
				Actions:    "| Action | Owner | Due |\n| Configure cluster-aware updating | R. Schulz | 2026-12-12 |\n| Alert on paused cluster nodes | NOC | 05.12.2026 |",
			},
			actions: 2,
		},
		{
			file: "cairo-report.pdf", contentType: "application/pdf",
			heads: map[string]string{WhatHappened: "Summary", Cause: "Root cause", Fix: "Resolution", Prevention: "Lessons learned"},
			texts: map[string]string{
				Prevention: "• Service account rotations are announced to the network team.\n• A synthetic VPN login runs every 5 minutes (owner: NetOps, due 2026-12-19).",
			},
			actions: 2,
		},
		{
			file:  "lo-bericht.docx",
			heads: map[string]string{WhatHappened: "Was ist passiert", Cause: "Ursache", Fix: "Behebung", Prevention: "Lessons Learned", UsersAffected: "Betroffene"},
			texts: map[string]string{Prevention: "Ankündigungen des Anbieters gehen künftig an das Team-Postfach statt an eine Einzelperson."},
		},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r, err := ParseDocument(c.file, c.contentType, readTestdata(t, c.file), nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != StatusComplete || len(r.Missing) > 0 {
				t.Errorf("status %q, missing %q", r.Status, r.Missing)
			}
			for name, head := range c.heads {
				found := false
				for _, s := range r.Sections {
					if s.Name == name {
						found = true
						if s.Heading != head {
							t.Errorf("%s: heading %q, want %q", name, s.Heading, head)
						}
					}
				}
				if !found {
					t.Errorf("%s: not found; sections %+v", name, r.Sections)
				}
			}
			for name, want := range c.texts {
				if got, _ := r.Text(name); got != want {
					t.Errorf("%s:\n got %q\nwant %q", name, got, want)
				}
			}
			if len(r.Actions) != c.actions {
				t.Errorf("actions = %+v, want %d", r.Actions, c.actions)
			}
		})
	}
}

// docx builds a DOCX whose word/document.xml has body as its w:body.
func docx(t *testing.T, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"word/document.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body + `</w:body></w:document>`,
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func para(style, text string) string {
	p := `<w:p>`
	if style != "" {
		p += `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return p + `<w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

func TestDOCXWordXML(t *testing.T) {
	// As Word writes it: heading styles, a run split in two, a numbered
	// list, a tab, a deleted (tracked) run that is not text.
	body := para("Heading1", "Major incident report HD-90") +
		para("Heading2", "Summary") +
		`<w:p><w:r><w:t>Outlook could not connect </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>for 2 hours</w:t></w:r><w:del><w:r><w:delText>and more</w:delText></w:r></w:del><w:r><w:t>.</w:t></w:r></w:p>` +
		para("Heading2", "Root Cause") +
		`<w:p><w:r><w:t>Expired</w:t></w:r><w:r><w:tab/><w:t>certificate.</w:t></w:r></w:p>` +
		para("Heading2", "Timeline") + para("", "09:00 alert") +
		para("Heading2", "Resolution") + para("", "Certificate renewed.") +
		para("Heading2", "Lessons learned") +
		`<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>Certificate expiry monitoring (owner: PKI team, due 2027-01-31)</w:t></w:r></w:p>`
	r, err := ParseDocument("report.docx", "", docx(t, body), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		WhatHappened: "Outlook could not connect for 2 hours.",
		Cause:        "Expired\tcertificate.",
		Fix:          "Certificate renewed.",
		Prevention:   "- Certificate expiry monitoring (owner: PKI team, due 2027-01-31)",
	}
	for name, w := range want {
		if got, _ := r.Text(name); got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
	if r.Status != StatusComplete {
		t.Errorf("status %q, missing %q", r.Status, r.Missing)
	}
	if len(r.Other) != 1 || r.Other[0].Heading != "# Timeline" || r.Other[0].Text != "09:00 alert" {
		t.Errorf("other = %+v, want the Timeline section", r.Other)
	}
	if len(r.Actions) != 1 || r.Actions[0].Owner != "PKI team" || r.Actions[0].Due != "2027-01-31" {
		t.Errorf("actions = %+v", r.Actions)
	}
}

func TestDOCXZipBomb(t *testing.T) {
	// 40 MiB of XML that deflates to about 100 KiB.
	xml := []byte(`<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
		para("", "Cause: x") + strings.Repeat(para("", strings.Repeat("a", 1000)), 40<<10) + `</w:body></w:document>`)
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	fw.Write(xml)
	fw.Close()
	for _, c := range []struct {
		name     string
		declared uint64
		want     []error
	}{
		// Declared honestly: refused before inflating.
		{"bomb.docx", uint64(len(xml)), []error{ErrTooLarge}},
		// Declared small: archive/zip stops at the declared size
		// (zip.ErrFormat), so the lie is refused too.
		{"liar.docx", 1000, []error{ErrMalformed, ErrTooLarge}},
	} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: "word/document.xml", Method: zip.Deflate,
			CRC32: crc32.ChecksumIEEE(xml), CompressedSize64: uint64(comp.Len()), UncompressedSize64: c.declared,
		})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp.Bytes())
		zw.Close()
		if buf.Len() > 1<<20 {
			t.Fatalf("bomb is %d bytes compressed", buf.Len())
		}
		_, err = DocumentText(c.name, "", buf.Bytes())
		ok := false
		for _, e := range c.want {
			ok = ok || errors.Is(err, e)
		}
		if !ok {
			t.Errorf("%s: err = %v, want one of %v", c.name, err, c.want)
		}
	}
}

func TestDocumentErrors(t *testing.T) {
	pdfBytes := readTestdata(t, "groff-report.pdf")
	var noDoc bytes.Buffer
	zw := zip.NewWriter(&noDoc)
	w, _ := zw.Create("content.xml") // an ODT, say
	w.Write([]byte("<office:document/>"))
	zw.Close()
	cases := []struct {
		name, file, ct string
		data           []byte
		want           error
	}{
		{"png", "diagram.png", "image/png", []byte("\x89PNG\r\n\x1a\n...."), ErrUnsupported},
		{"legacy doc", "report.doc", "application/msword", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), ErrUnsupported},
		{"zip without document", "report.odt", "", noDoc.Bytes(), ErrUnsupported},
		{"garbage pdf", "report.pdf", "application/pdf", []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF"), ErrMalformed},
		{"truncated pdf", "report.pdf", "application/pdf", pdfBytes[:len(pdfBytes)/2], ErrMalformed},
		{"empty docx", "report.docx", "", docx(t, ""), ErrNoText},
		{"too large", "report.pdf", "application/pdf", append([]byte("%PDF-1.4\n"), make([]byte, MaxDocumentBytes)...), ErrTooLarge},
		{"broken xml", "report.docx", "", docx(t, "<w:p><w:t>x</w:p>"), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DocumentText(c.file, c.ct, c.data)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.file) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// pdfOf builds a PDF of the given objects (numbered from 1) with a
// correct cross-reference table.
func pdfOf(objs ...string) []byte {
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return []byte(b.String())
}

// TestPDFPageTreeLoop: a page tree whose /Pages node lists itself as a
// kid (238 bytes, from an unauthenticated mail) is refused at once; the
// library's own page lookup never returns on it.
func TestPDFPageTreeLoop(t *testing.T) {
	data := pdfOf("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R] /Count 3 >>")
	done := make(chan error, 1)
	go func() { _, err := PDFText(data); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("PDFText of a looping page tree: %v, want ErrMalformed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("PDFText did not return on a looping page tree")
	}
}

// TestPDFParentLoop: a page that is its own /Parent (the library's lookup
// of inherited resources would never return) is refused at once.
func TestPDFParentLoop(t *testing.T) {
	data := pdfOf("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 3 0 R /Contents 4 0 R >>", "<< /Length 20 >>\nstream\nBT (Cause) Tj ET    \nendstream")
	done := make(chan error, 1)
	go func() { _, err := PDFText(data); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("PDFText of a page that is its own parent: %v, want ErrMalformed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("PDFText did not return on a /Parent loop")
	}
}

// TestPDFFlateBomb: a page whose content stream, or whose font's
// ToUnicode map, inflates to 256 MiB (one string of a single letter,
// 256 KiB compressed) is refused as too large without inflating it into
// memory or taking seconds.
func TestPDFFlateBomb(t *testing.T) {
	var comp bytes.Buffer
	zw := zlib.NewWriter(&comp)
	zw.Write([]byte("BT /F1 12 Tf ("))
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	for range 256 {
		zw.Write(chunk)
	}
	zw.Write([]byte(") Tj ET"))
	zw.Close()
	bomb := fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", comp.Len(), comp.String())
	page := "<< /Length 30 >>\nstream\nBT /F1 12 Tf (Cause: x) Tj ET\nendstream"
	for name, objs := range map[string][2]string{
		"content":   {bomb, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"},
		"ToUnicode": {page, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>"},
	} {
		data := pdfOf("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
			objs[0], objs[1], bomb)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := PDFText(data)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: PDFText of a Flate bomb: %v, want ErrTooLarge", name, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 || took > 2*time.Second {
			t.Errorf("%s: PDFText allocated %d MiB in %s for a %d KiB file", name, alloc>>20, took, len(data)>>10)
		}
		t.Logf("%s: %v (%s)", name, err, took.Round(time.Millisecond))
	}
}

// TestPDFDeclaredSizes: a PDF of a few hundred bytes whose cross-reference
// stream declares 400,000,000 objects (the library would allocate 12 GiB
// for its table and take half a minute), or whose names hide the key
// ("/S#69ze"), or whose predictor row is a gigabyte, is refused at once.
func TestPDFDeclaredSizes(t *testing.T) {
	var comp bytes.Buffer
	zw := zlib.NewWriter(&comp)
	zw.Write([]byte{1, 0, 9, 0})
	zw.Close()
	xrefStream := func(dict string) []byte {
		head := "%PDF-1.5\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
		return []byte(head + fmt.Sprintf("3 0 obj\n<< /Type /XRef %s /Root 1 0 R /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n",
			dict, comp.Len(), comp.String(), len(head)))
	}
	for name, data := range map[string][]byte{
		"size":           xrefStream("/Size 400000000 /W [1 2 1] /Index [0 1]"),
		"escaped name":   xrefStream("/S#69ze 400000000 /W [1 2 1] /Index [0 1]"),
		"index":          xrefStream("/Size 4 /W [1 2 1] /Index [0 400000000]"),
		"record width":   xrefStream("/Size 4 /W [1 1000000000 1] /Index [0 1]"),
		"columns":        xrefStream("/Size 4 /W [1 2 1] /DecodeParms << /Predictor 12 /Columns 1000000000 >>"),
		"columns by ref": xrefStream("/Size 4 /W [1 2 1] /DecodeParms << /Predictor 12 /Columns 9 0 R >>"),
	} {
		start := time.Now()
		_, err := PDFText(data)
		if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) || time.Since(start) > time.Second {
			t.Errorf("%s: %v after %s, want refused at once", name, err, time.Since(start))
		}
	}
	// A font's widths (/W of a CIDFont, nested arrays of CIDs and
	// widths) are no object count: within the limits.
	if err := checkDeclared([]byte("<< /Type /Font /W [1 [500 600] 100 200 1000 65535 [250]] /DW 1000 >>")); err != nil {
		t.Errorf("a CIDFont's widths: %v", err)
	}
}
