package majorreport

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"

	"github.com/ledongthuc/pdf"
)

// Limits on an attached report document.
const (
	// MaxDocumentBytes bounds the size of an attached PDF or DOCX.
	MaxDocumentBytes = 20 << 20
	// MaxDOCXXMLBytes bounds word/document.xml as inflated from a DOCX;
	// a larger one (a zip bomb, or a document of thousands of pages) is
	// refused with ErrTooLarge.
	MaxDOCXXMLBytes = 32 << 20
	// MaxPDFPages bounds the pages of a PDF that are read; later pages
	// are ignored.
	MaxPDFPages = 50
	// MaxPDFStreamBytes bounds a page's content stream, and a font's
	// ToUnicode map, once inflated: a PDF of a few hundred KiB can
	// inflate to gigabytes (a Flate bomb), which is refused with
	// ErrTooLarge after reading this much of it, before its text is
	// read. A page of text takes some KiB.
	MaxPDFStreamBytes = 8 << 20
)

// Errors of document extraction; the returned errors wrap them with
// detail.
var (
	// ErrTooLarge: the document, or a part of it once inflated, is past
	// its limit.
	ErrTooLarge = errors.New("document too large")
	// ErrUnsupported: neither a PDF nor a DOCX.
	ErrUnsupported = errors.New("not a PDF or DOCX document")
	// ErrMalformed: the document cannot be read as what it claims to be.
	ErrMalformed = errors.New("malformed document")
	// ErrNoText: the document holds no text (a scanned PDF, an empty file).
	ErrNoText = errors.New("document has no text")
)

// Kind names the document formats this package reads.
type Kind string

// The document formats.
const (
	KindPDF  Kind = "pdf"
	KindDOCX Kind = "docx"
)

// DocumentKind says which format data is in, from its leading bytes
// ("%PDF-" per ISO 32000-1 §7.5.2, a zip local file header for DOCX per
// ECMA-376 Part 2), else from the media type or file name extension;
// ok is false for anything else (a DOC, ODT, image).
func DocumentKind(filename, contentType string, data []byte) (Kind, bool) {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return KindPDF, true
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return KindDOCX, true // any zip is tried as a DOCX
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	ext := strings.ToLower(path.Ext(filename))
	switch {
	case mt == "application/pdf" || ext == ".pdf":
		// A PDF may carry junk before its header (ISO 32000-1 allows
		// readers to look within the first 1024 bytes).
		if i := bytes.Index(data[:min(len(data), 1024)], []byte("%PDF-")); i >= 0 {
			return KindPDF, true
		}
	}
	return "", false
}

// ParseDocument reads an attached report (PDF or DOCX, see DocumentText)
// and parses its text with Parse.
func ParseDocument(filename, contentType string, data []byte, sections []string) (Report, error) {
	text, err := DocumentText(filename, contentType, data)
	if err != nil {
		return Report{}, err
	}
	return Parse(text, sections), nil
}

// DocumentText extracts the text of an attached report: a PDF or a DOCX
// (Office Open XML, ECMA-376), told apart by DocumentKind. Errors wrap
// ErrUnsupported, ErrTooLarge (past MaxDocumentBytes, or a DOCX whose XML
// inflates past MaxDOCXXMLBytes), ErrMalformed or ErrNoText, and name the
// file.
func DocumentText(filename, contentType string, data []byte) (string, error) {
	if len(data) > MaxDocumentBytes {
		return "", fmt.Errorf("%w: %q is %d bytes, the limit is %d", ErrTooLarge, filename, len(data), MaxDocumentBytes)
	}
	kind, ok := DocumentKind(filename, contentType, data)
	if !ok {
		return "", fmt.Errorf("%w: %q (%s)", ErrUnsupported, filename, contentType)
	}
	var (
		text string
		err  error
	)
	if kind == KindPDF {
		text, err = PDFText(data)
	} else {
		text, err = DOCXText(data)
	}
	if err != nil {
		return "", fmt.Errorf("%q: %w", filename, err)
	}
	if strings.TrimSpace(text) == "" {
		return "", fmt.Errorf("%w: %q", ErrNoText, filename)
	}
	return text, nil
}

// DOCXText extracts the text of a DOCX: the paragraphs of
// word/document.xml (ECMA-376 Part 1 §17.3.1), one per line, with a
// blank line between paragraphs; tabs and breaks kept, a table row as
// "| cell | cell |" on one line; a list paragraph gets a "- "
// bullet and a heading-styled one a "# " mark, so that Parse sees them
// as such. The XML is read as a stream, bounded by MaxDOCXXMLBytes.
func DOCXText(data []byte) (string, error) {
	if len(data) > MaxDocumentBytes {
		return "", fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxDocumentBytes)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("%w: not a zip archive: %v", ErrMalformed, err)
	}
	var doc *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			doc = f
			break
		}
	}
	if doc == nil {
		return "", fmt.Errorf("%w: a zip archive without word/document.xml (not a DOCX)", ErrUnsupported)
	}
	if doc.UncompressedSize64 > MaxDOCXXMLBytes {
		return "", fmt.Errorf("%w: word/document.xml declares %d bytes, the limit is %d", ErrTooLarge, doc.UncompressedSize64, MaxDOCXXMLBytes)
	}
	rc, err := doc.Open()
	if err != nil {
		return "", fmt.Errorf("%w: word/document.xml: %v", ErrMalformed, err)
	}
	defer rc.Close()
	// The declared size is not trusted: the inflated stream itself is cut.
	lr := &limitReader{r: rc, n: MaxDOCXXMLBytes}
	text, err := docxParagraphs(lr)
	if lr.over {
		return "", fmt.Errorf("%w: word/document.xml inflates past %d bytes", ErrTooLarge, MaxDOCXXMLBytes)
	}
	if err != nil {
		return "", fmt.Errorf("%w: word/document.xml: %v", ErrMalformed, err)
	}
	return text, nil
}

// limitReader reads at most n bytes and records an attempt to read more.
type limitReader struct {
	r    io.Reader
	n    int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		if k, _ := l.r.Read(one[:]); k > 0 {
			l.over = true
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// docxParagraphs walks WordprocessingML: w:p paragraphs, w:t text,
// w:tab, w:br/w:cr, w:tc/w:tr table cells and rows, w:numPr (a list
// item) and w:pStyle (a heading style).
func docxParagraphs(r io.Reader) (string, error) {
	dec := xml.NewDecoder(r)
	var (
		out     strings.Builder
		para    strings.Builder
		inText  bool
		list    bool
		heading bool
		cells   []string // the cells of the table row being read
		inCell  int
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		if out.Len()+para.Len() > MaxTextBytes {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				para.Reset()
				list, heading = false, false
			case "t":
				inText = true
			case "tab":
				para.WriteByte('\t')
			case "br", "cr":
				para.WriteByte('\n')
			case "numPr":
				list = true
			case "pStyle":
				for _, a := range t.Attr {
					if a.Name.Local == "val" {
						v := strings.ToLower(a.Value)
						heading = strings.HasPrefix(v, "heading") || strings.HasPrefix(v, "berschrift") ||
							strings.HasPrefix(v, "überschrift") || v == "title" || v == "titel"
					}
				}
			case "tr":
				cells = cells[:0]
			case "tc":
				inCell++
				cells = append(cells, "")
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				s := strings.TrimSpace(para.String())
				para.Reset()
				if s == "" {
					break
				}
				if inCell > 0 && len(cells) > 0 {
					// A paragraph of a table cell: the row is written at its end.
					c := &cells[len(cells)-1]
					if *c != "" {
						*c += " "
					}
					*c += strings.Join(strings.Fields(s), " ")
					break
				}
				switch {
				case heading:
					s = "# " + s
				case list:
					s = "- " + s
				}
				out.WriteString(s)
				out.WriteString("\n\n")
			case "tc":
				inCell--
			case "tr":
				// A row as "| a | b | c |", as a Markdown table.
				if len(cells) > 0 {
					out.WriteString("| " + strings.Join(cells, " | ") + " |\n")
				}
				cells = cells[:0]
			case "tbl":
				out.WriteString("\n")
			}
		case xml.CharData:
			if inText {
				para.Write(t)
			}
		}
	}
	return out.String(), nil
}

// PDFText extracts the text of a PDF (ISO 32000-1) with
// github.com/ledongthuc/pdf (objects, filters, font encodings) and this
// package's text state (pageChunks), from at most MaxPDFPages pages. The
// strings of each page are laid out again by their positions
// (layoutChunks), so that headings stay on their own lines.
// An encrypted PDF or one without a text layer (a scan) gives an error.
func PDFText(data []byte) (text string, err error) {
	if len(data) > MaxDocumentBytes {
		return "", fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxDocumentBytes)
	}
	defer func() {
		// The library panics on some malformed files; checkStream
		// panics with tooLarge.
		if x := recover(); x != nil {
			if big, ok := x.(tooLarge); ok {
				text, err = "", fmt.Errorf("%w: %s inflates past %d bytes", ErrTooLarge, string(big), MaxPDFStreamBytes)
				return
			}
			text, err = "", fmt.Errorf("%w: %v", ErrMalformed, x)
		}
	}()
	if err := checkDeclared(data); err != nil {
		return "", err
	}
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	pages, err := pageTree(r.Trailer().Key("Root").Key("Pages"))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, v := range pages {
		if b.Len() >= MaxTextBytes {
			break
		}
		checkStream(v.Key("Contents"), fmt.Sprintf("page %d's content", i+1))
		layoutChunks(&b, pageChunks(pdf.Page{V: v}))
		b.WriteString("\n\n")
	}
	text = b.String()
	if len(text) > MaxTextBytes {
		text = text[:MaxTextBytes]
	}
	return text, nil
}

// tooLarge is checkStream's panic: what inflated past MaxPDFStreamBytes.
type tooLarge string

// checkStream inflates a stream, or an array of streams (a page's
// Contents may be one), into nothing, at most MaxPDFStreamBytes of it,
// and panics with tooLarge when there is more: the library's interpreter
// keeps a string, or an operand stack, of any length in memory.
func checkStream(v pdf.Value, what string) {
	streams := []pdf.Value{v}
	if v.Kind() == pdf.Array {
		streams = streams[:0]
		for i := 0; i < v.Len() && i < 1024; i++ {
			streams = append(streams, v.Index(i))
		}
	}
	left := int64(MaxPDFStreamBytes)
	for _, s := range streams {
		if s.Kind() != pdf.Stream {
			continue
		}
		r := s.Reader()
		n, _ := io.CopyN(io.Discard, r, left+1)
		r.Close()
		if left -= n; left < 0 {
			panic(tooLarge(what))
		}
	}
}

// pageTree lists the leaf pages of a page tree (ISO 32000-1 §7.7.3), at
// most MaxPDFPages, in order. It walks the tree itself, bounded in depth
// and in the nodes it visits, instead of the library's page lookup, which
// never returns on a tree whose /Kids lists a node itself.
func pageTree(root pdf.Value) ([]pdf.Value, error) {
	const maxDepth = 32
	budget := 4*MaxPDFPages + 64
	var pages []pdf.Value
	var walk func(n pdf.Value, depth int) error
	walk = func(n pdf.Value, depth int) error {
		if budget--; budget < 0 || depth > maxDepth {
			return fmt.Errorf("%w: the page tree loops or is deeper than %d", ErrMalformed, maxDepth)
		}
		if n.Key("Type").Name() == "Page" {
			// The library looks inherited attributes up the /Parent
			// chain without a bound: a page that is its own parent, or a
			// loop of parents, would never return.
			p := n
			for up := 0; ; up++ {
				if up > maxDepth {
					return fmt.Errorf("%w: a page's /Parent chain loops or is deeper than %d", ErrMalformed, maxDepth)
				}
				if p = p.Key("Parent"); p.IsNull() {
					break
				}
			}
			pages = append(pages, n)
			return nil
		}
		kids := n.Key("Kids")
		for i := 0; i < kids.Len() && len(pages) < MaxPDFPages; i++ {
			if err := walk(kids.Index(i), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		return nil, err
	}
	return pages, nil
}
