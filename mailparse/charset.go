package mailparse

import (
	"bytes"
	"encoding/base64"
	"io"
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

var charsetAliases = map[string]string{
	"iso-gb2312": "gb2312", "gb_2312-80": "gb2312", "x-gbk": "gbk", "cp936": "gbk",
	"ks_c_5601": "euc-kr", "ks_c_5601-1987": "euc-kr", "x-euc-jp": "euc-jp", "x-sjis": "shift_jis",
	"x-mac-roman": "macintosh", "cp1252": "windows-1252", "x-user-defined": "windows-1252",
	"latin-1": "iso-8859-1", "iso8859-1": "iso-8859-1", "iso-latin-1": "iso-8859-1",
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
	case "utf-8", "us-ascii":
		return input, nil
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
