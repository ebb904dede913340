package mailparse

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkParseCorpus parses every message of the shared corpus once
// per op; MB/s is over the raw bytes.
func BenchmarkParseCorpus(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(corpusDir(b), "*", "*.eml"))
	if len(files) == 0 {
		b.Fatal("no corpus messages")
	}
	var raws [][]byte
	var total int64
	for _, f := range files {
		if raw, err := os.ReadFile(f); err == nil {
			raws = append(raws, raw)
			total += int64(len(raw))
		}
	}
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, raw := range raws {
			Parse(raw, DefaultOptions)
		}
	}
	b.ReportMetric(float64(len(raws)*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkParse20MBAttachment: memory per message when most of it is an
// attachment, which is counted, not kept.
func BenchmarkParse20MBAttachment(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("From: a@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--B\r\nContent-Type: application/octet-stream\r\n" +
		"Content-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xA5, 0x5A, 0x33}, 20<<20/3))
	for i := 0; i < len(enc); i += 76 {
		buf.WriteString(enc[i:min(i+76, len(enc))])
		buf.WriteString("\r\n")
	}
	buf.WriteString("--B--\r\n")
	raw := buf.Bytes()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m, err := Parse(raw, DefaultOptions)
		if err != nil || len(m.Attachments) != 1 || !strings.HasPrefix(m.Text, "see attached") {
			b.Fatalf("%v %+v", err, m)
		}
	}
}
