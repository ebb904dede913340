package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// part is one leaf of a MIME message.
type part struct {
	header textproto
	body   []byte
}

type textproto map[string][]string

func (h textproto) get(k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// leaves walks a MIME entity and returns its leaf parts, decoded.
func leaves(t *testing.T, header map[string][]string, body io.Reader) []part {
	t.Helper()
	h := textproto(header)
	mt, params, err := mime.ParseMediaType(h.get("Content-Type"))
	if err != nil {
		t.Fatalf("content type %q: %v", h.get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		var out []part
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, leaves(t, p.Header, p)...)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(h.get("Content-Transfer-Encoding")) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding a %s part: %v", h.get("Content-Transfer-Encoding"), err)
	}
	return []part{{h, b}}
}

// TestSummaryDeliveredWithRunOnce: "run --once --now" at Monday 07:30
// (Berlin) sends the weekly summary through SMTP once: HTML with the
// chart inline by its Content-ID, a plain-text alternative, and the
// week's register as XLSX that reads back (date cells, a neutralised
// subject); a second run sends nothing.
func TestSummaryDeliveredWithRunOnce(t *testing.T) {
	imapSrv, smtpSrv, _, cfgPath, child := escalationRig(t, "sqlite")
	cfg, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append(cfg, []byte(`
[[summary]]
name = "weekly"
schedule = "mon 07:30"
period = "week"
to = ["management@example.com"]
attach = ["xlsx"]
`)...), 0o600)
	imapSrv.Append("INBOX", []byte("From: Carol <carol@example.com>\r\nTo: support@example.com\r\nSubject: =cmd|' /C calc'!A0\r\n"+
		"Message-ID: <req1@example.com>\r\n\r\nSpreadsheet trick.\r\n"))
	imapSrv.Append("INBOX", []byte("From: Dave <dave@example.com>\r\nTo: support@example.com\r\nSubject: Printer jams\r\n"+
		"Message-ID: <req2@example.com>\r\n\r\nIt jams.\r\n"))
	for _, at := range []string{"2026-11-24 09:00", "2026-11-30 07:29"} {
		if out, err := child(at).CombinedOutput(); err != nil && !strings.Contains(string(out), "outbox") {
			t.Fatalf("run at %s: %v\n%s", at, err, out)
		}
	}
	before := 0
	for _, c := range smtpSrv.Captured() {
		if strings.Contains(strings.Join(c.To, ","), "management@example.com") {
			before++
		}
	}
	for range 2 {
		if out, err := child("2026-11-30 07:30").CombinedOutput(); err != nil && !strings.Contains(string(out), "outbox") {
			t.Fatalf("run at 07:30: %v\n%s", err, out)
		}
	}
	var sums [][]byte
	for _, c := range smtpSrv.Captured() {
		if strings.Contains(strings.Join(c.To, ","), "management@example.com") {
			sums = append(sums, c.Data)
		}
	}
	// 07:29 recorded week 47's as not sent (a summary new to the
	// configuration); 07:30 sends week 48's.
	if len(sums)-before != 1 {
		t.Fatalf("%d summaries at 07:30 (two runs), want 1", len(sums)-before)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(sums[len(sums)-1]))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if !strings.Contains(subj, "weekly accountability summary, week 48 of 2026") || msg.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("subject %q, Auto-Submitted %q", subj, msg.Header.Get("Auto-Submitted"))
	}
	var html, text string
	var png, xlsx []byte
	for _, p := range leaves(t, msg.Header, msg.Body) {
		mt, _, _ := mime.ParseMediaType(p.header.get("Content-Type"))
		switch {
		case mt == "text/html":
			html = string(p.body)
		case mt == "text/plain":
			text = string(p.body)
		case mt == "image/png":
			if p.header.get("Content-Id") != "<chart@helpdeskd>" {
				t.Errorf("chart Content-ID %q", p.header.get("Content-Id"))
			}
			png = p.body
		case strings.Contains(p.header.get("Content-Disposition"), "register-2026-W48.xlsx"):
			xlsx = p.body
		}
	}
	if !strings.Contains(html, `src="cid:chart@helpdeskd"`) || !strings.Contains(html, `alt="Incidents opened and resolved`) {
		t.Errorf("the HTML does not show the chart by its Content-ID")
	}
	if !strings.Contains(text, "HEADLINE") || !strings.Contains(text, "Opened                   2 / 0") {
		t.Errorf("text alternative:\n%s", text)
	}
	if len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("chart: %d bytes", len(png))
	}
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatalf("the XLSX does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("Incidents")
	if err != nil || len(rows) != 3 || rows[0][3] != "opened (Europe/Berlin)" {
		t.Fatalf("XLSX rows: %v %v", err, rows)
	}
	if rows[1][1] != `'=cmd|' /C calc'!A0` {
		t.Errorf("subject cell %q: not neutralised", rows[1][1])
	}
	if typ, _ := f.GetCellType("Incidents", "D2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("opened is a text cell, want a date")
	}
}
