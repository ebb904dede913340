package mailer

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"github.com/helpdeskd/helpdeskd/store"
)

func TestValidMsgID(t *testing.T) {
	for _, id := range []string{"hd-1.abc@example.com", "a..b@x", "CAF=x+y/z@mail.gmail.com",
		"0000ff00-2222-0022-fffe-000000000000", "d3b8@0c28@37signals.com", "x@[192.0.2.1]", "{a}|b~@c"} {
		if !ValidMsgID(id) {
			t.Errorf("%q refused", id)
		}
	}
	for _, id := range []string{"", "@", "...", `bcc7@third.example"@evil.example`, "a@b>", "<a@b", "a b@c",
		"a@b\r\nBcc: x@y", "a\\b@c", "a@[b[c]", "a@[b", "a,b@c", "é@x", strings.Repeat("a", 251)} {
		if ValidMsgID(id) {
			t.Errorf("%q accepted", id)
		}
	}
}

// A mail that is not automatic keeps recipient names, cleaned: a name
// that decodes to CR LF comes out on one line in every address header.
func TestComposeCleansDisplayNames(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\n[database]\nurl = \"sqlite:///tmp/x.db\"\n[smtp]\nhost = \"127.0.0.1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	evil := "=?utf-8?q?Eve=0D=0ABcc=3A_spy=40evil=2Eexample?= <eve@example.org>"
	msg, err := (&Mailer{Cfg: cfg}).compose(context.Background(), &store.Outbox{MessageID: "hd-1.x@example.com", FromAddr: "=?utf-8?q?Help=0Adesk?= <support@example.com>",
		ToAddrs: evil + ", plain@example.org", CcAddrs: evil, ReplyTo: "=?utf-8?q?Re=0D=0Aply?= <support@example.com>",
		Subject: "s\r\nBcc: x@y", TextBody: "x", InReplyTo: "a@b", Refs: "a@b c\"d@e"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	m, err := mailparse.Parse(buf.Bytes(), mailparse.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header("Bcc") != "" {
		t.Errorf("Bcc injected:\n%s", buf.String())
	}
	for _, a := range append(append(append([]mailparse.Address{m.From}, m.To...), m.Cc...), m.ReplyTo...) {
		if strings.ContainsAny(a.Name, "\r\n") {
			t.Errorf("%q: name with a line break", a.String())
		}
	}
	if m.From.Name != "Help desk" || len(m.To) != 2 || m.To[0].Name != "Eve Bcc: spy@evil.example" || m.To[1].Addr != "plain@example.org" ||
		len(m.Cc) != 1 || m.Cc[0].Addr != "eve@example.org" || len(m.ReplyTo) != 1 || m.ReplyTo[0].Name != "Re ply" {
		t.Errorf("from %v to %v cc %v reply-to %v", m.From, m.To, m.Cc, m.ReplyTo)
	}
	if m.Subject != "s Bcc: x@y" || strings.Join(m.InReplyTo, " ") != "a@b" || strings.Join(m.References, " ") != "a@b" {
		t.Errorf("subject %q in-reply-to %q references %q", m.Subject, m.InReplyTo, m.References)
	}
}

// A row that cannot be composed is an error naming the field, not a
// panic.
func TestComposeRefusesBadAddresses(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\n[smtp]\nhost = \"127.0.0.1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o    store.Outbox
		want string
	}{
		{store.Outbox{FromAddr: "support@example.com", ToAddrs: "a@x", ReplyTo: " "}, "Reply-To"},
		{store.Outbox{FromAddr: "support@example.com", ToAddrs: "a@x", ReplyTo: "a@x, b@x"}, "Reply-To"},
		{store.Outbox{FromAddr: "support@example.com", ToAddrs: "not an address"}, "to"},
		{store.Outbox{FromAddr: "support@example.com", ToAddrs: " "}, "no recipient"},
		{store.Outbox{FromAddr: "a@x, b@x", ToAddrs: "a@x"}, "from"},
	} {
		c.o.MessageID = "hd-1.x@example.com"
		if _, err := (&Mailer{Cfg: cfg}).compose(context.Background(), &c.o); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error starting %q", c.o, err, c.want)
		}
	}
}
