package mailparse

import "testing"

// TestAwayAndBounceVariants: more shapes of the same faults.
func TestAwayAndBounceVariants(t *testing.T) {
	from := "From: Rita Example <rita@example.com>"
	to := "To: support@example.com"
	runKinds(t, []kindCase{
		{"away then a request", msg("Hi, I am away from Monday until 20 March and need the out of office switched on.", from, to, "Subject: Out of office"), KindHuman},
		{"german away then möchte", msg("Hallo,\nich bin ab dem 10.03. im Urlaub und möchte eine Abwesenheitsnotiz einrichten.", from, to, "Subject: Abwesenheitsnotiz"), KindHuman},
		{"prefix then a question body", msg("Hola, mi respuesta automática no se envía desde ayer. ¿Pueden revisarlo?", "From: Juan <juan@example.es>", to, "Subject: Respuesta automática: Outlook"), KindHuman},
		{"prefix stopped working", msg("Since Monday nobody gets it.", from, to, "Subject: Automatic reply: stopped working"), KindHuman},
		{"french prefix problem", msg("Bonjour, elle ne part plus.", from, to, "Subject: Réponse automatique : ne fonctionne plus"), KindHuman},
		{"please note away notice", msg("Dear sender,\n\nplease note that I am on annual leave until 17 March. Your mail will not be forwarded.", from, "Subject: Out of office"), KindAutoReply},
		{"german notice, können Sie in the second sentence", msg("Guten Tag,\n\nich bin bis 17.03. nicht im Büro. In dringenden Fällen können Sie sich an info@example.de wenden.", from, "Subject: Abwesenheitsnotiz"), KindAutoReply},
		{"spanish notice under prefix, puede contactar", msg("Gracias por su mensaje. Responderé a mi vuelta; puede contactar con soporte@example.es.", from, "Subject: Respuesta automática: Impresora"), KindAutoReply},
		{"dutch notice, kunt u", msg("Ik ben afwezig tot 17 maart. Voor dringende zaken kunt u contact opnemen met info@example.nl.", from, "Subject: Afwezigheidsbericht"), KindAutoReply},
		{"english notice, if you need help", msg("I am out of the office until 17 March. If you need help, please contact helpdesk@example.com.", from, "Subject: Out of office"), KindAutoReply},
		{"english notice, not working fridays", msg("I am out of the office today. I am not working on Fridays.", from, "Subject: Out of office"), KindAutoReply},
		{"notice with an automatic-reply preamble", msg("This is an automatic reply. I am away until 17 March and will answer on my return.", from, "Subject: Out of office"), KindAutoReply},
		{"notice with thanks in the same sentence", msg("Thank you for your email, I am currently out of the office until 17 March.", from, "Subject: Out of office"), KindAutoReply},
		{"notice after greetings", msg("Greetings! I am on vacation until 17 March.", from, "Subject: Out of office"), KindAutoReply},
		{"person whose setting says away", msg("Hi, my out of office should say I am away until 20 March.", from, to, "Subject: Out of office"), KindHuman},
		{"lotus swedish", msg("…", from, "Subject: AUTO: Anna Berg är inte på kontoret (åter 17/03/2025)"), KindAutoReply},
		{"lotus polish", msg("…", from, "Subject: AUTO: Jan Kowalski jest poza biurem (powrót 17.03.2025)"), KindAutoReply},
		{"lotus german nicht im hause", msg("…", from, "Subject: AUTO: Max Muster ist nicht im Hause (Rückkehr am 17.03.2025)"), KindAutoReply},
		{"exchange romanian ndr", msg("ghost@partner.example\nRemote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'",
			"From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@partner.example>", "Subject: Nelivrabil: Imprimantă"), KindBounce},
		{"exchange 2007 hash status", msg("Delivery has failed to these recipients or groups:\n\nghost@partner.example\n\n#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##",
			"From: System Administrator <postmaster@partner.example>", "Subject: Nie można dostarczyć: Drukarka"), KindBounce},
		{"person attaches an ndr", msg("--B\nContent-Type: text/plain\n\nHi,\nI get this for every mail to partner.example, delivery has failed to these recipients. Can you check?\n--B\nContent-Type: message/rfc822\n\nFrom: Microsoft Outlook <postmaster@partner.example>\nSubject: Undeliverable: Printer\n\nDelivery has failed.\n--B--\n",
			from, to, "Subject: Undeliverable", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=B"), KindHuman},
		{"person quotes a status line", msg("Hi, the partner's server says 550 5.1.1 user unknown. Why?", from, to, "Subject: Mail to partner"), KindHuman},
		{"mimecast block", msg("Your message to ghost@partner.example was blocked by the Mimecast gateway.\n\nReason: Message content rejected",
			"From: Mimecast <postmaster@mimecast.example>", to, "Subject: Message Rejected: Printer"), KindBounce},
	})
}

// TestNoticeVariants: more list servers, challenge and Lotus forms.
func TestNoticeVariants(t *testing.T) {
	runKinds(t, []kindCase{
		{"lotus japanese", msg("…", "From: Taro <taro@example.jp>", "Subject: AUTO: 山田太郎は不在です (17/03/2025 に戻ります)"), KindAutoReply},
		{"french awaiting validation", msg("Votre message est en attente de validation. Cliquez sur le lien ci-dessous.", "From: Luc <luc@example.fr>", "Subject: Re: Imprimante"), KindAutoReply},
		{"german waits for confirmation", msg("Ihre Nachricht wartet auf Ihre Bestätigung: https://x.example/c", "From: Max <max@example.de>", "Subject: Re: Drucker"), KindAutoReply},
		{"sympa refusal", msg("You are not allowed to send messages to the list it-staff@lists.partner.example.",
			"From: sympa@lists.partner.example", "X-Loop: it-staff@lists.partner.example", "List-Post: <mailto:it-staff@lists.partner.example>", "Subject: Message distribution: Authorization denied"), KindBounce},
		{"listserv refusal", msg("You are not authorized to send mail to the IT-STAFF list from your support@example.com account.",
			"From: L-Soft list server at LISTSERV.PARTNER.EXAMPLE <LISTSERV@LISTSERV.PARTNER.EXAMPLE>", "Subject: Rejected posting to IT-STAFF@LISTSERV.PARTNER.EXAMPLE", "X-LSV-ListID: IT-STAFF", "List-Id: <IT-STAFF.LISTSERV.PARTNER.EXAMPLE>"), KindBounce},
		{"mailman 3 reject", msg("Your message to the it-staff mailing-list was rejected for the following reasons:\n\nThe message is not from a list member",
			"From: it-staff-owner@lists.partner.example", "X-Mailman-Version: 3.3.8", "Subject: Your message to it-staff@lists.partner.example was rejected"), KindBounce},
	})
}
