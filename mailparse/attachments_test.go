package mailparse

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func withAttachment(data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee\r\n")
	b.WriteString("--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"d.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--B--\r\n")
	return b.Bytes()
}

func TestAttachmentData(t *testing.T) {
	data := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)
	raw := withAttachment(data)
	a, err := AttachmentData(raw, DefaultOptions, 0)
	if err != nil || a.Filename != "d.bin" || !bytes.Equal(a.Data, data) {
		t.Fatalf("%+v %v", a.Filename, err)
	}
	if m, _ := Parse(raw, DefaultOptions); m.Attachments[0].Data != nil {
		t.Error("bytes kept without KeepAttachments")
	}
	if _, err := AttachmentData(raw, DefaultOptions, 1); err == nil || !strings.Contains(err.Error(), "attachment 1 of a message with 1") {
		t.Errorf("index out of range: %v", err)
	}
	if got := DecodeWords("=?utf-8?q?J=C3=BCrgen?= <j@x>, =?iso-8859-1?q?M=FCller?="); got != "Jürgen <j@x>, Müller" {
		t.Errorf("DecodeWords: %q", got)
	}
}

// BenchmarkAttachmentData: what the mailer pays to read a forwarded
// attachment back from its stored message.
func BenchmarkAttachmentData(b *testing.B) {
	for _, size := range []int{100 << 10, 10 << 20} {
		raw := withAttachment(bytes.Repeat([]byte("x"), size))
		b.Run(fmt.Sprint(size>>10, "KiB"), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := AttachmentData(raw, DefaultOptions, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
