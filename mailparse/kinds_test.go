package mailparse

import (
	"strings"
	"testing"
)

// kindCase is one message and the kind it must get.
type kindCase struct {
	name, raw string
	want      Kind
}

// msg builds a message from header lines and a body.
func msg(body string, header ...string) string {
	return strings.Join(header, "\r\n") + "\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n")
}

func runKinds(t *testing.T, cases []kindCase) {
	t.Helper()
	for _, c := range cases {
		m, err := Parse([]byte(c.raw), DefaultOptions)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if m.Kind != c.want {
			t.Errorf("%s: kind %s (%s), want %s", c.name, m.Kind, m.KindReason, c.want)
		}
	}
}

// TestSubjectPhraseAloneIsHuman: people write about their out-of-office
// settings; a subject phrase alone never makes a message automatic.
func TestSubjectPhraseAloneIsHuman(t *testing.T) {
	runKinds(t, []kindCase{
		{"out of office not working", msg("I switched on my out of office in Outlook yesterday, but people outside\nthe company do not get it.",
			"From: Wanda Example <wanda@example.com>", "To: support@example.com", "Subject: Out of office not working",
			"Message-ID: <ooo.0001@mail.example.com>", "Content-Type: text/plain; charset=utf-8"), KindHuman},
		{"automatic replies still on", msg("Hello,\n\nI came back on Monday but my automatic replies are still sent. Can you switch them off?\n\nThanks, Bob",
			"From: Bob Example <bob@example.com>", "To: support@example.com", "Subject: My automatic replies are still on after vacation"), KindHuman},
		{"german abwesenheitsnotiz", msg("Hallo,\n\nmeine Abwesenheitsnotiz geht nur an interne Kollegen, externe Absender bekommen nichts.\n\nGruß\nKarl",
			"From: Karl Beispiel <karl@example.de>", "To: support@example.com", "Subject: Abwesenheitsnotiz geht nicht an externe Absender"), KindHuman},
		{"french reponse automatique", msg("Bonjour,\n\ncomment activer la réponse automatique dans OWA ?\n\nMerci",
			"From: Claire <claire@example.fr>", "To: support@example.com", "Subject: Réponse automatique impossible à activer"), KindHuman},
		{"a question about auto reply with colon", msg("How do I set one up in the new Outlook?",
			"From: Dan <dan@example.com>", "To: support@example.com", "Subject: Auto-reply: how do I set it up?"), KindHuman},
		{"words before the phrase and colon", msg("Since the update it is not sent to external senders.",
			"From: Hal <hal@example.com>", "To: support@example.com", "Subject: Problem with automatic reply: not sent to externals"), KindHuman},
		{"german words before the phrase and colon", msg("Seit dem Update geht sie nicht mehr raus.",
			"From: Ida <ida@example.de>", "To: support@example.com", "Subject: Frage zur Abwesenheitsnotiz: geht nicht"), KindHuman},
		{"reply to an ooo thread", msg("Thanks, it works now. I'm out of ideas why it failed before.",
			"From: Eve <eve@example.com>", "To: support@example.com", "Subject: Re: [HD-12] Out of office broken"), KindHuman},
		{"person on leave says so", msg("Hi, I am on vacation until 12 March, please fix my out of office before that.",
			"From: Fay <fay@example.com>", "To: support@example.com", "Subject: Please fix my out of office message"), KindHuman},
		{"spanish human", msg("Hola, la respuesta automática no funciona.",
			"From: Gil <gil@example.es>", "To: support@example.com", "Subject: Problema con respuesta automática en Outlook"), KindHuman},
	})
}

// TestAutoReplyStructure: automatic replies have structure; each form is
// recognised without RFC 3834 headers.
func TestAutoReplyStructure(t *testing.T) {
	runKinds(t, []kindCase{
		{"exchange prefix", msg("I am out of the office until Monday.", "From: a@example.com", "Subject: Automatic reply: [HD-3] Printer"), KindAutoReply},
		{"german prefix", msg("Ich bin bis 12.03. nicht im Büro.", "From: a@example.de", "Subject: Abwesenheitsnotiz: Drucker"), KindAutoReply},
		{"exchange 2003 prefix", msg("I am away.", "From: a@example.com", "Subject: Out of Office AutoReply: VPN down"), KindAutoReply},
		{"latvian words before the phrase", msg("Esmu atvaļinājumā.", "From: a@example.lv", "Subject: Arpus biroja atrasanas automatiska atbilde: subjecting"), KindAutoReply},
		{"lotus notes", msg("I will be out of the office starting 03/03/2025 and will not return until 10/03/2025.",
			"From: Jane Doe <jane.doe@example.com>", "Subject: AUTO: Jane Doe is out of the office (returning 10/03/2025)"), KindAutoReply},
		{"lotus notes german", msg("Ich werde ab 03.03.2025 nicht im Büro sein.",
			"From: Max Muster <max@example.de>", "Subject: AUTO: Max Muster ist außer Haus (Rückkehr am 10.03.2025)"), KindAutoReply},
		{"lotus notes french", msg("Je serai absent du bureau.", "From: Luc <luc@example.fr>", "Subject: AUTO: Luc Martin est absent (retour le 10/03/2025)"), KindAutoReply},
		{"lotus notes without AUTO", msg("I will be out of the office starting 03/03/2025 and will not return until 10/03/2025.",
			"From: Jane Doe <jane.doe@example.com>", "Subject: Jane Doe/ACME is out of the office."), KindAutoReply},
		{"unix vacation", msg("I am away until 10 March.", "Precedence: bulk", "From: bob@example.org", "Subject: away from my mail"), KindAutoReply},
		{"korean exchange", msg("부재중입니다.", "From: k@example.kr", "Subject: 자동 회신: 프린터"), KindAutoReply},
		{"french exchange space before colon", msg("Je suis absent.", "From: f@example.fr", "Subject: Réponse automatique : Imprimante"), KindAutoReply},
		{"away sentence with return date, no AUTO", msg("Back soon.", "From: Kim <kim@example.com>", "Subject: Kim Lee is out of the office (returning 14.04.2025)"), KindAutoReply},
		{"polish tag", msg("Jestem nieobecny do 10 marca.", "From: p@example.pl", "Subject: [Odpowiedź automatyczna] Re: Drukarka"), KindAutoReply},
		{"czech tag", msg("Jsem mimo kancelář do 10. 3.", "From: c@example.cz", "Subject: [Automatická odpověď] Tiskárna"), KindAutoReply},
		{"dutch tag", msg("Ik ben afwezig tot 10 maart.", "From: d@example.nl", "Subject: [Automatisch antwoord] Printer"), KindAutoReply},
		{"italian tag", msg("Sono fuori ufficio fino al 10 marzo.", "From: i@example.it", "Subject: [Risposta automatica] Stampante"), KindAutoReply},
		{"spanish tag", msg("Estoy fuera de la oficina hasta el 10 de marzo.", "From: e@example.es", "Subject: [Respuesta automática] Impresora"), KindAutoReply},
		{"portuguese tag", msg("Estou fora do escritório até 10 de março.", "From: pt@example.pt", "Subject: [Resposta automática] Impressora"), KindAutoReply},
		{"swedish tag", msg("Jag är ledig till 10 mars.", "From: s@example.se", "Subject: [Automatiskt svar] Skrivare"), KindAutoReply},
		{"norwegian tag", msg("Jeg er på ferie til 10. mars.", "From: n@example.no", "Subject: [Automatisk svar] Skriver"), KindAutoReply},
		{"danish tag", msg("Jeg er ikke på kontoret.", "From: dk@example.dk", "Subject: [Automatisk svar] Printer"), KindAutoReply},
		{"finnish tag", msg("Olen poissa 10.3. asti.", "From: f@example.fi", "Subject: [Automaattinen vastaus] Tulostin"), KindAutoReply},
		{"german tag", msg("Ich bin bis 10.03. im Urlaub.", "From: g@example.de", "Subject: [Automatische Antwort] Drucker"), KindAutoReply},
		{"french tag at the end", msg("Je suis absent jusqu'au 10 mars.", "From: fr@example.fr", "Subject: Imprimante [Réponse automatique]"), KindAutoReply},
		{"phrase and null return path", msg("Thanks.", "Return-Path: <>", "From: a@example.com", "Subject: Out of office Re: Printer"), KindAutoReply},
		{"phrase and precedence bulk", msg("Thanks.", "Precedence: bulk", "From: a@example.com", "Subject: Out of office Re: Printer"), KindAutoReply},
		{"phrase and a body saying when back", msg("Thank you for your message. I am currently out of the office until 14 March with limited access to email.",
			"From: a@example.com", "Subject: Out of office Re: Printer"), KindAutoReply},
		{"precedence auto_reply", msg("Away.", "Precedence: auto_reply", "From: a@example.com", "Subject: Re: Printer"), KindAutoReply},
		{"open-xchange autoresponder header", msg("Away.", "X-Autoreply-From: a@example.com", "From: a@example.com", "Subject: Re: Printer"), KindAutoReply},
		{"exchange message class", msg("Away.", "X-POST-MessageClass: 9; Autoresponder", "From: a@example.com", "Subject: Re: Printer"), KindAutoReply},
		{"rt autoreply after its tag", msg("Greetings, this message has been automatically generated.", "From: rt@example.org", "Subject: [support.example.org #33575] AutoReply: FYI"), KindAutoReply},
		{"thank you for your e-mail with null sender and bulk", msg("Thank you for your e-mail. We will answer as soon as possible.",
			"Return-Path: <>", "Precedence: bulk", "From: Info <info@shop.example>", "Subject: Thank you for your e-mail"), KindAutoReply},
		{"receipt with null sender", msg("We have received your message and will reply within two working days.",
			"Return-Path: <>", "From: Service <service@example.net>", "Subject: Re: Invoice"), KindAutoReply},
	})
}

// TestChallengeResponse: systems that ask the sender to prove they are a
// person are automatic and never answered.
func TestChallengeResponse(t *testing.T) {
	runKinds(t, []kindCase{
		{"boxbe style", msg("Hello,\n\nYour message to john@example.net has been held because you are not on his Guest List.\nClick the link below to confirm your message and be added to the guest list.\n\nhttps://www.boxbe.com/anno?tc=1",
			"From: John Doe <notifications@boxbe.com>", "Subject: Re: [HD-4] Printer"), KindAutoReply},
		{"bluebottle style", msg("I am protecting myself from receiving junk mail.\nPlease verify that you are a real person by clicking the link below.",
			"From: mary@example.org", "Subject: Re: [HD-5] Printer"), KindAutoReply},
		{"verify you are human", msg("To have your message delivered, please verify you are human: https://verify.example/abc",
			"From: bob@example.biz", "Subject: Please verify your message"), KindAutoReply},
		{"spamarrest", msg("I use a challenge-response system to block spam. Please confirm your message.",
			"From: carl@example.info", "Subject: Re: your mail"), KindAutoReply},
		{"boxbe waiting list", msg("Hello,\n\nYour message has been placed in my Boxbe Waiting List. To get on my Guest List, please click below.",
			"From: Jo <jo@example.com>", "Subject: Re: Printer"), KindAutoReply},
		{"bluebottle make sure delivered", msg("This is an automated response. To make sure that your message gets delivered, please click the link below.",
			"From: bb@example.com", "Subject: Re: Printer"), KindAutoReply},
		{"german challenge", msg("Bitte bestätigen Sie, dass Sie diese Nachricht gesendet haben: https://x.example/c",
			"From: de@example.de", "Subject: Re: Drucker"), KindAutoReply},
		{"service domain alone", msg("Pending.", "From: Verification <verify@mail.spamarrest.com>", "Subject: Re: Printer"), KindAutoReply},
		{"user reports phishing", msg("I got a mail saying I must click the link below to verify your account. Is this real?",
			"From: ann@example.com", "Subject: Strange mail"), KindHuman},
		{"user forwards a challenge", msg("Why do I get this?\n\nPlease verify that you are a real person by clicking the link below.",
			"From: ann@example.com", "Subject: Fwd: Re: Printer"), KindHuman},
	})
}

// TestGatewayBounces: delivery reports of gateways that write no DSN.
func TestGatewayBounces(t *testing.T) {
	runKinds(t, []kindCase{
		{"returned mail failed recipients", msg("The original message was received at Mon, 3 Mar 2025 09:00:00 +0100\n\n----- Failed Recipients -----\n<gone@example.org>\n\nReason: 550 User unknown",
			"From: Mail Gateway <gateway@mx.example.org>", "Subject: Returned Mail - Error During Delivery"), KindBounce},
		{"error during delivery, null sender", msg("Failed Recipients: gone@example.org\nReason: mailbox unavailable",
			"Return-Path: <>", "From: noreply@mx.example.org", "Subject: Returned Mail - Error During Delivery"), KindBounce},
		{"bilingual french english", msg("Votre message n'a pas pu être remis aux destinataires suivants :\nYour message could not be delivered to the following recipients:\n\n    gone@example.fr",
			"From: Administrateur système <admin@mx.example.fr>", "Subject: Non remis / Undeliverable: Imprimante"), KindBounce},
		{"french exchange", msg("Votre message n'a pas pu être remis.", "From: Postmaster <gw@example.fr>", "Subject: Non remis : Imprimante"), KindBounce},
		{"failed recipients block from a plain sender", msg("----- Failed Recipients -----\ngone@example.org\n\nError During Delivery",
			"From: noreply@mx.example.org", "Subject: Returned Mail - Error During Delivery"), KindBounce},
		{"exchange delay", msg("Delivery is delayed to these recipients or groups:\n\nslow@example.org\n\nThis message hasn't been delivered yet. Delivery will continue to be attempted.",
			"From: Microsoft Outlook <postmaster@example.com>", "Subject: Delivery delayed: Printer"), KindBounce},
		{"french non-remise", msg("La remise du message a échoué.", "From: Administrateur système <x@mx.example.fr>", "Subject: Rapport de non-remise: Imprimante"), KindBounce},
		{"groupwise", msg("The message that you sent was undeliverable to the following:\n\tgone@example.com (user not found)\n\nPossible causes:",
			"From: GroupWise Internet Agent <gwia@example.com>", "Subject: Message status - undeliverable"), KindBounce},
		{"exchange 2003", msg("Your message did not reach some or all of the intended recipients.\n\n      Subject:\tPrinter\n      Sent:\t3/3/2025 9:00 AM\n\nThe following recipient(s) could not be reached:\n\n      gone@example.com on 3/3/2025 9:01 AM\n            The e-mail account does not exist at the organization this message was sent to.",
			"From: System Administrator <admin@example.com>", "Subject: Undeliverable: Printer"), KindBounce},
		{"lotus delivery failure", msg("Your document:\tPrinter\nwas not delivered to:\tgone@example.com\nbecause:\tUser gone@example.com not listed in Domino Directory",
			"From: Mail Router <router@example.com>", "Subject: DELIVERY FAILURE: User gone@example.com not listed"), KindBounce},
		{"delayed warning", msg("This is an automatically generated Delivery Status Notification.\n\nTHIS IS A WARNING MESSAGE ONLY.\n\nYOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\nDelivery to the following recipients has been delayed.\n\n     slow@example.org",
			"From: Mail Delivery Subsystem <deliver@example.net>", "Subject: Delivery Status Notification (Delay)"), KindBounce},
		{"exchange online delay from its system mailbox", msg("Delivery is delayed to these recipients or groups:\n\nslow@example.org",
			"From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.com>", "Subject: Delivery delayed:Printer"), KindBounce},
		{"message undeliverable", msg("Your message could not be delivered to gone@example.com.", "From: Mail Server <mx@example.com>", "Subject: Message Undeliverable: Printer"), KindBounce},
		{"german gateway", msg("Ihre Nachricht konnte nicht an folgende Empfänger zugestellt werden:\n\ngone@example.de", "Return-Path: <>", "From: Gateway <gw@example.de>", "Subject: Nachricht"), KindBounce},
		{"mailer-daemon return path", msg("Delivery has failed to these recipients or groups:\ngone@example.com",
			"Return-Path: <MAILER-DAEMON@mx.example.com>", "From: Mail Delivery System <Mail.Delivery.System@mx.example.com>", "Subject: Delivery status notification"), KindBounce},
		{"post_master sender", msg("Error: user unknown", "From: post_master@vtext.example.com", "Subject: Re:Test message"), KindBounce},
		{"from without address", msg("failed", "From: <>", "Subject: Delivery Status"), KindBounce},
		{"amazon ses via sns", msg(`{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"gone@example.org","status":"5.1.1"}]}}`,
			"From: AWS Notifications <no-reply@sns.amazonaws.com>", "x-amz-sns-message-id: 1f2e", "Subject: AWS Notification Message"), KindBounce},
		{"list refuses a non-member", msg("You are not a member of this mailing list <staff@example.org>.",
			"From: staff-admin@example.org", "X-MLServer: fml [fml 4.0.3]", "List-Subscribe: <mailto:staff-ctl@example.org?body=subscribe>", "Subject: You are not member (staff ML)"), KindBounce},
		{"mailman only members", msg("Only members may post to this list; your message was discarded.",
			"From: it-staff-owner@lists.example.org", "List-Id: <it-staff.lists.example.org>", "Subject: Your message to it-staff was rejected"), KindBounce},
		// Ordinary mail is never a bounce.
		{"list post about membership", msg("Hi all, how do I become a member of this list? The archive says only members may read.",
			"From: Ann <ann@example.com>", "List-Id: <it-staff.lists.example.org>", "Subject: membership"), KindList},
		{"person forwards a bounce", msg("Why did this bounce?\n\n---------- Forwarded message ----------\nFrom: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nSubject: Delivery Status Notification (Failure)\n\nYour message wasn't delivered to gone@example.org because the address couldn't be found.",
			"From: Ann <ann@example.com>", "Subject: Fwd: Delivery Status Notification (Failure)"), KindHuman},
		{"person asks about undeliverable mail", msg("My mail could not be delivered to the customer, what is wrong?",
			"From: Ann <ann@example.com>", "Subject: Mails are undeliverable"), KindHuman},
		{"person writes a bounce-like subject", msg("Since Monday my mails could not be delivered to customer@example.net, can you check?",
			"From: Ann <ann@example.com>", "Subject: Undeliverable mails to a customer"), KindHuman},
		{"delivery status of an order", msg("The laptop could not be delivered to our office yesterday.", "From: Ben <ben@example.com>", "Subject: Delivery status of my laptop"), KindHuman},
		{"null return path alone is not a bounce", msg("Hello", "Return-Path: <>", "From: Skipio <skipio@example.net>", "Subject: signed"), KindAutoReply},
	})
}

// TestDelayIsNotPermanent: a delay warning is a bounce whose Delayed is
// set and that is never permanent.
func TestDelayIsNotPermanent(t *testing.T) {
	for _, c := range []struct {
		name, raw        string
		delayed, permant bool
	}{
		{"text delay", msg("THIS IS A WARNING MESSAGE ONLY.\nYOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\nDelivery to the following recipients has been delayed.\n\n     slow@example.org\n\nReason: Connection timed out; will retry for 5 days",
			"From: MAILER-DAEMON@mx.example.net", "Subject: Delivery Status Notification (Delay)"), true, false},
		{"dsn action delayed", msg("--B\nContent-Type: text/plain\n\nDelayed\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; slow@example.org\nAction: delayed\nStatus: 4.4.7\nDiagnostic-Code: smtp; 450 4.4.7 no such user here yet\n\n--B--\n",
			"From: MAILER-DAEMON@mx.example.net", "Subject: Warning: message delayed", "Content-Type: multipart/report; report-type=delivery-status; boundary=B"), true, false},
		{"failure is not a delay", msg("--B\nContent-Type: text/plain\n\nfailed\n--B\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n\n--B--\n",
			"From: MAILER-DAEMON@mx.example.net", "Subject: Undelivered Mail", "Content-Type: multipart/report; report-type=delivery-status; boundary=B"), false, true},
	} {
		m, err := Parse([]byte(c.raw), DefaultOptions)
		if err != nil || m.Bounce == nil {
			t.Fatalf("%s: %v, kind %s", c.name, err, m.Kind)
		}
		if m.Bounce.Delayed != c.delayed || m.Bounce.Permanent != c.permant {
			t.Errorf("%s: %+v, want delayed=%v permanent=%v", c.name, m.Bounce, c.delayed, c.permant)
		}
	}
}
