package workflow

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailparse"
)

const (
	rcvBorder = "Received: from out.evil.example (out.evil.example [192.0.2.7]) by mx.corp.example (Postfix) with ESMTP id 4Q1; Sun, 29 Nov 2026 19:25:55 +0000"
	rcvLMTP   = "Received: from mx.corp.example by imap.corp.example (Dovecot) with LMTP id x1; Sun, 29 Nov 2026 19:25:56 +0000"
)

func authConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	c, err := config.Parse("t.toml", []byte("[helpdesk]\naddress = \"helpdesk@corp.example\"\n[commands]\ntrusted_authserv_ids = [\"mx.corp.example\"]\n"+extra))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// authMail is a message whose header is the given lines (top first)
// followed by From, To, Subject and Message-ID.
func authMail(from string, lines ...string) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("From: " + from + "\r\nTo: helpdesk@corp.example\r\nSubject: Re: [HD-1] Printer jams\r\nMessage-ID: <a1@corp.example>\r\n\r\n#resolve\r\n")
	return b.Bytes()
}

func runAuth(t *testing.T, cfg *config.Config, raw []byte, lookup func(string) ([]string, error)) (bool, string) {
	t.Helper()
	m, err := mailparse.Parse(raw, mailparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return authenticate(cfg, m, raw, lookup)
}

type authCase struct {
	name   string
	cfg    string // extra [commands] keys
	from   string
	lines  []string
	ok     bool
	reason []string // substrings of the reason
}

func (c authCase) run(t *testing.T) {
	t.Run(c.name, func(t *testing.T) {
		from := c.from
		if from == "" {
			from = "Alice Admin <alice.admin@corp.example>"
		}
		ok, why := runAuth(t, authConfig(t, c.cfg), authMail(from, c.lines...), nil)
		if ok != c.ok {
			t.Errorf("authenticated %v, want %v: %s", ok, c.ok, why)
		}
		for _, r := range c.reason {
			if !strings.Contains(why, r) {
				t.Errorf("reason %q\ndoes not say %q", why, r)
			}
		}
	})
}

// TestAuthenticateTrustsOnlyTheBorderBlock: only the Authentication-Results
// fields above the border Received count; a pass below it (written by the
// sender) neither authenticates nor outvotes the border's fail.
func TestAuthenticateTrustsOnlyTheBorderBlock(t *testing.T) {
	for _, c := range []authCase{
		// The example: the border says fail, the sender's own
		// field below the Received says pass.
		{name: "sender's pass below the border's fail", lines: []string{
			"Authentication-Results: mx.corp.example; spf=fail smtp.mailfrom=alice.admin@corp.example; dmarc=fail header.from=corp.example",
			rcvBorder,
			"Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example"},
			reason: []string{"dmarc=fail header.from=corp.example in the trusted block of mx.corp.example", "Authentication-Results below the border Received are ignored (1)"}},
		{name: "sender's pass below the border's none", lines: []string{
			"Authentication-Results: mx.corp.example; dmarc=none header.from=corp.example",
			rcvBorder,
			"Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example; dmarc=pass header.from=corp.example"},
			reason: []string{"no pass for corp.example in the trusted block", "dmarc=none (mx.corp.example)", "below the border Received are ignored (1)"}},
		{name: "only the sender's pass", lines: []string{rcvBorder,
			"Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example"},
			reason: []string{"no Authentication-Results field of a trusted authserv-id above the border Received", "ignored (1)"}},
		{name: "the border's pass", lines: []string{
			"Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example", rcvBorder},
			ok: true, reason: []string{"dmarc=pass header.from=corp.example (mx.corp.example), above the border Received"}},
		{name: "no Received at all", lines: []string{
			"Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example"},
			reason: []string{"the header has 0 Received field(s) and the border MTA's is number 1", "none of its 1 Authentication-Results field(s) is trusted"}},
		// A pass "among" the border's fields names a foreign authserv-id:
		// ignored; a dmarc=fail of the border cannot be outvoted by a
		// pass above or among its fields.
		{name: "foreign authserv-id among the border's fields", lines: []string{
			"Authentication-Results: mx.corp.example; dmarc=none header.from=corp.example",
			"Authentication-Results: relay.evil.example; dmarc=pass header.from=corp.example",
			"Authentication-Results: mx.corp.example; spf=none smtp.mailfrom=corp.example", rcvBorder},
			reason: []string{`Authentication-Results from "relay.evil.example", which is not a trusted authserv-id, are ignored`}},
		{name: "pass above the border's fail", lines: []string{
			"Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example",
			"Authentication-Results: mx.corp.example; dmarc=fail header.from=corp.example", rcvBorder},
			reason: []string{"dmarc=fail header.from=corp.example in the trusted block of mx.corp.example"}},
		{name: "unreadable dmarc result in the block refuses", lines: []string{
			"Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example",
			"Authentication-Results: mx.corp.example; dmarc=fail header.from=corp.example (unclosed comment", rcvBorder},
			reason: []string{"an unreadable dmarc result in the trusted block of mx.corp.example"}},
		// Dovecot LMTP writes a Received above the border's.
		{name: "LMTP hop, border_received = 2", cfg: "border_received = 2\n", lines: []string{rcvLMTP,
			"Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example", rcvBorder,
			"Authentication-Results: mx.corp.example; dmarc=fail header.from=corp.example"},
			ok: true},
		{name: "LMTP hop not counted", lines: []string{rcvLMTP,
			"Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example", rcvBorder},
			reason: []string{"below the border Received are ignored (1)"}},
		{name: "border_received = 2 but one Received", cfg: "border_received = 2\n", lines: []string{
			"Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example", rcvBorder},
			reason: []string{"the header has 1 Received field(s) and the border MTA's is number 2"}},
		// Mail that reached the mailbox without the LMTP hop: the sender
		// writes a Received of his own to become "number 2", with his
		// pass above it. The counted Received must be the border's.
		{name: "a forged Received pushes the border down", cfg: "border_received = 2\n", lines: []string{
			"Authentication-Results: mx.corp.example; dmarc=none header.from=corp.example", rcvBorder,
			"Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example",
			"Received: from fake.evil.example by fake.evil.example; Sun, 29 Nov 2026 19:25:00 +0000"},
			reason: []string{`Received field number 2 ([commands] border_received) was written by "fake.evil.example", not by the border MTA (mx.corp.example)`}},
		// The real border's Received on top (no LMTP hop on this path),
		// the sender's pass and a Received naming the border below it.
		{name: "a forged border Received under a real one", cfg: "border_received = 2\n", lines: []string{
			rcvBorder,
			"Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example",
			"Received: from x (x [10.0.0.1]) by mx.corp.example (Postfix) with ESMTP id F1; Sun, 29 Nov 2026 19:25:00 +0000"},
			reason: []string{`Received field number 1, above the border's, came from "out.evil.example", not from one of our hosts`}},
		{name: "border_hosts names the border", cfg: "border_hosts = [\"mx1.corp.example\"]\n", lines: []string{
			"Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example",
			"Received: from out.evil.example by MX1.corp.example. (Postfix); Sun, 29 Nov 2026 19:25:55 +0000"},
			ok: true},
	} {
		c.run(t)
	}
}

// TestAuthenticateParsesRFC8601: ";" inside quoted strings and comments
// does not split results, and a malformed result fails alone.
func TestAuthenticateParsesRFC8601(t *testing.T) {
	for _, c := range []authCase{
		{name: "semicolon in a quoted envelope sender", lines: []string{
			`Authentication-Results: mx.corp.example; spf=pass smtp.mailfrom="a;dmarc=pass;b=c"@evil.example; dmarc=fail header.from=corp.example`, rcvBorder},
			reason: []string{"dmarc=fail header.from=corp.example in the trusted block"}},
		{name: "OpenDKIM comment with a semicolon", lines: []string{
			"Authentication-Results: mx.corp.example; dkim=pass (2048-bit key; unprotected) header.d=corp.example header.i=@corp.example", rcvBorder},
			ok: true, reason: []string{"dkim=pass header.d=corp.example (mx.corp.example)"}},
		{name: "a malformed result does not spoil the others", lines: []string{
			"Authentication-Results: mx.corp.example; x-junk=pass bogus.ptype=1; dkim=pass header.d=corp.example", rcvBorder},
			ok: true},
		{name: "a malformed pass does not count", lines: []string{
			"Authentication-Results: mx.corp.example; dkim=pass evil.d=corp.example", rcvBorder},
			reason: []string{"an unreadable dkim result (mx.corp.example)"}},
	} {
		c.run(t)
	}
}

// TestAuthenticateFromAndAlignment: dmarc=pass needs header.from equal to
// the From domain; one author only; relaxed alignment by organizational
// domain (Public Suffix List).
func TestAuthenticateFromAndAlignment(t *testing.T) {
	ar := func(s string) []string { return []string{"Authentication-Results: mx.corp.example; " + s, rcvBorder} }
	for _, c := range []authCase{
		{name: "dmarc pass for another domain", lines: ar("dmarc=pass header.from=evil.example"),
			reason: []string{`dmarc=pass for header.from="evil.example", which is not the From domain corp.example`}},
		{name: "dmarc pass without header.from", lines: ar("dmarc=pass")},
		{name: "dmarc pass for the parent domain", from: "a@mail.corp.example", lines: ar("dmarc=pass header.from=corp.example")},
		{name: "dmarc pass, case and trailing dot", from: "a@Corp.Example", lines: ar("dmarc=pass header.from=CORP.example."), ok: true},
		{name: "two mailboxes in From", from: "alice.admin@corp.example, mallory@evil.example", lines: ar("dmarc=pass header.from=corp.example"),
			reason: []string{"name 2 mailboxes"}},
		{name: "two From fields", from: "alice.admin@corp.example\r\nFrom: mallory@evil.example", lines: ar("dmarc=pass header.from=corp.example"),
			reason: []string{"name 2 mailboxes"}},
		{name: "dkim d is a bare TLD", lines: ar("dkim=pass header.d=example"), reason: []string{`header.d="example", not aligned with corp.example`}},
		{name: "dkim d is a public suffix", from: "a@corp.co.uk", lines: ar("dkim=pass header.d=co.uk")},
		{name: "dkim d is a sibling", lines: ar("dkim=pass header.d=other.example")},
		{name: "dkim d is a subdomain", lines: ar("dkim=pass header.d=mail.corp.example"), ok: true},
		{name: "From is a subdomain", from: "a@mail.corp.example", lines: ar("dkim=pass header.d=corp.example"), ok: true},
		{name: "From on a public suffix", from: "a@co.uk", lines: ar("dkim=pass header.d=co.uk")},
		{name: "spf pass, domain only", lines: ar("spf=pass smtp.mailfrom=corp.example"), ok: true},
		{name: "spf pass, quoted local part with @", lines: ar(`spf=pass smtp.mailfrom="alice@corp.example"@evil.example`)},
		{name: "spf pass for a bare TLD", lines: ar("spf=pass smtp.mailfrom=x@example")},
	} {
		c.run(t)
	}
}

// TestAuthenticateRealMilterHeaders uses the header Postfix 3.7 with
// OpenDKIM 2.11, OpenDMARC 1.4.2 and policyd-spf 3.0.4 wrote on loopback
// (mailparse/testdata/authres), with forged fields put above, among and
// below the real ones.
func TestAuthenticateRealMilterHeaders(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../mailparse/testdata/authres/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	signed, forged := read("postfix-opendkim-opendmarc-signed.eml"), read("postfix-opendkim-opendmarc-forged.eml")
	insertBefore := func(msg, marker, field string) string {
		i := strings.Index(msg, marker)
		if i < 0 {
			t.Fatalf("no %q in the fixture", marker)
		}
		return msg[:i] + field + "\n" + msg[i:]
	}
	cfg := authConfig(t, "")
	for _, c := range []struct {
		name   string
		msg    string
		ok     bool
		reason string
	}{
		// The real fields: dkim=pass header.d=corp.example (and, as the
		// client was 127.0.0.1, OpenDMARC's spf=pass for corp.example).
		{"real signed mail", signed, true, "above the border Received"},
		// The mail carried a forged dmarc=pass below the Received.
		{"real forged mail", forged, false, "Authentication-Results below the border Received are ignored (2)"},
		{"forged pass above the real fields, foreign id", insertBefore(forged, "Authentication-Results", "Authentication-Results: mx.corp.example.evil.example; dmarc=pass header.from=corp.example"),
			false, `"mx.corp.example.evil.example", which is not a trusted authserv-id`},
		{"forged pass among the real fields, other domain", insertBefore(forged, "Received:", "Authentication-Results: mx.corp.example; dmarc=pass header.from=evil.example"),
			false, `which is not the From domain corp.example`},
		{"forged pass among the real fields, public suffix", insertBefore(forged, "Received:", "Authentication-Results: mx.corp.example; dkim=pass header.d=example"),
			false, `not aligned with corp.example`},
		{"forged fail among the real fields", insertBefore(signed, "Received:", "Authentication-Results: mx.corp.example; dmarc=fail header.from=corp.example"),
			false, "dmarc=fail header.from=corp.example in the trusted block of mx.corp.example"},
		{"forged pass below the real fields", insertBefore(forged, "From:", "Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example"),
			false, "ignored (3)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, why := runAuth(t, cfg, []byte(c.msg), nil)
			if ok != c.ok || !strings.Contains(why, c.reason) {
				t.Errorf("authenticated %v (%s), want %v saying %q", ok, why, c.ok, c.reason)
			}
		})
	}
}

// TestAuthenticateVerifiedDKIMAlignment: a signature verified here counts
// only when its d= is aligned by organizational domain, and not against
// the border's dmarc=fail.
func TestAuthenticateVerifiedDKIMAlignment(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(domain string) ([]string, error) {
		switch domain {
		case "sel._domainkey.corp.example", "sel._domainkey.example", "sel._domainkey.mail.corp.example":
			return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
		}
		return nil, errors.New("no such record")
	}
	sign := func(raw []byte, d string) []byte {
		var out bytes.Buffer
		if err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{Domain: d, Selector: "sel", Signer: priv}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	cfg := authConfig(t, "verify_dkim = true\n")
	for _, c := range []struct {
		name, d string
		lines   []string
		ok      bool
		reason  string
	}{
		{"aligned signature", "corp.example", []string{rcvBorder}, true, "DKIM signature of corp.example verified"},
		{"subdomain signature", "mail.corp.example", []string{rcvBorder}, true, "DKIM signature of mail.corp.example verified"},
		{"bare TLD signature", "example", []string{rcvBorder}, false, "no DKIM signature verified here aligned with corp.example"},
		{"against the border's dmarc=fail", "corp.example", []string{"Authentication-Results: mx.corp.example; dmarc=fail header.from=corp.example", rcvBorder},
			false, "dmarc=fail header.from=corp.example in the trusted block"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, why := runAuth(t, cfg, sign(authMail("alice.admin@corp.example", c.lines...), c.d), lookup)
			if ok != c.ok || !strings.Contains(why, c.reason) {
				t.Errorf("authenticated %v (%s), want %v saying %q", ok, why, c.ok, c.reason)
			}
		})
	}
}
