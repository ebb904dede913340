package workflow_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// borderReceived is the Received field the border MTA writes when a
// message enters from outside; commandMail puts it below the fields it is
// given, so they are the border's own.
const borderReceived = "Received: from out.example.net (out.example.net [192.0.2.7]) by mx.example.com (Postfix) with ESMTPS id 4Q1; Mon, 23 Nov 2026 09:00:00 +0000"

const trustedAR = "Authentication-Results: mx.example.com; dkim=pass header.d=example.com; spf=pass smtp.mailfrom=alice.admin@example.com"

// commandEngine is an engine with routing (the it team is staff), commands
// trusting mx.example.com, and HD-1 open for carol.
func commandEngine(t *testing.T, extra string) (*workflow.Engine, *store.Store) {
	t.Helper()
	eng, st := newEngine(t, "sqlite", "")
	withRouting(t, eng, strings.Replace(routingConfig, "ticket_pattern = 'ACME-\\d+'", "ticket_pattern = 'ACME-\\d+'\nrelay = true", 1)+
		"[commands]\ntrusted_authserv_ids = [\"mx.example.com\"]\n"+extra)
	ingest(t, eng, raw("carol@example.com", "Printer jams", "c0@x"))
	return eng, st
}

func commandMail(from, body, id string, headers ...string) []byte {
	var b bytes.Buffer
	b.WriteString("From: " + from + "\r\nTo: support@example.com\r\nSubject: Re: [HD-1] Printer jams\r\nMessage-ID: <" + id + ">\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString(borderReceived + "\r\n\r\n" + body)
	return b.Bytes()
}

func replies(t *testing.T, st *store.Store) []store.Outbox {
	t.Helper()
	var rows []store.Outbox
	if err := st.DB().Select(&rows, `SELECT * FROM outbox WHERE kind = 'command_reply' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestCommandsNeedStaffAndAuthentication(t *testing.T) {
	for _, c := range []struct {
		name, mail string
		status     store.Status
		reply      string
	}{
		{"authenticated staff", string(commandMail("alice.admin@example.com", "#resolve\r\n", "k1@x", trustedAR)), store.StatusResolved, ""},
		{"no Authentication-Results", string(commandMail("alice.admin@example.com", "#resolve\r\n", "k2@x")), store.StatusNew, "not authenticated"},
		{"forged authserv-id", string(commandMail("alice.admin@example.com", "#resolve\r\n", "k3@x",
			"Authentication-Results: evil.example.org; dmarc=pass header.from=example.com")), store.StatusNew, "not a trusted authserv-id"},
		{"spf for another domain", string(commandMail("alice.admin@example.com", "#resolve\r\n", "k4@x",
			"Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=x@elsewhere.example")), store.StatusNew, "not authenticated"},
		// The border's fail on top; the sender's own pass below the
		// border's Received (commandMail adds the sender side's hop).
		{"sender's pass below the border's fail", string(commandMail("alice.admin@example.com", "#resolve\r\n", "k9@x",
			"Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=alice.admin@example.com; dmarc=fail header.from=example.com",
			borderReceived, "Authentication-Results: mx.example.com; dmarc=pass header.from=example.com")), store.StatusNew,
			"dmarc=fail header.from=example.com in the trusted block of mx.example.com"},
		{"reporting chain", string(commandMail("it-lead@example.com", "#resolve\r\n", "k8@x",
			"Authentication-Results: mx.example.com; dkim=pass header.d=example.com")), store.StatusResolved, ""},
		{"unknown address", string(commandMail("mallory@example.net", "#resolve\r\n", "k5@x",
			"Authentication-Results: mx.example.com; dmarc=pass header.from=example.net")), store.StatusNew, "not allowed"},
		{"command below text is text", string(commandMail("alice.admin@example.com", "Looking into it.\r\n#resolve\r\n", "k6@x", trustedAR)), store.StatusNew, "-"},
		{"command in quoted text", string(commandMail("alice.admin@example.com", "Thanks.\r\n\r\nOn Mon, 23 Nov 2026 at 09:00, Carol <carol@example.com> wrote:\r\n> #resolve\r\n", "k7@x", trustedAR)), store.StatusNew, "-"},
	} {
		t.Run(c.name, func(t *testing.T) {
			eng, st := commandEngine(t, "")
			ingest(t, eng, []byte(c.mail))
			inc, _ := st.IncidentByKey(context.Background(), "HD-1")
			if inc.Status != c.status {
				t.Errorf("status %s, want %s", inc.Status, c.status)
			}
			rs := replies(t, st)
			switch c.reply {
			case "":
				if len(rs) != 0 {
					t.Errorf("a reply to a command that ran: %s", rs[0].TextBody)
				}
			case "-":
				if len(rs) != 0 {
					t.Errorf("text taken for a command: %s", rs[0].TextBody)
				}
			default:
				evs, _ := st.IncidentEvents(context.Background(), inc.ID)
				refused, unanswered := "", false
				for _, e := range evs {
					if e.Kind == "command_refused" {
						refused = e.Detail
					}
					unanswered = unanswered || e.Kind == "not_answered"
				}
				if !strings.Contains(refused, c.reply) {
					t.Errorf("command_refused event %q, want one naming %q", refused, c.reply)
				}
				if strings.Contains(c.reply, "not allowed") {
					// Authenticated, but not staff: told why.
					if len(rs) != 1 || !strings.Contains(rs[0].TextBody, c.reply) || !strings.Contains(rs[0].TextBody, "#resolve") {
						t.Errorf("refusal reply: %+v; want one naming %q", rs, c.reply)
					}
					break
				}
				// Not authenticated: anyone could have written this From,
				// so nobody is mailed; the refusal is on record.
				if len(rs) != 0 || !unanswered {
					t.Errorf("an unauthenticated sender got %d replies (not_answered event: %v)", len(rs), unanswered)
				}
			}
		})
	}
}

func TestCommandArguments(t *testing.T) {
	eng, st := commandEngine(t, "")
	ctx := context.Background()
	ingest(t, eng, commandMail("alice.admin@example.com", "#priority P9\r\n#problem PRB-1\r\n#link HD-2\r\n#workaround\r\n#frobnicate\r\n", "a1@x", trustedAR))
	rs := replies(t, st)
	if len(rs) != 1 || !strings.Contains(rs[0].TextBody, `bad argument "P9"`) || !strings.Contains(rs[0].TextBody, "#link HD-2: not available yet") ||
		!strings.Contains(rs[0].TextBody, "#problem PRB-1: no problem PRB-1") ||
		!strings.Contains(rs[0].TextBody, "#workaround: a problem command, and HD-1 is not part of a problem") ||
		!strings.Contains(rs[0].TextBody, "unknown command") {
		t.Fatalf("reply: %+v", rs)
	}
	ingest(t, eng, commandMail("alice.admin@example.com", "#priority P1\r\n#assign it\r\n#category hardware\r\n#waiting\r\n", "a2@x", trustedAR))
	inc, _ := st.IncidentByKey(ctx, "HD-1")
	if inc.Priority != "P1" || inc.Assignee != "it" || inc.Category != "hardware" || inc.Status != store.StatusWaiting {
		t.Fatalf("after commands: %+v", inc)
	}
	var notices int
	st.DB().Get(&notices, `SELECT COUNT(*) FROM outbox WHERE kind = 'notify_team'`)
	if notices != 1 {
		t.Errorf("%d notices to the newly assigned team, want 1", notices)
	}
}

// TestCommandLinesAreNotRelayed: what a provider's agent writes under its
// commands reaches the requester without them; a #note reaches nobody.
func TestCommandLinesAreNotRelayed(t *testing.T) {
	eng, st := commandEngine(t, "")
	ar := "Authentication-Results: mx.example.com; dkim=pass header.d=acme-it.example"
	ingest(t, eng,
		commandMail("agent@acme-it.example", "#waiting\r\nWe need the printer's serial number.\r\n", "r1@acme", ar),
		commandMail("agent@acme-it.example", "#note the customer is difficult\r\nDo not forward this.\r\n", "r2@acme", ar))
	var rows []store.Outbox
	st.DB().Select(&rows, `SELECT * FROM outbox WHERE kind = 'relay_to_requester'`)
	if len(rows) != 1 || !strings.Contains(rows[0].TextBody, "serial number") || strings.Contains(rows[0].TextBody, "#waiting") {
		t.Fatalf("relays: %+v", rows)
	}
}

// TestCommandsWithDKIMVerifiedHere: with verify_dkim, a signature verified
// here (the key from a lookup function, no DNS) authenticates the sender;
// a signature that does not verify does not.
func TestCommandsWithDKIMVerifiedHere(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	lookup := func(domain string) ([]string, error) {
		if domain != "sel._domainkey.example.com" {
			return nil, errors.New("no such record")
		}
		return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
	}
	sign := func(raw []byte, key ed25519.PrivateKey) []byte {
		var out bytes.Buffer
		if err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{Domain: "example.com", Selector: "sel", Signer: key}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	for _, c := range []struct {
		name   string
		key    ed25519.PrivateKey
		status store.Status
	}{{"valid signature", priv, store.StatusResolved}, {"signature by another key", otherPriv, store.StatusNew}} {
		t.Run(c.name, func(t *testing.T) {
			eng, st := commandEngine(t, "verify_dkim = true\n")
			eng.DKIMLookup = lookup
			ingest(t, eng, sign(commandMail("alice.admin@example.com", "#resolve\r\n", "d1@x"), c.key))
			inc, _ := st.IncidentByKey(context.Background(), "HD-1")
			if inc.Status != c.status {
				t.Errorf("status %s, want %s (replies %+v)", inc.Status, c.status, replies(t, st))
			}
		})
	}
}
