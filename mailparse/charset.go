package mailparse

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
)

// Charsets: every label go-message's charset package knows (the WHATWG
// set and more), plus what real mail writes instead: UTF-7 (old Exchange
// and Outlook Express), "charset=us-ascii" (a parameter pasted into its
// own value), unregistered aliases. A label that still names nothing is
// read as UTF-8 when the bytes are valid UTF-8, else as Windows-1252, the
// encoding most unlabelled or mislabelled mail is in: the text is never
// dropped.
//
// As the WHATWG Encoding Standard and every browser do, text labelled
// ISO-8859-1 (any of its aliases) is read as Windows-1252, its superset:
// Outlook writes ’ “ ” … € as bytes 0x80–0x9F under that label, which
// ISO-8859-1 would turn into invisible C1 control characters. Text
// labelled US-ASCII that is not 7-bit is read as UTF-8 when it is valid
// UTF-8, else as Windows-1252. 7-bit text holding ISO-2022-JP escape
// sequences (RFC 1468) is read as ISO-2022-JP when it has no label or
// says US-ASCII. Encoded words (RFC 2047) are read the same way.

var charsetAliases = map[string]string{
	"iso-gb2312": "gb2312", "gb_2312-80": "gb2312", "x-gbk": "gbk", "cp936": "gbk",
	"ks_c_5601": "euc-kr", "ks_c_5601-1987": "euc-kr", "x-euc-jp": "euc-jp", "x-sjis": "shift_jis",
	"x-mac-roman": "macintosh", "cp1252": "windows-1252", "x-user-defined": "windows-1252",
	// ISO-8859-1 and its IANA aliases: Windows-1252 (WHATWG).
	"iso-8859-1": "windows-1252", "latin-1": "windows-1252", "iso8859-1": "windows-1252", "iso-latin-1": "windows-1252",
	"latin1": "windows-1252", "l1": "windows-1252", "iso_8859-1": "windows-1252", "iso_8859-1:1987": "windows-1252",
	"iso-ir-100": "windows-1252", "csisolatin1": "windows-1252", "ibm819": "windows-1252", "cp819": "windows-1252",
	"iso88591": "windows-1252", "iso_8859_1": "windows-1252", "x-ansi": "windows-1252",
	"utf8": "utf-8", "x-unicode20utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
	"ascii": "us-ascii", "ansi_x3.4-1968": "us-ascii", "646": "us-ascii",
}

func init() {
	message.CharsetReader = charsetReader
}

// charsetReader is message.CharsetReader with the additions above. It
// fails only when the input cannot be read: an unknown label is guessed
// (go-message would otherwise keep the bytes undecoded).
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	name := normalizeCharset(label)
	switch name {
	case "utf-7", "unicode-1-1-utf-7", "x-utf-7", "csunicode11utf7":
		raw, err := io.ReadAll(io.LimitReader(input, 64<<20))
		if err != nil {
			return nil, err
		}
		return strings.NewReader(decodeUTF7(raw)), nil
	case "utf-8":
		return input, nil
	case "us-ascii":
		raw, err := io.ReadAll(io.LimitReader(input, 64<<20))
		if err != nil {
			return nil, err
		}
		if d, ok := decodeASCIILabelled(raw); ok {
			return bytes.NewReader(d), nil
		}
		return bytes.NewReader(raw), nil
	}
	if r, err := charset.Reader(name, input); err == nil {
		return r, nil
	}
	// Unknown: guess from the bytes.
	raw, err := io.ReadAll(io.LimitReader(input, 64<<20))
	if err != nil {
		return nil, err
	}
	if utf8.Valid(raw) {
		return bytes.NewReader(raw), nil
	}
	return charset.Reader("windows-1252", bytes.NewReader(raw))
}

// headerDecoder decodes RFC 2047 encoded words. Go's mime.WordDecoder
// reads the labels ISO-8859-1 and US-ASCII itself, without the charset
// reader, so these labels are renamed first: ISO-8859-1 (and aliases) to
// Windows-1252, US-ASCII to "ascii" (which charsetReader reads as above).
type headerDecoder struct{ *mime.WordDecoder }

// wordLabel is the charset label of an encoded word (RFC 2231 language
// suffix included): "=?iso-8859-1?" or "=?us-ascii*en?".
var wordLabel = regexp.MustCompile(`(?i)=\?(iso-8859-1|us-ascii)(\*[^?]*)?\?`)

// DecodeHeader is mime.WordDecoder.DecodeHeader with the labels renamed.
func (d headerDecoder) DecodeHeader(s string) (string, error) {
	if strings.Contains(s, "=?") {
		s = wordLabel.ReplaceAllStringFunc(s, func(w string) string {
			if strings.EqualFold(w[2:4], "us") {
				return "=?ascii?"
			}
			return "=?windows-1252?"
		})
	}
	out, err := d.WordDecoder.DecodeHeader(s)
	return c1ToWindows1252(out), err
}

// c1ToWindows1252 maps C1 control characters (U+0080–U+009F), which is
// what an ISO-8859-1 reading of Windows-1252 bytes leaves, to the
// characters Windows-1252 has there. No mail means a C1 control.
func c1ToWindows1252(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 && r <= 0x9f }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f {
			if w := windows1252C1[r-0x80]; w != 0 {
				r = w
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// windows1252C1 is Windows-1252 at 0x80–0x9F (WHATWG index); the five
// unassigned positions stay as they are.
var windows1252C1 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// decodeASCIILabelled reads text labelled US-ASCII or not labelled at
// all: ISO-2022-JP when it is 7-bit with its escape sequences, as it is
// when it is valid UTF-8 (ok is false then), else Windows-1252.
func decodeASCIILabelled(raw []byte) ([]byte, bool) {
	if d, ok := decodeISO2022JP(raw); ok {
		return d, true
	}
	if utf8.Valid(raw) {
		return nil, false
	}
	r, err := charset.Reader("windows-1252", bytes.NewReader(raw))
	if err != nil {
		return nil, false
	}
	d, err := io.ReadAll(r)
	if err != nil {
		return nil, false
	}
	return d, true
}

// iso2022Escape are the escape sequences of ISO-2022-JP (RFC 1468):
// ESC $ @, ESC $ B (JIS X 0208), ESC ( J (JIS X 0201 Roman).
var iso2022Escape = [][]byte{{0x1b, '$', '@'}, {0x1b, '$', 'B'}, {0x1b, '(', 'J'}}

// decodeISO2022JP decodes b as ISO-2022-JP when it is 7-bit and holds
// one of its escape sequences; ok is false otherwise.
func decodeISO2022JP(b []byte) ([]byte, bool) {
	if bytes.IndexByte(b, 0x1b) < 0 {
		return nil, false
	}
	found := false
	for _, esc := range iso2022Escape {
		if bytes.Contains(b, esc) {
			found = true
			break
		}
	}
	if !found {
		return nil, false
	}
	for _, c := range b {
		if c >= 0x80 {
			return nil, false
		}
	}
	r, err := charset.Reader("iso-2022-jp", bytes.NewReader(b))
	if err != nil {
		return nil, false
	}
	d, err := io.ReadAll(r)
	if err != nil || !utf8.Valid(d) {
		return nil, false
	}
	return d, true
}

// normalizeCharset cleans a charset label: case, quotes, spaces, a
// pasted "charset=" prefix, and known aliases.
func normalizeCharset(label string) string {
	s := strings.ToLower(strings.TrimSpace(label))
	s = strings.Trim(s, `"' ;`)
	s = strings.TrimPrefix(s, "charset=")
	s = strings.Trim(s, `"' `)
	if a, ok := charsetAliases[s]; ok {
		return a
	}
	return s
}

// decodeUTF7 decodes RFC 2152 UTF-7: "+" starts modified base64 of
// UTF-16, "-" (or any character outside base64) ends it, "+-" is "+".
// Broken sequences are kept as written.
func decodeUTF7(b []byte) string {
	var out strings.Builder
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '+' {
			out.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(b) && isBase64Char(b[j]) {
			j++
		}
		if j == i+1 {
			out.WriteByte('+')
			if j < len(b) && b[j] == '-' {
				i = j // "+-" is a plus sign
			}
			continue
		}
		chunk := string(b[i+1 : j])
		if len(chunk)%4 == 1 {
			chunk = chunk[:len(chunk)-1] // six bits of padding only
		}
		dec, err := base64.RawStdEncoding.DecodeString(chunk)
		if err != nil || len(dec) < 2 {
			out.Write(b[i:j])
			i = j - 1
			continue
		}
		units := make([]uint16, 0, len(dec)/2)
		for k := 0; k+1 < len(dec); k += 2 {
			units = append(units, uint16(dec[k])<<8|uint16(dec[k+1]))
		}
		out.WriteString(string(utf16.Decode(units)))
		i = j - 1
		if j < len(b) && b[j] == '-' {
			i = j
		}
	}
	return out.String()
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}
