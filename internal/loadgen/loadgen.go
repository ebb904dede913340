// Package loadgen makes realistic test mail for benchmarks: 2-20 KB
// messages from many senders, a share of them replies (In-Reply-To a
// previous one), a share with a base64 attachment.
package loadgen

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Messages returns n messages, deterministic for a seed.
func Messages(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 7))
	words := strings.Fields("printer vpn outlook laptop screen password reset network slow crash error cannot login email calendar share drive backup monitor keyboard mouse wifi teams update license")
	out := make([][]byte, n)
	for i := range out {
		var b bytes.Buffer
		sender := fmt.Sprintf("user%d@staff.example.com", r.IntN(500))
		subj := words[r.IntN(len(words))] + " " + words[r.IntN(len(words))] + " problem " + fmt.Sprint(i)
		fmt.Fprintf(&b, "Received: from mx.example.com by imap.example.com; Mon, 23 Nov 2026 09:00:00 +0000\r\n")
		fmt.Fprintf(&b, "From: User %d <%s>\r\nTo: support@example.com\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n", i, sender)
		fmt.Fprintf(&b, "Message-ID: <load%d.%d@staff.example.com>\r\n", seed, i)
		if i > 0 && i%2 == 1 {
			parent := r.IntN(i)
			fmt.Fprintf(&b, "Subject: Re: %s\r\nIn-Reply-To: <load%d.%d@staff.example.com>\r\nReferences: <load%d.%d@staff.example.com>\r\n", subj, seed, parent, seed, parent)
		} else {
			fmt.Fprintf(&b, "Subject: %s\r\n", subj)
		}
		size := 2000 + r.IntN(18000)
		attach := i%5 == 0
		b.WriteString("MIME-Version: 1.0\r\n")
		if attach {
			b.WriteString("Content-Type: multipart/mixed; boundary=BOUNDARY\r\n\r\n--BOUNDARY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
		} else {
			b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
		}
		body := size
		if attach {
			body = size / 3
		}
		for b.Len() < body {
			for j := 0; j < 12; j++ {
				b.WriteString(words[r.IntN(len(words))])
				b.WriteByte(' ')
			}
			b.WriteString("\r\n")
		}
		if attach {
			b.WriteString("\r\n--BOUNDARY\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=screenshot.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n")
			blob := make([]byte, (size-b.Len())*3/4)
			for k := range blob {
				blob[k] = byte(r.IntN(256))
			}
			enc := base64.StdEncoding.EncodeToString(blob)
			for len(enc) > 76 {
				b.WriteString(enc[:76] + "\r\n")
				enc = enc[76:]
			}
			b.WriteString(enc + "\r\n--BOUNDARY--\r\n")
		}
		out[i] = b.Bytes()
	}
	return out
}
