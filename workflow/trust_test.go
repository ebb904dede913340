package workflow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// relayConfig is routingConfig with relay on for the provider.
var relayConfig = strings.Replace(routingConfig, "ticket_pattern = 'ACME-\\d+'", "ticket_pattern = 'ACME-\\d+'\nrelay = true", 1)

func eventsOf(t *testing.T, st *store.Store, key string) []store.Event {
	t.Helper()
	inc, err := st.IncidentByKey(context.Background(), key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	evs, err := st.IncidentEvents(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestForgedRepliesAreNotTrusted: a mail that claims to come from the
// provider (From: its domain, our tag, its ticket number, a phishing
// text) but carries no trusted authentication threads in and is flagged;
// it is not relayed to the requester from the helpdesk's address, does
// not stop the response clock and teaches no ticket number. A forged
// requester is not relayed to the provider either. The same mails,
// authenticated, do all of it.
func TestForgedRepliesAreNotTrusted(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, relayConfig)
			ctx := context.Background()
			ingest(t, eng, raw("Carol <carol@example.com>", "Printer jams", "p1@x"))
			phish := func(id string, headers ...string) []byte {
				h := strings.Join(append([]string{"From: ACME Support <tech@acme-it.example>", "To: support@example.com",
					"Subject: Re: [HD-1] Printer [ACME-777]", "Message-ID: <" + id + ">"}, headers...), "\r\n")
				return []byte(h + "\r\n\r\nWe need your network password to fix the printer: reply to http://evil.example/login\r\n")
			}
			forgedRequester := raw("carol@example.com", "Re: [HD-1] Printer jams", "p3@x")
			res := ingest(t, eng, phish("p2@evil"), forgedRequester)
			for i, r := range res {
				if r.Outcome != workflow.OutcomeThreaded || r.Incident != "HD-1" || !strings.Contains(r.Reason, "flagged: sender not authenticated") {
					t.Errorf("forged mail %d: %+v", i, r)
				}
			}
			if !strings.Contains(res[0].Reason, "not counted as the first response") || !strings.Contains(res[0].Reason, "ACME-777 not learned") ||
				!strings.Contains(res[0].Reason, "not relayed to carol@example.com") {
				t.Errorf("forged provider reply: %s", res[0].Reason)
			}
			if !strings.Contains(res[1].Reason, "not relayed to servicedesk@acme-it.example") {
				t.Errorf("forged requester reply: %s", res[1].Reason)
			}
			wantRows(t, st, map[string]int{"provider_tickets": 0})
			var relays int
			st.DB().Get(&relays, `SELECT COUNT(*) FROM outbox WHERE kind LIKE 'relay%'`)
			inc, _ := st.IncidentByKey(ctx, "HD-1")
			if relays != 0 || inc.FirstResponseAt != nil {
				t.Fatalf("forged mail relayed (%d) or counted as first response (%v)", relays, inc.FirstResponseAt)
			}
			if !hasEvent(eventsOf(t, st, "HD-1"), "flagged", "tech@acme-it.example is not authenticated") {
				t.Error("no flagged event for the forged provider mail")
			}

			// A forged Authentication-Results from another authserv-id
			// changes nothing.
			ingest(t, eng, phish("p4@evil", "Authentication-Results: evil.example; dkim=pass header.d=acme-it.example"))
			st.DB().Get(&relays, `SELECT COUNT(*) FROM outbox WHERE kind LIKE 'relay%'`)
			if relays != 0 {
				t.Fatalf("relayed on an untrusted Authentication-Results")
			}

			// Authenticated, the provider's reply and the requester's do
			// everything.
			res = ingest(t, eng, phish("p5@acme", acmeAR), raw("carol@example.com", "Re: [HD-1] Printer jams", "p6@x", ownAR))
			if strings.Contains(res[0].Reason, "flagged") || strings.Contains(res[1].Reason, "flagged") {
				t.Errorf("authenticated mail flagged: %s | %s", res[0].Reason, res[1].Reason)
			}
			st.DB().Get(&relays, `SELECT COUNT(*) FROM outbox WHERE kind LIKE 'relay%'`)
			inc, _ = st.IncidentByKey(ctx, "HD-1")
			if relays != 2 || inc.FirstResponseAt == nil {
				t.Errorf("authenticated replies: %d relays, first response %v", relays, inc.FirstResponseAt)
			}
			wantRows(t, st, map[string]int{"provider_tickets": 1})
		})
	}
}

// TestProblemDetailsStayInside: someone outside the organisation who
// writes with a problem's tag, or only with its (guessable) thread root,
// opens an incident that is not linked to the problem, and the
// acknowledgement tells neither the problem's title nor its workaround. A
// sender of our own domain is linked and told.
func TestProblemDetailsStayInside(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, problemCommandsConfig)
			ingest(t, eng,
				raw("carol@example.com", "Outlook crashes on start", "o1@x"),
				raw("dan@example.com", "outlook keeps crashing when starting", "o2@x"),
				raw("erin@example.com", "Outlook crash at startup", "o3@x"))
			ingest(t, eng, []byte("From: it-lead@example.com\r\nTo: support@example.com\r\nSubject: Re: [PRB-1] x\r\n"+
				"Message-ID: <w1@x>\r\n"+leadAR+"\r\n\r\n#workaround connect to vpn-gw.corp.internal with user svc_outlook / Winter2026\r\n"))
			if pr := problem(t, st, "PRB-1"); !strings.Contains(pr.Workaround, "Winter2026") {
				t.Fatalf("workaround not recorded: %+v", pr)
			}
			res := ingest(t, eng,
				raw("mallory@evil.example", "Re: [PRB-1] same here", "m1@evil"),
				raw("mallory2@evil.example", "what is this", "m2@evil", "In-Reply-To: <prb-1@example.com>"),
				raw("gina@example.com", "Re: [PRB-1] happened again", "g1@x"))
			for i, want := range []string{"", "", "PRB-1"} {
				if res[i].Outcome != workflow.OutcomeNewIncident {
					t.Fatalf("mail %d: %+v", i, res[i])
				}
				if got := problemOf(t, st, res[i].Incident); got != want {
					t.Errorf("mail %d (%s): linked to %q, want %q", i, res[i].Reason, got, want)
				}
			}
			for _, c := range []struct {
				to   string
				told bool
			}{{"mallory@evil.example", false}, {"mallory2@evil.example", false}, {"gina@example.com", true}} {
				var acks []store.Outbox
				st.DB().Select(&acks, st.DB().Rebind(`SELECT * FROM outbox WHERE kind = 'ack' AND to_addrs LIKE ?`), "%"+c.to+"%")
				if len(acks) != 1 {
					t.Fatalf("%d acknowledgements to %s", len(acks), c.to)
				}
				body := acks[0].TextBody + acks[0].HTMLBody
				if told := strings.Contains(body, "Winter2026"); told != c.told {
					t.Errorf("acknowledgement to %s names the workaround: %v, want %v", c.to, told, c.told)
				}
				if c.told != strings.Contains(body, "PRB-1") {
					t.Errorf("acknowledgement to %s names the problem: %v, want %v", c.to, !c.told, c.told)
				}
			}
			// An outsider who copies the problem's subject is matched by
			// the detector, and told of the problem, but not its
			// workaround.
			ingest(t, eng, raw("copycat@evil.example", "Outlook crashes on start", "m3@evil"))
			var ack store.Outbox
			st.DB().Get(&ack, st.DB().Rebind(`SELECT * FROM outbox WHERE kind = 'ack' AND to_addrs = ?`), "copycat@evil.example")
			if strings.Contains(ack.TextBody+ack.HTMLBody, "Winter2026") {
				t.Errorf("the workaround went to an outsider who copied the subject:\n%s", ack.TextBody)
			}
		})
	}
}

// TestProviderCommandsOnlyItsIncidents: an authenticated provider
// technician, the provider's chain and its problem contact may command
// incidents assigned to the provider, and none other: "#assign acme" on the
// in-house team's incident would hand the requester's words to the
// provider.
func TestProviderCommandsOnlyItsIncidents(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, strings.Replace(routingConfig, "ticket_pattern = 'ACME-\\d+'",
				"ticket_pattern = 'ACME-\\d+'\nchain = [\"account.manager@acme-it.example\"]", 1))
			ctx := context.Background()
			ingest(t, eng, raw("carol@example.com", "Printer jams", "a1@x"), raw("dan@example.com", "Payroll share is gone", "a2@x"))
			if inc, _ := st.IncidentByKey(ctx, "HD-2"); inc.Assignee != "it" {
				t.Fatalf("HD-2 assigned to %s", inc.Assignee)
			}
			cmd := func(from, key, body, id string) []byte {
				return []byte("From: " + from + "\r\nTo: support@example.com\r\nSubject: Re: [" + key + "] x\r\nMessage-ID: <" + id + ">\r\n" +
					acmeAR + "\r\n\r\n" + body + "\r\n")
			}
			ingest(t, eng,
				cmd("tech@acme-it.example", "HD-2", "#assign acme", "c1@acme"),
				cmd("account.manager@acme-it.example", "HD-2", "#resolve", "c2@acme"),
				cmd("tech@acme-it.example", "HD-1", "#priority P1", "c3@acme"))
			inc2, _ := st.IncidentByKey(ctx, "HD-2")
			if inc2.Assignee != "it" || inc2.Status != store.StatusNew {
				t.Errorf("the provider changed the team's incident: %+v", inc2)
			}
			if !hasEvent(eventsOf(t, st, "HD-2"), "command_refused", "speaks for acme, and this incident is assigned to IT team (it)") {
				t.Errorf("no refusal on HD-2: %+v", eventsOf(t, st, "HD-2"))
			}
			var toProvider int
			st.DB().Get(&toProvider, st.DB().Rebind(`SELECT COUNT(*) FROM outbox WHERE to_addrs = ? AND incident_id = ?`), "servicedesk@acme-it.example", inc2.ID)
			if toProvider != 0 {
				t.Errorf("the team's incident was sent to the provider %d times", toProvider)
			}
			// Nor does it learn its ticket numbers on another party's
			// incident.
			ingest(t, eng, []byte("From: tech@acme-it.example\r\nTo: support@example.com\r\nSubject: Re: [HD-2] x [ACME-999]\r\nMessage-ID: <c9@acme>\r\n"+
				acmeAR+"\r\n\r\nWe looked at it.\r\n"))
			wantRows(t, st, map[string]int{"provider_tickets": 0})
			if inc1, _ := st.IncidentByKey(ctx, "HD-1"); inc1.Priority != "P1" {
				t.Errorf("the provider could not command its own incident: %+v", inc1)
			}
			// In-house staff command everything.
			ingest(t, eng, commandMail("alice.admin@example.com", "#priority P4\r\n", "c4@x", trustedAR))
			if inc1, _ := st.IncidentByKey(ctx, "HD-1"); inc1.Priority != "P4" {
				t.Errorf("in-house staff refused on the provider's incident: %+v", inc1)
			}
		})
	}
}

// TestFlaggingCannotBeAvoided: a Message-ID in our format with a made-up
// random part does not thread; an outsider stays flagged on his second
// tagged mail; participants are compared as whole addresses (port@ is not
// support@).
func TestFlaggingCannotBeAvoided(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, routingConfig)
			ingest(t, eng, []byte("From: carol@example.com\r\nTo: support@example.com\r\nCc: dave@example.com\r\nSubject: Printer jams\r\nMessage-ID: <f1@x>\r\n\r\nhelp\r\n"))
			var ack store.Outbox
			if err := st.DB().Get(&ack, `SELECT * FROM outbox WHERE kind = 'ack'`); err != nil {
				t.Fatal(err)
			}
			res := ingest(t, eng,
				raw("mallory@evil.example", "Re: printer", "f2@evil", "In-Reply-To: <hd-1.0@example.com>"),
				raw("mallory@evil.example", "Re: [HD-1] Printer jams", "f3@evil"),
				raw("mallory@evil.example", "Re: [HD-1] Printer jams", "f4@evil"),
				raw("port@example.com", "Re: [HD-1] Printer jams", "f5@x"),
				raw("dave@example.com", "Re: [HD-1] Printer jams", "f6@x"),
				raw("erin@example.com", "Re: Printer jams", "f7@x", "In-Reply-To: <"+ack.MessageID+">"))
			if res[0].Outcome != workflow.OutcomeNewIncident {
				t.Errorf("a made-up Message-ID of ours threaded: %+v", res[0])
			}
			for i, flagged := range map[int]bool{1: true, 2: true, 3: true, 4: false} {
				if got := strings.Contains(res[i].Reason, "flagged: sender is neither"); got != flagged {
					t.Errorf("mail %d flagged=%v, want %v: %s", i, got, flagged, res[i].Reason)
				}
			}
			if res[5].Incident != "HD-1" || !strings.Contains(res[5].Reason, "reply to our message") {
				t.Errorf("a reply to our real Message-ID: %+v", res[5])
			}
			// Authenticating as oneself does not make an outsider a
			// participant, nor does his Cc make one of anybody; quoting
			// the requester's Message-ID threads, flagged.
			selfAR := "Authentication-Results: mx.example.com; dmarc=pass header.from=evil.example\r\n" + borderReceived
			res = ingest(t, eng,
				raw("oscar@evil.example", "Re: [HD-1] Printer jams", "g1@evil", selfAR, "Cc: olga@evil.example"),
				raw("oscar@evil.example", "Re: [HD-1] Printer jams", "g2@evil", selfAR),
				raw("olga@evil.example", "Re: [HD-1] Printer jams", "g3@evil"),
				raw("otto@evil.example", "Re: printer", "g4@evil", "In-Reply-To: <f1@x>"))
			for i, r := range res {
				if r.Incident != "HD-1" || !strings.Contains(r.Reason, "flagged: sender is neither") {
					t.Errorf("outsider mail %d: %+v", i, r)
				}
			}
		})
	}
}

// TestCommandRepliesCannotFlood: thirty mails with our tag and a command
// from an outside address get no reply when unauthenticated (the From may
// be a victim's), and, authenticated, at most [helpdesk] auto_reply_limit
// replies, none of which quotes the refused text.
func TestCommandRepliesCannotFlood(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, routingConfig)
			ingest(t, eng, raw("carol@example.com", "Printer jams", "s0@x"))
			var batch [][]byte
			for i := 0; i < 30; i++ {
				batch = append(batch, commandMail("victim@third.example", fmt.Sprintf("#note buy now at http://evil.example/%d\r\n", i), fmt.Sprintf("s%d@evil", i)))
			}
			ingest(t, eng, batch...)
			if rs := replies(t, st); len(rs) != 0 {
				t.Fatalf("%d replies to an unauthenticated sender", len(rs))
			}
			batch = nil
			for i := 0; i < 30; i++ {
				batch = append(batch, commandMail("spammer@evil.example", fmt.Sprintf("#note buy now at http://evil.example/%d\r\n", i), fmt.Sprintf("t%d@evil", i),
					"Authentication-Results: mx.example.com; dmarc=pass header.from=evil.example"))
			}
			ingest(t, eng, batch...)
			rs := replies(t, st)
			if len(rs) != eng.Cfg.Helpdesk.AutoReplyLimit {
				t.Errorf("%d replies to one address in an hour, want the limit %d", len(rs), eng.Cfg.Helpdesk.AutoReplyLimit)
			}
			for _, r := range rs {
				if strings.Contains(r.TextBody+r.HTMLBody, "evil.example/") || strings.Contains(r.TextBody, "buy now") {
					t.Fatalf("a reply quotes the refused text: %s", r.TextBody)
				}
			}
		})
	}
}

// TestNewIncidentLimitHoldsFloods: one sender opens at most [helpdesk]
// new_incident_limit incidents an hour; the rest are held whole in
// quarantine (not dropped, nobody mailed) until an administrator releases
// them; an exempt sender is not limited; an hour later the sender may open
// incidents again.
func TestNewIncidentLimitHoldsFloods(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "new_incident_limit = 3\nnew_incident_limit_exempt = [\"nagios@example.com\"]")
			withRouting(t, eng, routingConfig)
			ctx := context.Background()
			var batch [][]byte
			for i := 0; i < 4; i++ {
				batch = append(batch, raw(fmt.Sprintf("flood+%d@evil.example", i), fmt.Sprintf("offer %d", i), fmt.Sprintf("fl%d@evil", i)),
					raw("nagios@example.com", fmt.Sprintf("PROBLEM: disk %d", i), fmt.Sprintf("n%d@x", i), ownAR))
			}
			res := ingest(t, eng, batch...)
			res = append(res, ingest(t, eng, raw("Flood+4@Evil.Example", "offer 4", "fl4@evil"))...)
			held, opened := 0, 0
			for _, r := range res {
				switch r.Outcome {
				case workflow.OutcomeHeld:
					held++
					if !strings.Contains(r.Reason, "new_incident_limit = 3") {
						t.Errorf("held reason: %s", r.Reason)
					}
				case workflow.OutcomeNewIncident:
					opened++
				}
			}
			if held != 2 || opened != 7 {
				t.Fatalf("%d held, %d opened; want 2 and 7: %s", held, opened, outcomes(res))
			}
			q, err := st.ListQuarantine(ctx)
			if err != nil || len(q) != 2 {
				t.Fatalf("quarantine: %d (%v)", len(q), err)
			}
			var acks int
			st.DB().Get(&acks, st.DB().Rebind(`SELECT COUNT(*) FROM outbox WHERE to_addrs LIKE ?`), "%flood+%")
			if acks != 3 {
				t.Errorf("%d mails to the flooding sender, want 3", acks)
			}
			// The administrator releases one: it opens its incident.
			r, err := eng.Reprocess(ctx, q[0].ID)
			if err != nil || r.Outcome != workflow.OutcomeNewIncident {
				t.Fatalf("release: %+v, %v", r, err)
			}
		})
	}
}

// TestProviderCannotJoinAnInternalProblem: a provider that links its own
// incident to an in-house problem ("#problem PRB-1") would learn the
// problem's title, workaround and incidents, and could then command it:
// refused; the problem's contact hears nothing, the provider nothing.
func TestProviderCannotJoinAnInternalProblem(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, problemsConfig+`
[[provider]]
name = "acme"
domains = ["acme-it.example"]
intake = "servicedesk@acme-it.example"
problem_contact = "problems@acme-it.example"
[[route]]
name = "printing"
keywords = ["printer"]
assign = "acme"
`)
			ingest(t, eng,
				raw("carol@example.com", "Outlook crashes on start", "o1@x"),
				raw("dan@example.com", "outlook keeps crashing when starting", "o2@x"),
				raw("erin@example.com", "Outlook crash at startup", "o3@x"),
				raw("fred@example.com", "Printer jams", "o4@x"))
			if problem(t, st, "PRB-1") == nil {
				t.Fatal("no PRB-1")
			}
			key := "HD-4"
			if inc, _ := st.IncidentByKey(context.Background(), key); inc.Assignee != "acme" {
				t.Fatalf("%s assigned to %s", key, inc.Assignee)
			}
			ingest(t, eng, []byte("From: tech@acme-it.example\r\nTo: support@example.com\r\nSubject: Re: [HD-4] Printer jams\r\nMessage-ID: <l1@acme>\r\n"+
				acmeAR+"\r\n\r\n#problem PRB-1\r\n"))
			if got := problemOf(t, st, key); got != "" {
				t.Fatalf("the provider linked its incident to %s", got)
			}
			if !hasEvent(eventsOf(t, st, key), "command_refused", "none of PRB-1's incidents is assigned to it") {
				t.Errorf("events: %+v", eventsOf(t, st, key))
			}
			// Nor without a key, which would let the detector pull the
			// team's incidents in.
			ingest(t, eng, []byte("From: tech@acme-it.example\r\nTo: support@example.com\r\nSubject: Re: [HD-4] Printer jams\r\nMessage-ID: <l2@acme>\r\n"+
				acmeAR+"\r\n\r\n#problem\r\n"))
			if got := problemOf(t, st, key); got != "" || !hasEvent(eventsOf(t, st, key), "command_refused", "a provider links its incident with") {
				t.Errorf("#problem without a key from the provider: linked to %q", got)
			}
			for _, o := range outboxOf(t, st, "problem_notice") {
				if strings.Contains(o.ToAddrs, "acme") {
					t.Errorf("a problem notice to the provider: %s", o.Subject)
				}
			}
		})
	}
}

// TestAutomaticMailCarriesNoForgedName: an acknowledgement to a From whose
// display name is an advertisement goes to the bare address and does not
// greet the "name": a forged From must not make the helpdesk deliver spam.
// A real name is still used.
func TestAutomaticMailCarriesNoForgedName(t *testing.T) {
	eng, st := newEngine(t, "sqlite", "")
	eng.Cfg.Commands.TrustedAuthservIDs = []string{"mx.example.com"}
	ingest(t, eng, raw(`"Cheap pills at http://evil.example/rx" <victim@third.example>`, "hello", "sp1@x"),
		raw(`"Carol Chen" <carol@example.com>`, "Printer jams", "sp2@x", ownAR),
		raw(`"Dan Dunn" <dan@example.com>`, "Printer jams", "sp3@x"))
	var acks []store.Outbox
	st.DB().Select(&acks, `SELECT * FROM outbox WHERE kind = 'ack' ORDER BY id`)
	if len(acks) != 3 || acks[0].ToAddrs != "victim@third.example" || strings.Contains(acks[0].TextBody+acks[0].HTMLBody, "evil.example") ||
		strings.Contains(acks[0].TextBody, "Cheap pills") {
		t.Fatalf("acknowledgement to a forged name: %+v", acks)
	}
	if !strings.HasPrefix(acks[1].TextBody, "Hello Carol Chen,") {
		t.Errorf("an authenticated sender's name is no longer used: %q", acks[1].TextBody)
	}
	// Unauthenticated: whoever wrote the From wrote the name too.
	if !strings.HasPrefix(acks[2].TextBody, "Hello,") {
		t.Errorf("an unauthenticated sender greeted by name: %q", acks[2].TextBody)
	}
}

// TestUnverifiedRequesterReachesTheTeam: without authentication a
// requester's follow-up still reaches an in-house team (somebody must read
// it), marked as not verified, but neither reopens nor resumes anything;
// a provider gets nothing.
func TestUnverifiedRequesterReachesTheTeam(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, relayConfig)
			ingest(t, eng, raw("carol@example.com", "Laptop will not boot", "u1@x"), raw("dan@example.com", "Printer jams", "u2@x"))
			res := ingest(t, eng, raw("carol@example.com", "Re: [HD-1] Laptop will not boot", "u3@x"),
				raw("dan@example.com", "Re: [HD-2] Printer jams", "u4@x"))
			var toTeam []store.Outbox
			st.DB().Select(&toTeam, `SELECT * FROM outbox WHERE kind = 'relay_to_assignee' ORDER BY id`)
			if len(toTeam) != 1 || !strings.HasPrefix(toTeam[0].Subject, "[not verified] [HD-1]") || !strings.Contains(toTeam[0].TextBody, "NOT VERIFIED") ||
				!strings.Contains(toTeam[0].ToAddrs, "alice.admin@example.com") {
				t.Fatalf("relays to the assignee: %+v", toTeam)
			}
			if !strings.Contains(res[1].Reason, "not relayed to servicedesk@acme-it.example") {
				t.Errorf("the provider got an unverified relay: %s", res[1].Reason)
			}
		})
	}
}

// TestNotProblemLasts: an incident "#not-problem" parted from a problem
// is not linked to it again when a later report of the same words comes
// in, even though its words are the problem's own (which the problem
// still catches).
func TestNotProblemLasts(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, strings.Replace(problemsConfig, "threshold = 3", "threshold = 2", 1))
			ingest(t, eng, raw("carol@example.com", "Outlook crashes at start", "np1@x"), raw("dan@example.com", "Outlook crashes at start", "np2@x"))
			if problemOf(t, st, "HD-2") != "PRB-1" {
				t.Fatal("no PRB-1")
			}
			ingest(t, eng, []byte("From: alice.admin@example.com\r\nTo: support@example.com\r\nSubject: Re: [HD-2] x\r\nMessage-ID: <np3@x>\r\n"+
				leadAR+"\r\n\r\n#not-problem\r\n"))
			res := ingest(t, eng, raw("erin@example.com", "Outlook crashes at start", "np4@x"))
			if problemOf(t, st, "HD-2") != "" {
				t.Errorf("the parted incident was linked again: %s", res[0].Reason)
			}
			if problemOf(t, st, res[0].Incident) != "PRB-1" {
				t.Errorf("the problem no longer catches its own words: %s", res[0].Reason)
			}
		})
	}
}

// TestForgedMailDoesNotUseUpLimit: unauthenticated mail forged in sam's
// name opens incidents up to the limit and is then held, but does not
// use up the limit of sam's own authenticated mail, stored earlier or in
// the same batch; sam's authenticated flood is limited all the same.
func TestForgedMailDoesNotUseUpLimit(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, _ := newEngine(t, d, "new_incident_limit = 2")
			withRouting(t, eng, routingConfig)
			var forged [][]byte
			for i := range 3 {
				forged = append(forged, raw("sam@example.com", fmt.Sprintf("forged offer %d", i), fmt.Sprintf("fg%d@evil", i)))
			}
			res := ingest(t, eng, forged[:2]...)
			res = append(res, ingest(t, eng, forged[2])...)
			if res[2].Outcome != workflow.OutcomeHeld {
				t.Fatalf("the third forged mail: %s, want held", outcomes(res))
			}
			// Sam's own, authenticated, stored across batches and in one.
			own := ingest(t, eng, raw("sam@example.com", "Laptop battery not charging", "own1@x", ownAR))
			own = append(own, ingest(t, eng, raw("sam@example.com", "Monitor flickers", "own2@x", ownAR), raw("sam@example.com", "Headset broken", "own3@x", ownAR))...)
			if own[0].Outcome != workflow.OutcomeNewIncident || own[1].Outcome != workflow.OutcomeNewIncident {
				t.Errorf("sam's authenticated reports after forged ones: %s, want two new incidents", outcomes(own))
			}
			if own[2].Outcome != workflow.OutcomeHeld {
				t.Errorf("sam's third authenticated report within the hour: %s, want held", outcomes(own))
			}
			// Forged mail still counts everything in sam's name.
			if r := ingest(t, eng, raw("sam@example.com", "forged offer 4", "fg4@evil")); r[0].Outcome != workflow.OutcomeHeld {
				t.Errorf("forged mail after sam's own: %s, want held", outcomes(r))
			}
		})
	}
}
