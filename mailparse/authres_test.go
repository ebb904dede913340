package mailparse_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/mailparse"
)

// results renders the readable results as "method=value key=value ..." for
// comparison, and the bad ones as "BAD(method)".
func results(ar *mailparse.AuthResults) string {
	var parts []string
	for _, r := range ar.Results {
		p := r.Method + "=" + r.Value
		if r.Reason != "" {
			p += " reason=" + r.Reason
		}
		for _, pr := range r.Props {
			p += " " + pr.Type + "." + pr.Name + "=" + pr.Value
		}
		parts = append(parts, p)
	}
	for _, b := range ar.Bad {
		parts = append(parts, "BAD("+b.Method+")")
	}
	if ar.None {
		parts = append(parts, "none")
	}
	return strings.Join(parts, "; ")
}

func TestParseAuthResults(t *testing.T) {
	for _, c := range []struct {
		name, in, id, want string
		version            int
	}{
		{"simple", "mx.corp.example; dmarc=pass header.from=corp.example", "mx.corp.example",
			"dmarc=pass header.from=corp.example", 1},
		// The example: a genuine header for the envelope sender
		// "a;dmarc=pass;b=c"@evil.example reads as spf=pass for that
		// sender and dmarc=fail, never as dmarc=pass.
		{"semicolon in a quoted local part", `mx.corp.example; spf=pass smtp.mailfrom="a;dmarc=pass;b=c"@evil.example; dmarc=fail header.from=corp.example`,
			"mx.corp.example", `spf=pass smtp.mailfrom="a;dmarc=pass;b=c"@evil.example; dmarc=fail header.from=corp.example`, 1},
		// OpenDKIM's usual comment holds a ";".
		{"semicolon in a comment", "mx.corp.example; dkim=pass (2048-bit key; unprotected) header.d=corp.example header.i=@corp.example header.b=AbC+/dE=",
			"mx.corp.example", "dkim=pass header.d=corp.example header.i=@corp.example header.b=AbC+/dE=", 1},
		{"nested comments with quoted pairs", `mx.corp.example (a (b; dmarc=pass) \) c;); dkim=fail (x (y)) header.d=corp.example`,
			"mx.corp.example", "dkim=fail header.d=corp.example", 1},
		{"quoted authserv-id and version", `"mx.corp.example" 1; spf=pass smtp.mailfrom=corp.example`, "mx.corp.example",
			"spf=pass smtp.mailfrom=corp.example", 1},
		{"version 2", "mx.corp.example 2 ; auth=pass smtp.auth=alice", "mx.corp.example", "auth=pass smtp.auth=alice", 2},
		{"none", "mx.corp.example; none", "mx.corp.example", "none", 1},
		{"none with comment", "mx.corp.example (nothing was checked) ;\r\n none", "mx.corp.example", "none", 1},
		{"reason quoted with semicolon", `mx.corp.example; dmarc=fail reason="p=reject; a=b" header.from=corp.example`, "mx.corp.example",
			"dmarc=fail reason=p=reject; a=b header.from=corp.example", 1},
		{"reason token", "mx.corp.example; spf=fail reason=nope smtp.mailfrom=corp.example", "mx.corp.example",
			"spf=fail reason=nope smtp.mailfrom=corp.example", 1},
		{"method version", "mx.corp.example; dkim/1=pass header.d=corp.example", "mx.corp.example", "dkim=pass header.d=corp.example", 1},
		{"folded", "mx.corp.example;\r\n\tdkim=pass (2048-bit key) header.d=corp.example header.s=sel;\r\n\tdkim-atps=neutral", "mx.corp.example",
			"dkim=pass header.d=corp.example header.s=sel; dkim-atps=neutral", 1},
		{"policy and body ptypes", "mx.corp.example; dkim=pass body.hash=x policy.dkim-rules=unsigned-subject", "mx.corp.example",
			"dkim=pass body.hash=x policy.dkim-rules=unsigned-subject", 1},
		{"case folded", "MX.corp.example; DMARC=PASS Header.From=Corp.Example", "MX.corp.example", "dmarc=pass header.from=Corp.Example", 1},
		{"spaces around dot and equals", "mx.corp.example; dkim = pass header . d = corp.example", "mx.corp.example", "dkim=pass header.d=corp.example", 1},
		// Fail closed per result: the malformed result is bad, the others count.
		{"unknown ptype", "mx.corp.example; dmarc=pass evil.from=corp.example; spf=fail smtp.mailfrom=corp.example", "mx.corp.example",
			"spf=fail smtp.mailfrom=corp.example; BAD(dmarc)", 1},
		{"missing result", "mx.corp.example; dmarc=; dkim=pass header.d=corp.example", "mx.corp.example", "dkim=pass header.d=corp.example; BAD(dmarc)", 1},
		{"no equals", "mx.corp.example; dmarc pass", "mx.corp.example", "BAD(dmarc)", 1},
		{"unclosed comment eats the rest", "mx.corp.example; dkim=fail (oops; dmarc=pass header.from=corp.example", "mx.corp.example", "BAD(dkim)", 1},
		{"unclosed quote eats the rest", `mx.corp.example; spf=pass smtp.mailfrom="x; dmarc=pass`, "mx.corp.example", "BAD(spf)", 1},
		{"nothing after the semicolon", "mx.corp.example;", "mx.corp.example", "BAD()", 1},
		{"empty result", "mx.corp.example; ; dmarc=fail", "mx.corp.example", "dmarc=fail; BAD()", 1},
		{"none among results", "mx.corp.example; dmarc=fail; none", "mx.corp.example", "dmarc=fail; BAD(none)", 1},
		{"reason after a property", "mx.corp.example; dmarc=pass header.from=corp.example reason=x", "mx.corp.example", "BAD(dmarc)", 1},
		{"empty property value", "mx.corp.example; dmarc=pass header.from=", "mx.corp.example", "BAD(dmarc)", 1},
		{"no space before property", `mx.corp.example; spf=pass"x"`, "mx.corp.example", "BAD(spf)", 1},
		{"utf-8 value", "mx.corp.example; dmarc=pass header.from=bücher.example", "mx.corp.example", "dmarc=pass header.from=bücher.example", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ar, err := mailparse.ParseAuthResults(c.in)
			if err != nil {
				t.Fatalf("ParseAuthResults(%q): %v", c.in, err)
			}
			if ar.AuthservID != c.id || ar.Version != c.version {
				t.Errorf("authserv-id %q version %d, want %q %d", ar.AuthservID, ar.Version, c.id, c.version)
			}
			if got := results(ar); got != c.want {
				t.Errorf("ParseAuthResults(%q)\n got %s\nwant %s", c.in, got, c.want)
			}
			for _, b := range ar.Bad {
				if !errors.Is(b.Err, mailparse.ErrAuthResults) || b.Text == "" && b.Method != "" {
					t.Errorf("bad result %+v", b)
				}
			}
		})
	}
}

func TestParseAuthResultsErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "no authserv-id"},
		{"   ", "no authserv-id"},
		{"(only a comment)", "no authserv-id"},
		{"mx.corp.example", "no result"},
		{"mx.corp.example 0; dkim=pass", "authres-version"},
		{"mx.corp.example dkim=pass", "want \";\""},
		{"(unclosed mx.corp.example; dkim=pass", "comment not closed"},
		{`"mx.corp.example; dkim=pass`, "quoted string not closed"},
	} {
		_, err := mailparse.ParseAuthResults(c.in)
		if err == nil || !errors.Is(err, mailparse.ErrAuthResults) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseAuthResults(%q) = %v, want an error saying %q", c.in, err, c.want)
		}
	}
}

func TestAuthResultProp(t *testing.T) {
	ar, err := mailparse.ParseAuthResults("mx; dkim=pass header.d=a.example header.D=b.example")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := ar.Results[0].Prop("HEADER", "d"); !ok || v != "a.example" {
		t.Errorf("Prop = %q %v", v, ok)
	}
	if _, ok := ar.Results[0].Prop("smtp", "mailfrom"); ok {
		t.Error("Prop found a property that is not there")
	}
}

// TestAuthResultsFromRealMilters reads the fields Postfix 3.7, OpenDKIM
// 2.11, OpenDMARC 1.4.2 and policyd-spf 3.0.4 wrote on loopback
// (testdata/authres): every one parses without a bad result, and the
// header order is the one the trust rule relies on: the fields the
// border's milters and policy service add sit above the Received field
// Postfix wrote, and the fields the sender wrote stay below it.
func TestAuthResultsFromRealMilters(t *testing.T) {
	for _, f := range []string{"postfix-opendkim-opendmarc-signed.eml", "postfix-opendkim-opendmarc-forged.eml"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "authres", f))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mailparse.Parse(raw, mailparse.Options{})
		if err != nil {
			t.Fatal(err)
		}
		seenReceived, above, below := false, 0, 0
		for _, fl := range m.Fields("Received", "Authentication-Results") {
			if fl.Name == "Received" {
				seenReceived = true
				continue
			}
			ar, err := mailparse.ParseAuthResults(fl.Value)
			if err != nil || len(ar.Bad) > 0 {
				t.Errorf("%s: %q: %v %+v", f, fl.Value, err, ar)
				continue
			}
			if seenReceived {
				below++
			} else {
				above++
			}
		}
		if above < 3 || below < 1 {
			t.Errorf("%s: %d fields above the Received, %d below", f, above, below)
		}
		if m.FromMailboxes != 1 {
			t.Errorf("%s: FromMailboxes %d", f, m.FromMailboxes)
		}
	}
}

func TestFromMailboxes(t *testing.T) {
	for _, c := range []struct {
		header string
		want   int
	}{
		{"From: a@corp.example\r\n", 1},
		{"From: A <a@corp.example>, b@evil.example\r\n", 2},
		{"From: a@corp.example\r\nFrom: b@evil.example\r\n", 2},
		{"To: x@corp.example\r\n", 0},
		{"From: a@corp.example b@evil.example\r\n", 2}, // unparseable: lenient count
	} {
		m, err := mailparse.Parse([]byte(c.header+"Subject: x\r\n\r\nbody\r\n"), mailparse.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m.FromMailboxes != c.want {
			t.Errorf("%q: FromMailboxes %d, want %d", c.header, m.FromMailboxes, c.want)
		}
	}
}

func TestFieldsInHeaderOrder(t *testing.T) {
	m, err := mailparse.Parse([]byte("Authentication-Results: a; none\r\nReceived: r1\r\nFrom: x@y.example\r\nauthentication-results: b; none\r\nReceived: r2\r\n\r\n"), mailparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range m.Fields("received", "AUTHENTICATION-RESULTS") {
		got = append(got, f.Name+":"+f.Value)
	}
	if want := "Authentication-Results:a; none Received:r1 Authentication-Results:b; none Received:r2"; strings.Join(got, " ") != want {
		t.Errorf("Fields = %q, want %q", strings.Join(got, " "), want)
	}
}

// FuzzAuthResults: ParseAuthResults never panics, and every readable
// result came from text outside comments: a result read from a field
// whose comments are all removed is the same, so a ";" or "pass" inside
// a comment can never produce a result.
func FuzzAuthResults(f *testing.F) {
	for _, s := range []string{
		"mx.corp.example; dmarc=none (p=none dis=none) header.from=corp.example",
		"mx.corp.example;\r\n\tdkim=pass (2048-bit key) header.d=corp.example header.i=@corp.example header.a=rsa-sha256 header.s=sel header.b=Jzzp5SJM;\r\n\tdkim-atps=neutral",
		"mx.corp.example; spf=none (no SPF record) smtp.mailfrom=evil.example (client-ip=127.0.0.1; helo=evil.example; envelope-from=mallory@evil.example; receiver=corp.example)",
		`mx.corp.example; spf=pass smtp.mailfrom="a;dmarc=pass;b=c"@evil.example; dmarc=fail header.from=corp.example`,
		"mx.corp.example; dkim=pass (2048-bit key; unprotected) header.d=corp.example",
		`"mx" 1 (c (d)); dmarc=fail reason="x;y" header.from=corp.example; none`,
		"mx.corp.example; none",
		"mx; a/1=b c.d=e; (;", `mx; x="\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ar, err := mailparse.ParseAuthResults(s)
		if err != nil {
			if !errors.Is(err, mailparse.ErrAuthResults) {
				t.Fatalf("error %v does not wrap ErrAuthResults", err)
			}
			return
		}
		if ar.AuthservID == "" {
			t.Fatal("no authserv-id and no error")
		}
		for _, r := range ar.Results {
			if r.Method == "" || r.Value == "" {
				t.Fatalf("result without method or value: %+v", r)
			}
			for _, p := range r.Props {
				if p.Value == "" || p.Name == "" {
					t.Fatalf("empty property: %+v", p)
				}
			}
		}
		if ar.None && len(ar.Results) > 0 {
			t.Fatal("none with results")
		}
		// Results are never created by comment text: removing the
		// comments (where they are well formed) gives the same
		// readable results.
		if stripped, ok := stripComments(s); ok {
			ar2, err := mailparse.ParseAuthResults(stripped)
			if err != nil {
				t.Fatalf("%q parsed, but without its comments %q does not: %v", s, stripped, err)
			}
			if results2 := onlyGood(ar2); onlyGood(ar) != results2 {
				t.Fatalf("%q: results %s, without comments %s", s, onlyGood(ar), results2)
			}
		}
	})
}

func onlyGood(ar *mailparse.AuthResults) string {
	c := *ar
	c.Bad = nil
	return results(&c)
}

// stripComments replaces every comment outside quoted strings by a space;
// ok is false when the comments or quotes are not balanced.
func stripComments(s string) (string, bool) {
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted:
			if c == '\\' && i+1 < len(s) {
				b.WriteByte(c)
				i++
				c = s[i]
			} else if c == '"' {
				quoted = false
			}
			b.WriteByte(c)
		case depth > 0:
			switch c {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					b.WriteByte(' ')
				}
			}
		case c == '(':
			depth = 1
		case c == '"':
			quoted = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), depth == 0 && !quoted
}
