package mailbox_test

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/helpdeskd/helpdeskd/mailparse"
)

// wireHeader returns the header block of a captured message as sent,
// with folded lines joined.
func wireHeader(t *testing.T, raw []byte) (string, textproto.MIMEHeader) {
	t.Helper()
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		t.Fatalf("no header end in %q", raw)
	}
	block := string(raw[:end+2])
	h, err := textproto.NewReader(bufio.NewReader(strings.NewReader(block + "\r\n"))).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("header as sent does not parse: %v\n%s", err, block)
	}
	return block, h
}

// What an acknowledgement carries on the wire (captured by the SMTP
// server) when the request had a spam display name, a display name that
// decodes to CR LF, and malformed Message-IDs: the recipient is the bare
// address, no injected field appears, and In-Reply-To/References hold
// only well-formed, balanced msg-ids.
func TestAcknowledgementHeadersOnTheWire(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, harnessOpts{})
		h.deliver(mail{from: `"Cheap pills at http://evil.example/rx" <victim@third.example>`, subject: "Printer",
			body: "x", headers: []string{
				`Message-ID: <bcc7@third.example"@evil.example>>`,
				`References: <ok1@third.example> <bad"q@evil.example> <ok2@[192.0.2.1]>`,
			}}.bytes())
		h.deliver(mail{from: "=?utf-8?q?Mallory=0D=0ABcc=3A_spy=40evil=2Eexample=0D=0AX-Injected=3A_1?= <mallory@third.example>",
			subject: "Keyboard", body: "x", id: "m1@third.example"}.bytes())
		h.once()
		got, err := h.smtp.WaitFor(2, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		byRcpt := map[string][]byte{}
		for _, c := range got {
			byRcpt[strings.Join(c.To, ",")] = c.Data
		}
		raw := byRcpt["victim@third.example"]
		if raw == nil {
			t.Fatalf("no mail to victim@third.example: %v", byRcpt)
		}
		block, hdr := wireHeader(t, raw)
		if to := hdr.Get("To"); to != "<victim@third.example>" && to != "victim@third.example" {
			t.Errorf("To: %q, want the bare address", to)
		}
		if strings.Contains(block, "evil.example/rx") || strings.Contains(block, "Cheap") {
			t.Errorf("the display name reached the header:\n%s", block)
		}
		if irt := hdr.Get("In-Reply-To"); irt != "" {
			t.Errorf("In-Reply-To: %q echoes a malformed Message-ID", irt)
		}
		refs := hdr.Get("References")
		if refs != "<ok1@third.example> <ok2@[192.0.2.1]>" {
			t.Errorf("References: %q, want only the two well-formed ids", refs)
		}
		m, err := mailparse.Parse(raw, mailparse.DefaultOptions)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Defects) > 0 {
			t.Errorf("the acknowledgement has defects: %q", m.Defects)
		}

		raw = byRcpt["mallory@third.example"]
		if raw == nil {
			t.Fatalf("no mail to mallory@third.example: %v", byRcpt)
		}
		block, hdr = wireHeader(t, raw)
		if to := hdr.Get("To"); to != "<mallory@third.example>" && to != "mallory@third.example" {
			t.Errorf("To: %q, want the bare address", to)
		}
		if hdr.Get("Bcc") != "" || hdr.Get("X-Injected") != "" || strings.Contains(block, "spy") {
			t.Errorf("a field was injected through the display name:\n%s", block)
		}
		if irt := hdr.Get("In-Reply-To"); irt != "<m1@third.example>" {
			t.Errorf("In-Reply-To: %q, want <m1@third.example>", irt)
		}
	})
}
