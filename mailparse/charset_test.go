package mailparse

import (
	"encoding/base64"
	"testing"
)

// jis is "こんにちは" in ISO-2022-JP (RFC 1468): ESC $ B, JIS X 0208
// codes, ESC ( B.
const jis = "\x1b$B$3$s$K$A$O\x1b(B"

// TestWindows1252UnderLatin1Labels: bytes 0x80–0x9F in text labelled
// ISO-8859-1 or US-ASCII are Windows-1252 (WHATWG), in bodies and in
// encoded words; 7-bit ISO-2022-JP without a label is Japanese.
func TestWindows1252UnderLatin1Labels(t *testing.T) {
	outlook := "It\x92s \x93fixed\x94\x85 costs \x80 10"
	want := "It’s “fixed”… costs € 10"
	for _, c := range []struct {
		name, raw, subject, text string
	}{
		{"8bit body iso-8859-1", "From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + outlook, "x", want},
		{"quoted-printable body iso-8859-1", "From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=\"ISO-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nIt=92s =93fixed=94=85 costs =80 10", "x", want},
		{"base64 body latin1 alias", "From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=latin1\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte(outlook)), "x", want},
		{"us-ascii label with 8-bit bytes", "From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + outlook, "x", want},
		{"us-ascii label with utf-8 bytes", "From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nGrüße", "x", "Grüße"},
		{"plain latin-1 letters unchanged", "From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nGr\xfc\xdfe \xe0 bient\xf4t", "x", "Grüße à bientôt"},
		{"encoded word q iso-8859-1", "From: a@example.com\r\nSubject: =?iso-8859-1?Q?It=92s_=93fixed=94=85_costs_=80_10?=\r\n\r\nbody", want, "body"},
		{"encoded word b iso-8859-1", "From: a@example.com\r\nSubject: =?ISO-8859-1?B?" + base64.StdEncoding.EncodeToString([]byte(outlook)) + "?=\r\n\r\nbody", want, "body"},
		{"encoded word us-ascii", "From: a@example.com\r\nSubject: =?us-ascii?Q?=93Quote=94?=\r\n\r\nbody", "“Quote”", "body"},
		{"iso-2022-jp body without label", "From: a@example.jp\r\nSubject: x\r\nContent-Type: text/plain\r\n\r\n" + jis + "\r\n", "x", "こんにちは"},
		{"iso-2022-jp body without content-type", "From: a@example.jp\r\nSubject: x\r\n\r\n" + jis + " 10:30\r\n", "x", "こんにちは 10:30"},
		{"iso-2022-jp labelled us-ascii", "From: a@example.jp\r\nSubject: x\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + jis, "x", "こんにちは"},
		{"iso-2022-jp subject unencoded", "From: a@example.jp\r\nSubject: " + jis + "\r\n\r\nbody", "こんにちは", "body"},
		{"escape that is not iso-2022-jp", "From: a@example.com\r\nSubject: x\r\n\r\nline \x1b[1mbold\x1b[0m", "x", "line \x1b[1mbold\x1b[0m"},
	} {
		m, err := Parse([]byte(c.raw), DefaultOptions)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if m.Subject != c.subject || m.Text != c.text {
			t.Errorf("%s: subject %q text %q, want %q %q", c.name, m.Subject, m.Text, c.subject, c.text)
		}
	}
}

// TestSenderWithoutFrom: a message with Sender but no From has the
// Sender mailbox as its author.
func TestSenderWithoutFrom(t *testing.T) {
	for _, c := range []struct{ name, header, addr, display string }{
		{"exchange sender only", "Sender: Anna Example <anna@example.com>\r\n", "anna@example.com", "Anna Example"},
		{"encoded name", "Sender: =?iso-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>\r\n", "joerg@example.de", "Jörg Müller"},
		{"bare address", "Sender: ops@example.org\r\n", "ops@example.org", ""},
		{"empty from", "From: \r\nSender: Anna Example <anna@example.com>\r\n", "anna@example.com", "Anna Example"},
		{"from without a mailbox", "From: Undisclosed\r\nSender: anna@example.com\r\n", "anna@example.com", ""},
		{"from wins over sender", "From: Boss <boss@example.com>\r\nSender: Assistant <assist@example.com>\r\n", "boss@example.com", "Boss"},
	} {
		m, err := Parse([]byte(c.header+"To: support@example.com\r\nSubject: Printer\r\n\r\nbroken"), DefaultOptions)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if m.From.Addr != c.addr || m.From.Name != c.display {
			t.Errorf("%s: From %+v, want %s %q", c.name, m.From, c.addr, c.display)
		}
		if m.Sender.Addr == "" {
			t.Errorf("%s: Sender %+v", c.name, m.Sender)
		}
	}
}
