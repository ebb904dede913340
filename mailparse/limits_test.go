package mailparse

import (
	"strings"
	"testing"
	"time"
)

// parseTimeLimit is how long a test lets Parse take on raw: one second
// plus a millisecond per KB, times slowdown under the race detector (a
// linear parser needs a tenth of that on a loaded machine; a quadratic
// one needs minutes for the inputs below).
func parseTimeLimit(raw []byte) time.Duration {
	return slowdown * (time.Second + time.Duration(len(raw)/1024)*time.Millisecond)
}

// A header of many lines without a colon followed by a field: every such
// line was joined to the field before after a scan to the end of the
// header, O(N²) (900 KB took minutes).
func TestColonlessHeaderLinesParseInLinearTime(t *testing.T) {
	for _, eol := range []string{"\r\n", "\n"} {
		raw := []byte("From: a@example.org" + eol + "Subject: s" + eol +
			strings.Repeat("abcdefghijklmnop"+eol, 50000) + "To: b@example.org" + eol + eol + "body" + eol)
		if len(raw) < 850_000 {
			t.Fatalf("input is only %d bytes", len(raw))
		}
		start := time.Now()
		m, err := Parse(raw, DefaultOptions)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d bytes, %q line ends: %v", len(raw), eol, took)
		if took > slowdown*time.Second {
			t.Errorf("%d bytes of colonless header lines took %v", len(raw), took)
		}
		if m.From.Addr != "a@example.org" || len(m.To) != 1 || m.To[0].Addr != "b@example.org" || m.Text != "body" {
			t.Errorf("from %v to %v text %q", m.From, m.To, m.Text)
		}
		if !hasDefect(m, "joined to the field before") || !hasDefect(m, "more repairs like these") {
			t.Errorf("defects %q", m.Defects)
		}
		if len(m.Defects) > maxRepairNotes+5 {
			t.Errorf("%d defects", len(m.Defects))
		}
	}
}

// Other header shapes an attacker can repeat up to the header limit; each
// must cost time linear in its size.
func TestAdversarialHeadersParseInBoundedTime(t *testing.T) {
	const n = 50000
	for name, raw := range map[string]string{
		"colonless runs between fields":            "From: a@x\r\n" + strings.Repeat("abc\r\nX-A: b\r\n", n) + "\r\nbody",
		"colonless, continuation and spaced names": "From: a@x\r\n" + strings.Repeat("abc\r\n x\r\na b: c\r\n", n) + "To: b@x\r\n\r\nbody",
		"CR line ends":        strings.ReplaceAll("From: a@x\nSubject: s\n"+strings.Repeat("abcdefghijklmnop\n", n)+"To: b@x\n\nbody", "\n", "\r"),
		"spaces before colon": "From: a@x\r\nbad line\r\n" + strings.Repeat("X-A : abcdefghijk\r\n", n) + "To: b@x\r\n\r\nbody",
		"8-bit field names":   "From: a@x\r\n" + strings.Repeat("X-\xe9: abcdefghijk\r\n", n) + "To: b@x\r\n\r\nbody",
		"indented header":     "  From: a@x\r\n" + strings.Repeat("  X-A: b\r\n", n) + "\r\nbody",
		"long References":     "From: a@x\r\nReferences: " + strings.Repeat("<a@b.c> ", n) + "\r\n\r\nbody",
		"long To":             "From: a@x\r\nTo: " + strings.Repeat("g: a@b;, ", n) + "\r\n\r\nbody",
		"nested comments":     "From: a@x\r\nTo: " + strings.Repeat("(", n) + strings.Repeat(")", n) + " b@x\r\n\r\nbody",
		"open angles":         "From: a@x\r\nMessage-ID: " + strings.Repeat("<", n) + "\r\nIn-Reply-To: " + strings.Repeat("<a", n) + "\r\n\r\nbody",
		"encoded words":       "From: a@x\r\nSubject: " + strings.Repeat("=?utf-8?q?a?= ", n) + "\r\n\r\nbody",
		"leading blank lines": strings.Repeat("\r\n", n) + "From: a@x\r\n\r\nbody",
	} {
		start := time.Now()
		m, err := Parse([]byte(raw), DefaultOptions)
		took := time.Since(start)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m.From.Addr != "a@x" {
			t.Errorf("%s: from %v", name, m.From)
		}
		if limit := parseTimeLimit([]byte(raw)); took > limit {
			t.Errorf("%s: %d bytes took %v (limit %v)", name, len(raw), took, limit)
		}
	}
}

// Past the parse budget the message is still recorded: header fields
// read, the rest skipped, and a defect naming the limit.
func TestParseBudgetRecordsWithDefect(t *testing.T) {
	raw := []byte("From: a@example.org\r\nMessage-ID: <x@example.org>\r\nSubject: s\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n")
	opts := DefaultOptions
	opts.MaxParseTime = time.Nanosecond
	m, err := Parse(raw, opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "x@example.org" || m.From.Addr != "a@example.org" || m.Subject != "s" {
		t.Errorf("header not read: %q %v %q", m.MessageID, m.From, m.Subject)
	}
	if !hasDefect(m, "parse budget of 1ns spent") || !hasDefect(m, "(limit)") {
		t.Errorf("defects %q", m.Defects)
	}
	if m.Text != "" {
		t.Errorf("text %q read past the budget", m.Text)
	}
	m, err = Parse(raw, DefaultOptions)
	if err != nil || m.Text != "hello" || hasDefect(m, "budget") {
		t.Errorf("default budget: %v %q %q", err, m.Text, m.Defects)
	}
}

func hasDefect(m *Message, sub string) bool {
	for _, d := range m.Defects {
		if strings.Contains(d, sub) {
			return true
		}
	}
	return false
}

// In an HTML-only mail, what a mail client does not show is not text.
func TestHiddenHTMLIsNotText(t *testing.T) {
	for name, hidden := range map[string]string{
		"display:none":        `<div style="display:none">#priority P5</div>`,
		"display:none spaced": `<div style="color: red; DISPLAY : None !important">#priority P5</div>`,
		"visibility:hidden":   `<span style="visibility:hidden">#priority P5</span>`,
		"hidden attribute":    `<p hidden>#priority P5</p>`,
		"font-size:0":         `<span style="font-size:0px">#priority P5</span>`,
		"template":            `<template><p>#priority P5</p></template>`,
		"comment":             `<!-- #priority P5 -->`,
		"conditional comment": `<!--[if mso]><p>#priority P5</p><![endif]-->`,
		"mso-hide:all":        `<div style="mso-hide:all">#priority P5</div>`,
		"opacity:0":           `<div style="opacity:0">#priority P5</div>`,
		"collapsed box":       `<div style="max-height:0;overflow:hidden">#priority P5</div>`,
		"nested":              `<div style="display:none"><table><tr><td><b>#priority P5</b></td></tr></table></div>`,
	} {
		raw := "From: a@example.org\r\nSubject: s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
			"<html><body>" + hidden + "<p>Looking into it.</p><div style=\"font-size:10px\">Visible</div></body></html>\r\n"
		m, err := Parse([]byte(raw), DefaultOptions)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !m.HTMLOnly || strings.Contains(m.Text, "P5") || !strings.Contains(m.Text, "Looking into it.") || !strings.Contains(m.Text, "Visible") {
			t.Errorf("%s: text %q", name, m.Text)
		}
	}
}
