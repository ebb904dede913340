package workflow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/internal/testutil"
	"github.com/helpdeskd/helpdeskd/store"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// TestListCopyIsTheSameMessage: the same mail (same Message-ID, same
// author) reaches support@ directly and through a mailing list that tags
// the subject, adds a footer, List-Id and Sender: one incident, one
// acknowledgement, in either order and whether the copies share a batch
// or not. Another author with that Message-ID is not the same message.
func TestListCopyIsTheSameMessage(t *testing.T) {
	direct := []byte("From: Vera Example <vera@example.com>\r\nTo: support@example.com, it-staff@lists.example.com\r\n" +
		"Subject: Laptop does not charge\r\nMessage-ID: <charge.1@mail.example.com>\r\n\r\nMy laptop stopped charging this morning.\r\n")
	viaList := []byte("From: Vera Example <vera@example.com>\r\nTo: support@example.com, it-staff@lists.example.com\r\n" +
		"Sender: it-staff-bounces@lists.example.com\r\nList-Id: IT staff <it-staff.lists.example.com>\r\n" +
		"Precedence: list\r\nSubject: [it-staff] Laptop does not charge\r\nMessage-ID: <charge.1@mail.example.com>\r\n\r\n" +
		"My laptop stopped charging this morning.\r\n\r\n_______________________________________________\r\nit-staff mailing list\r\n" +
		"https://lists.example.com/listinfo/it-staff\r\n")
	forged := []byte("From: mallory@evil.example\r\nTo: support@example.com\r\nSubject: Laptop does not charge\r\n" +
		"Message-ID: <charge.1@mail.example.com>\r\n\r\nsomething else\r\n")
	for _, d := range testutil.Dialects {
		for _, c := range []struct {
			name    string
			batches [][][]byte
		}{
			{"one batch", [][][]byte{{direct, viaList}}},
			{"list copy later", [][][]byte{{direct}, {viaList}}},
			{"list copy first", [][][]byte{{viaList}, {direct}}},
		} {
			t.Run(d+"/"+c.name, func(t *testing.T) {
				eng, st := newEngine(t, d, "")
				var res []workflow.Result
				for _, b := range c.batches {
					res = append(res, ingest(t, eng, b...)...)
				}
				if res[0].Outcome != workflow.OutcomeNewIncident || res[1].Outcome != workflow.OutcomeDuplicate || res[1].Incident != res[0].Incident {
					t.Fatalf("outcomes: %s (%s)", outcomes(res), res[1].Reason)
				}
				wantRows(t, st, map[string]int{"incidents": 1, "messages": 1})
				var acks int
				st.DB().Get(&acks, `SELECT COUNT(*) FROM outbox WHERE kind = 'ack'`)
				if acks > 1 {
					t.Errorf("%d acknowledgements", acks)
				}
				if r := ingest(t, eng, forged); r[0].Outcome == workflow.OutcomeDuplicate {
					t.Errorf("another author's mail with the same Message-ID taken for a copy: %+v", r[0])
				}
			})
		}
	}
}

// TestSiblingsOfAMissingRootJoin: two people answer a mail that went only
// to people, not to support@ (its Message-ID was never stored), each with
// support@ in Cc: they share an ancestor, so they are one incident, in one
// batch or in two. Mail that shares no ancestor stays apart.
func TestSiblingsOfAMissingRootJoin(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			res := ingest(t, eng,
				raw("anna@example.com", "Re: Projector in room 4 is broken", "s1@x", "In-Reply-To: <root.4711@mail.example.com>", "References: <root.4711@mail.example.com>"),
				raw("ben@example.com", "RE: Projector in room 4 is broken", "s2@x", "References: <root.4711@mail.example.com>"))
			res = append(res, ingest(t, eng,
				raw("cleo@example.com", "Re: Projector in room 4 is broken", "s3@x", "References: <other.1@mail.example.com> <root.4711@mail.example.com>", "In-Reply-To: <other.1@mail.example.com>"),
				raw("dora@example.com", "Re: Projector in room 4 is broken", "s4@x", "In-Reply-To: <unrelated.9@mail.example.com>"))...)
			if got := outcomes(res); got != "new_incident HD-1; threaded HD-1; threaded HD-1; new_incident HD-2" {
				t.Fatalf("outcomes: %s", got)
			}
			if !strings.Contains(res[1].Reason, "shares the earlier message <root.4711@mail.example.com> with HD-1") {
				t.Errorf("reason: %s", res[1].Reason)
			}
			wantRows(t, st, map[string]int{"incidents": 2})
		})
	}
}

// TestProviderOpenedTicketThreads (threading rule 3): a provider's ticket
// system opens a ticket on its own (no tag of ours, no References); the
// incident it opens learns the ticket number, so the system's later mail
// about it threads in. An unauthenticated mail teaches nothing.
func TestProviderOpenedTicketThreads(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, strings.Replace(strings.Replace(routingConfig, "ticket_pattern = 'ACME-\\d+'", "ticket_pattern = 'INC\\d{7}'", 1),
				`"access point"]`, `"access point", "switch"]`, 1))
			res := ingest(t, eng,
				raw("servicenow@acme-it.example", "Incident INC0012345 -- opened: core switch firmware update", "n1@acme", acmeAR),
				raw("servicenow@acme-it.example", "Incident INC0099999 -- opened: forged", "n2@evil"))
			res = append(res, ingest(t, eng,
				raw("servicenow@acme-it.example", "Incident INC0012345 -- comments added", "n3@acme", acmeAR),
				raw("servicenow@acme-it.example", "Incident INC0099999 -- comments added", "n4@acme", acmeAR))...)
			if got := outcomes(res); got != "new_incident HD-1; new_incident HD-2; threaded HD-1; new_incident HD-3" {
				t.Fatalf("outcomes: %s (%s | %s)", got, res[1].Reason, res[3].Reason)
			}
			if !strings.Contains(res[2].Reason, "acme's ticket INC0012345") || !strings.Contains(res[1].Reason, "INC0099999 not learned") {
				t.Errorf("reasons: %s | %s", res[2].Reason, res[1].Reason)
			}
			wantRows(t, st, map[string]int{"provider_tickets": 2}) // INC0012345, and INC0099999 from the authenticated HD-3
			// The provider's own system is the requester: its comments are
			// never relayed back to it (each relay could start another
			// "comments added").
			var back int
			st.DB().Get(&back, st.DB().Rebind(`SELECT COUNT(*) FROM outbox WHERE kind LIKE 'relay%' AND to_addrs LIKE ?`), "%acme-it.example%")
			if back != 0 {
				t.Errorf("%d relays to the provider of its own mail", back)
			}
		})
	}
}

// TestListCopyFirstStillAcknowledged: the list's copy comes first (a
// list is never answered, so no acknowledgement), then the person's
// direct copy: it is the same message, and now the person is
// acknowledged, once; a list copy whose From the list rewrote ("Nina via
// it-staff") is still Nina's.
func TestListCopyFirstStillAcknowledged(t *testing.T) {
	viaList := []byte("From: Nina Example <nina@example.com>\r\nTo: it-staff@lists.example.com, support@example.com\r\n" +
		"List-Id: IT staff <it-staff.lists.example.com>\r\nPrecedence: list\r\nSubject: [it-staff] VPN drops\r\n" +
		"Message-ID: <vpn.1@mail.example.com>\r\n\r\nThe VPN drops every hour.\r\n--\r\nit-staff mailing list\r\n")
	direct := []byte("From: Nina Example <nina@example.com>\r\nTo: it-staff@lists.example.com, support@example.com\r\nSubject: VPN drops\r\n" +
		"Message-ID: <vpn.1@mail.example.com>\r\n\r\nThe VPN drops every hour.\r\n")
	rewritten := []byte("From: Nina Example via it-staff <it-staff@lists.example.com>\r\nReply-To: Nina Example <nina@example.com>\r\n" +
		"To: it-staff@lists.example.com\r\nList-Id: IT staff <it-staff.lists.example.com>\r\nSender: it-staff-bounces@lists.example.com\r\n" +
		"Subject: [it-staff] VPN drops\r\nMessage-ID: <vpn.1@mail.example.com>\r\n\r\nThe VPN drops every hour.\r\n")
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			res := ingest(t, eng, viaList)
			res = append(res, ingest(t, eng, direct)...)
			res = append(res, ingest(t, eng, rewritten)...)
			if got := outcomes(res); got != "new_incident HD-1; duplicate HD-1; duplicate HD-1" {
				t.Fatalf("outcomes: %s (%s | %s)", got, res[1].Reason, res[2].Reason)
			}
			var acks []store.Outbox
			st.DB().Select(&acks, `SELECT * FROM outbox WHERE kind = 'ack'`)
			if len(acks) != 1 || acks[0].ToAddrs != "nina@example.com" {
				t.Fatalf("acknowledgements: %+v", acks)
			}
		})
	}
	// The rewritten copy first: the requester is Nina, not the list.
	eng, st := newEngine(t, "sqlite", "")
	ingest(t, eng, rewritten)
	if inc, _ := st.IncidentByKey(context.Background(), "HD-1"); inc.Requester != "nina@example.com" {
		t.Errorf("requester of a list copy with a rewritten From: %s", inc.Requester)
	}
}

// TestFollowUpToClosedKeepsAssigneeAndSubject: a reply to the resolution
// notice of a closed incident opens its follow-up with the incident's own
// subject (not "Resolved: …"), for the assignee it had, and is not taken
// for a repeat of it.
func TestFollowUpToClosedKeepsAssigneeAndSubject(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			withRouting(t, eng, routingConfig+"[problems]\nthreshold = 2\n")
			ingest(t, eng, raw("carol@example.com", "Printer jams", "fc1@x"))
			ingest(t, eng, commandMailTo("HD-1", "alice.admin@example.com", "#close", "fc2@x"))
			res := ingest(t, eng, raw("carol@example.com", "Re: [HD-1] Resolved: Printer jams", "fc3@x", ownAR))
			inc, _ := st.IncidentByKey(context.Background(), res[0].Incident)
			if res[0].Incident != "HD-2" || inc.Subject != "Printer jams" || inc.Assignee != "acme" || inc.ProblemID != nil {
				t.Fatalf("follow-up: %+v / %+v", res[0], inc)
			}
			wantRows(t, st, map[string]int{"problems": 0})
		})
	}
}

// TestDelayWarningIsNoBounce: a delay warning about our mail (RFC 3464
// Action: delayed) joins its incident as a delay; the outbox row is not
// marked bounced, since the remote side still tries.
func TestDelayWarningIsNoBounce(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, st := newEngine(t, d, "")
			ingest(t, eng, raw("slow@example.org", "Printer", "dl1@x"))
			var ackID string
			if err := st.DB().Get(&ackID, `SELECT message_id FROM outbox`); err != nil {
				t.Fatal(err)
			}
			delay := strings.NewReplacer("Action: failed", "Action: delayed", "Status: 5.1.1", "Status: 4.4.1",
				"550 5.1.1", "451 4.4.1", "Undelivered Mail Returned to Sender", "Delayed Mail (still being retried)").Replace(string(dsn("slow@example.org", ackID)))
			res := ingest(t, eng, []byte(delay))
			if res[0].Incident != "HD-1" || !strings.Contains(res[0].Reason, "delayed") {
				t.Fatalf("delay warning: %+v", res[0])
			}
			var status string
			st.DB().Get(&status, st.DB().Rebind(`SELECT status FROM outbox WHERE message_id = ?`), ackID)
			if status == store.OutboxBounced || !hasEvent(eventsOf(t, st, "HD-1"), "delivery_delayed", "still being tried") {
				t.Errorf("outbox %s, events %+v", status, eventsOf(t, st, "HD-1"))
			}
		})
	}
}

// TestQuickSecondMailThreads: someone who writes twice within one batch
// ("my laptop will not boot", then "Re: my laptop will not boot") gets
// one incident with both mails, not a second mail in quarantine.
func TestQuickSecondMailThreads(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			eng, _ := newEngine(t, d, "")
			withRouting(t, eng, problemsConfig)
			res := ingest(t, eng, raw("carol@example.com", "my laptop will not boot", "q1@x", ownAR),
				raw("carol@example.com", "Re: my laptop will not boot", "q2@x", ownAR))
			if res[1].Outcome == workflow.OutcomeQuarantined || res[1].Incident != res[0].Incident {
				t.Fatalf("outcomes: %s (%s)", outcomes(res), res[1].Reason)
			}
		})
	}
}
