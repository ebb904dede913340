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
