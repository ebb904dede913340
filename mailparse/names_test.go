package mailparse

import (
	"strings"
	"testing"
)

// TestAttachmentNamesStayOnOneLine: a file name that decodes to line
// breaks (RFC 2231 or an encoded word) would add lines to every mail and
// listing that names it.
func TestAttachmentNamesStayOnOneLine(t *testing.T) {
	raw := "From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--B\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename*=utf-8''a%0D%0AContent-Type%3A%20text%2Fhtml%0D%0A%0D%0A%3Cscript%3E.txt\r\n\r\nx\r\n" +
		"--B\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"=?utf-8?q?b=0Aevil=E2=80=A8x.txt?=\"\r\n\r\ny\r\n--B--\r\n"
	m, err := Parse([]byte(raw), DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 2 {
		t.Fatalf("%d attachments", len(m.Attachments))
	}
	for _, a := range m.Attachments {
		if strings.ContainsAny(a.Filename, "\r\n\u2028") {
			t.Errorf("file name with a line break: %q", a.Filename)
		}
	}
	if m.Attachments[0].Filename != "a Content-Type: text/html <script>.txt" {
		t.Errorf("file name: %q", m.Attachments[0].Filename)
	}
}
