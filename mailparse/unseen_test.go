package mailparse

import "testing"

// TestAwayQuestionsAreHuman: a person asking about their out-of-office
// writes the away wording too, but as a question or a request for help,
// not as the opening statement of a notice.
func TestAwayQuestionsAreHuman(t *testing.T) {
	from := "From: Rita Example <rita@example.com>"
	to := "To: support@example.com"
	runKinds(t, []kindCase{
		{"how do I switch it on", msg("Hi, how do I switch on the out of office reply in the new Outlook? I am away from Monday.",
			from, to, "Subject: Out of Office"), KindHuman},
		{"change the date", msg("Hi,\nI need help: my out of office reply says I am back on 3 March, how do I change the date? I will be away until 17 March now.",
			from, to, "Subject: Out of office reply"), KindHuman},
		{"not sent, please help", msg("Hello, my out-of-office should say I am away until 20 March but it is not sent. Please help.",
			from, to, "Subject: Out of office"), KindHuman},
		{"german wie richte ich", msg("Hallo, wie richte ich eine Abwesenheitsnotiz ein? Ich bin ab dem 10.03. im Urlaub.",
			from, to, "Subject: Abwesenheitsnotiz"), KindHuman},
		{"vacation notice question", msg("Hi, I will be away until Friday. Can you set my vacation notice for me? Thanks",
			from, to, "Subject: Vacation notice"), KindHuman},
		{"german hilfe", msg("Hilfe! Ich bin bis 20.03. nicht im Büro und die Abwesenheitsnotiz geht nicht raus.",
			from, to, "Subject: Abwesenheitsnotiz"), KindHuman},
		{"french comment", msg("Bonjour, comment activer mon message d'absence ? Je serai absent jusqu'au 10 mars.",
			from, to, "Subject: Message d'absence"), KindHuman},
		{"spanish prefix with a problem", msg("Hola, mi respuesta automática no se envía desde ayer. ¿Pueden revisarlo?",
			"From: Juan <juan@example.es>", to, "Subject: Respuesta automática: no funciona"), KindHuman},
		{"english prefix with a problem", msg("Hi, it stopped working after the update. Can you check?",
			from, to, "Subject: Automatic reply: not working"), KindHuman},
		{"german prefix with a problem", msg("Hallo, sie wird nicht gesendet.",
			from, to, "Subject: Abwesenheitsnotiz: funktioniert nicht"), KindHuman},
		// The real notices still count.
		{"notice opening with away", msg("Hi,\nI am out of the office until 17 March with no access to email. For urgent matters contact helpdesk@example.com.",
			from, "Subject: Out of Office"), KindAutoReply},
		{"german notice", msg("Sehr geehrte Damen und Herren,\nich bin bis 17.03. nicht im Büro. In dringenden Fällen wenden Sie sich an info@example.de.",
			from, "Subject: Abwesenheitsnotiz"), KindAutoReply},
		{"notice thanks first", msg("Thank you for your message. I am currently out of the office until 14 March with limited access to email.",
			from, "Subject: Out of office"), KindAutoReply},
		{"spanish vendor prefix with original subject", msg("Estoy fuera de la oficina hasta el 17 de marzo.",
			"From: Juan <juan@example.es>", "Subject: Respuesta automática: Impresora no funciona"), KindAutoReply},
		{"english vendor prefix, original subject a problem", msg("I am out of the office until Monday.",
			from, "Subject: Automatic reply: Printer not working"), KindAutoReply},
		{"vendor prefix on a reply", msg("I am away.",
			from, "Subject: Automatic reply: Re: [HD-7] VPN does not work"), KindAutoReply},
	})
}

// TestBounceTalkIsHuman: people write bounce words too; without a
// delivery system behind them they are a person's request.
func TestBounceTalkIsHuman(t *testing.T) {
	from := "From: Ann Example <ann@example.com>"
	to := "To: support@example.com"
	runKinds(t, []kindCase{
		{"undeliverable", msg("Hi,\nsince today all my mails to partner.example are undeliverable. Delivery has failed to these recipients.",
			from, to, "Subject: Undeliverable"), KindHuman},
		{"returned mail from customer", msg("Hi, I keep getting 'Returned Mail - Error During Delivery' from the customer's gateway. Please check.",
			from, to, "Subject: Returned mail from customer"), KindHuman},
		{"delay warnings", msg("Hi,\nI get 'This is a warning message only' mails for every message to partner.example. Why?",
			from, to, "Subject: Delivery delayed warnings"), KindHuman},
		{"failure notice quoted", msg("Hello, I got a failure notice saying 'Your message could not be delivered'. Permanent error? What does it mean?",
			from, to, "Subject: Failure notice"), KindHuman},
		{"mail delivery failed german", msg("Hallo, meine Mail konnte nicht zugestellt werden. Unzustellbar an kunde@partner.example.",
			"From: Karl <karl@example.de>", to, "Subject: Unzustellbar"), KindHuman},
		{"delivery status notification question", msg("Hi, I get a Delivery Status Notification for every mail to the partner, failed recipients: all of them.",
			from, to, "Subject: Delivery Status Notification"), KindHuman},
	})
}

// TestVendorAutoReplyForms: the "automatic reply" prefixes Outlook writes
// in the languages it is localised into, bracketed tags and Lotus Notes'
// away subjects.
func TestVendorAutoReplyForms(t *testing.T) {
	var cases []kindCase
	for _, s := range []string{
		"תשובה אוטומטית: מדפסת",
		"رد تلقائي: الطابعة",
		"Автоматична відповідь: Принтер",
		"Автоматичен отговор: Принтер",
		"Automatski odgovor: Pisač",
		"Samodejni odgovor: Tiskalnik",
		"Trả lời Tự động: Máy in",
		"Balasan Otomatis: Printer",
		"Resposta automàtica: Impressora",
		"Răspuns automat: Imprimantă",
		"[Răspuns automat] Imprimantă",
		"Automatická odpoveď: Tlačiareň",
		"Automatická odpověď: Tiskárna",
		"Automatikus válasz: Nyomtató",
		"Otomatik yanıt: Yazıcı",
		"Αυτόματη απάντηση: Εκτυπωτής",
		"Automaatne vastus: Printer",
		"Automātiskā atbilde: Printeris",
		"Automatinis atsakymas: Spausdintuvas",
		"Аутоматски одговор: Штампач",
		"Automatski odgovor: Štampač",
		"Автоматски одговор: Печатач",
		"Autosvar: Skrivare",
		"Sjálfvirkt svar: Prentari",
		"Erantzun automatikoa: Inprimagailua",
		"Resposta automática: Impresora",
		"Balas Automatik: Pencetak",
		"ตอบกลับอัตโนมัติ: เครื่องพิมพ์",
		"स्वचालित उत्तर: प्रिंटर",
		"自动答复: 打印机",
		"自動回覆: 印表機",
		"自動応答: プリンター",
		"자동 회신: 프린터",
		"Автоматический ответ: Принтер",
		"Automatyczna odpowiedź: Drukarka",
		"AUTO: Ana Silva está ausente do escritório (retorno em 17/03/2025)",
		"AUTO: Juan Pérez no está en la oficina. (Regreso el 17/03/2025)",
		"AUTO: Jan de Vries is niet op kantoor (terug op 17-03-2025)",
		"AUTO: Mario Rossi non è in ufficio (ritorno il 17/03/2025)",
		"AUTO: Jan Novák není v kanceláři (návrat 17.03.2025)",
	} {
		cases = append(cases, kindCase{s, msg("…", "From: Someone <someone@example.org>", "Subject: "+s), KindAutoReply})
	}
	runKinds(t, cases)
}

// TestChallengeResponseLanguages: challenge-response requests in German
// and French.
func TestChallengeResponseLanguages(t *testing.T) {
	runKinds(t, []kindCase{
		{"german", msg("Ihre Nachricht an max@example.de wurde zurückgehalten. Bitte bestätigen Sie, dass Sie kein Spam-Roboter sind, indem Sie auf den folgenden Link klicken.\n\nhttps://verify.example.de/c/123",
			"From: Max Muster <max@example.de>", "Subject: Bitte bestätigen Sie Ihre Nachricht"), KindAutoReply},
		{"french", msg("Votre message a été mis en attente. Afin de confirmer que vous êtes une personne réelle, veuillez cliquer sur le lien suivant.\n\nhttps://verify.example.fr/c/123",
			"From: Luc Martin <luc@example.fr>", "Subject: Re: Imprimante"), KindAutoReply},
		{"spanish", msg("Su mensaje ha sido retenido. Para confirmar que usted es una persona real, haga clic en el siguiente enlace.",
			"From: Ana <ana@example.es>", "Subject: Re: Impresora"), KindAutoReply},
		{"german held only", msg("Ihre E-Mail wurde in Warteschlange gestellt. Bitte bestätigen Sie Ihre Nachricht über folgenden Link.",
			"From: Max Muster <max@example.de>", "Subject: Re: Drucker"), KindAutoReply},
		{"person asks about such a mail", msg("Hallo, ich bekomme eine Mail, ich soll bestätigen, dass ich ein Mensch bin. Ist das echt?",
			"From: Karl <karl@example.de>", "Subject: Komische Mail"), KindHuman},
	})
}

// TestMailingListNotices: Mailman's notices about our own post, without
// List-Id.
func TestMailingListNotices(t *testing.T) {
	runKinds(t, []kindCase{
		{"mailman 2 reject", msg("Your request to the It-staff mailing list\n\n    Posting of your message titled \"[HD-9] Printer\"\n\nhas been rejected by the list moderator.  The moderator gave the\nfollowing reason for rejecting your request:\n\n\"Non-members are not allowed to post.\"\n\nAny questions or comments should be directed to the list administrator\nat:\n\n    it-staff-owner@lists.partner.example",
			"From: it-staff-owner@lists.partner.example", "To: support@example.com", "X-Mailman-Version: 2.1.29", "Precedence: bulk",
			"Subject: Request to mailing list It-staff rejected"), KindBounce},
		{"mailman held for moderation", msg("Your mail to 'It-staff' with the subject\n\n    [HD-9] Printer\n\nIs being held until the list moderator can review it for approval.\n\nThe reason it is being held:\n\n    Post by non-member to a members-only list\n\nEither the message will get posted to the list, or you will receive\nnotification of the moderator's decision.",
			"From: it-staff-bounces@lists.partner.example", "To: support@example.com", "X-Mailman-Version: 2.1.29", "Precedence: bulk",
			"Subject: Your message to It-staff awaits moderator approval"), KindAutoReply},
		{"mailman 3 held", msg("Your message to it-staff@lists.partner.example with the subject\n\n    [HD-9] Printer\n\nis being held until the list moderator can review it for approval.",
			"From: it-staff-owner@lists.partner.example", "To: support@example.com", "X-Mailman-Version: 3.3.8",
			"Subject: Your message to it-staff@lists.partner.example awaits moderator approval"), KindAutoReply},
		{"person asks about moderation", msg("Hi, my message to the it-staff list awaits moderator approval since Monday. Who approves it?",
			"From: Ann <ann@example.com>", "To: support@example.com", "Subject: List moderation"), KindHuman},
	})
}

// TestExchangeNDRLanguages: Exchange's system mailbox with an SMTP status
// line is a bounce whatever language the subject is in.
func TestExchangeNDRLanguages(t *testing.T) {
	body := "ghost@partner.example\nRemote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'"
	var cases []kindCase
	for _, s := range []string{
		"Niedostarczalne: Drukarka",
		"Não é possível entregar: Impressora",
		"Kan inte levereras: Skrivare",
		"无法投递: 打印机",
		"Недоставлено: Принтер",
		"Teslim edilemiyor: Yazıcı",
		"Kézbesíthetetlen: Nyomtató",
		"Ei voida toimittaa: Tulostin",
		"Nedoručiteľné: Tlačiareň",
		"Nije moguće isporučiti: Pisač",
		"Αδυναμία παράδοσης: Εκτυπωτής",
		"לא ניתן למסירה: מדפסת",
		"Nedoručitelné: Tiskárna",
		"Printer",
	} {
		cases = append(cases, kindCase{s, msg(body,
			"From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@partner.example>",
			"To: support@example.com", "Subject: "+s), KindBounce})
	}
	// The same status line from a person is their question.
	cases = append(cases, kindCase{"person quotes the status line", msg("Hi, I get "+body+" for every mail. Why?",
		"From: Ann <ann@example.com>", "To: support@example.com", "Subject: Kan inte levereras"), KindHuman})
	runKinds(t, cases)
	m, err := Parse([]byte(cases[0].raw), DefaultOptions)
	if err != nil || m.Bounce == nil {
		t.Fatalf("no bounce: %v", err)
	}
	if m.Bounce.Status != "5.1.1" || !m.Bounce.Permanent || m.Bounce.Delayed {
		t.Errorf("bounce %+v, want status 5.1.1, permanent", m.Bounce)
	}
}

// TestDelayWarnings: delay warnings are bounces with Bounce.Delayed set.
func TestDelayWarnings(t *testing.T) {
	for _, c := range []struct {
		name, raw string
		recipient bool
	}{
		{"plain text warning", msg("This is an automatically generated Delivery Status Notification.\n\nTHIS IS A WARNING MESSAGE ONLY.\nYOU DO NOT NEED TO RESEND YOUR MESSAGE.\n\nDelivery to the following recipients has been delayed for 4 hours:\n\n     <slow@partner.example>\n\nReason: 451 4.4.1 Connection timed out",
			"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>", "Return-Path: <>", "To: support@example.com", "Subject: Warning: message delayed 4 hours"), true},
		{"plain text warning, no null return path", msg("THIS IS A WARNING MESSAGE ONLY.\n\nYour message to slow@partner.example has not yet been delivered. Delivery attempts will continue for 5 days.",
			"From: Mail Delivery System <deliver@mx.example.net>", "To: support@example.com", "Subject: Warning: message delayed 4 hours"), false},
		{"rfc 3464 delayed", msg("--B\nContent-Type: text/plain\n\nYour message is delayed.\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; slow@partner.example\nAction: delayed\nStatus: 4.4.1\nWill-Retry-Until: Fri, 7 Mar 2025 09:00:00 +0000\n\n--B--\n",
			"From: Mail Delivery System <mailer-daemon@mx.example.net>", "To: support@example.com", "Subject: Delayed Mail (still being retried)",
			"Content-Type: multipart/report; report-type=delivery-status; boundary=B"), true},
	} {
		m, err := Parse([]byte(c.raw), DefaultOptions)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if m.Kind != KindBounce || m.Bounce == nil {
			t.Errorf("%s: kind %s (%s), want bounce", c.name, m.Kind, m.KindReason)
			continue
		}
		if !m.Bounce.Delayed || m.Bounce.Permanent {
			t.Errorf("%s: %+v, want Delayed and not Permanent", c.name, m.Bounce)
		}
		if c.recipient && (len(m.Bounce.Recipients) == 0 || m.Bounce.Recipients[0] != "slow@partner.example") {
			t.Errorf("%s: recipients %v", c.name, m.Bounce.Recipients)
		}
	}
}

// TestGatewayBlocks: content filters (Sophos, and others) report a
// blocked message.
func TestGatewayBlocks(t *testing.T) {
	runKinds(t, []kindCase{
		{"sophos", msg("The following message was blocked by the Sophos Email Appliance:\n\nFrom: support@example.com\nTo: ghost@partner.example\nSubject: [HD-11] Printer\nDate: Mon, 3 Mar 2025 09:00:00 +0100\n\nReason: The message contains a blocked attachment type.\n\nIf you believe this message was blocked in error, contact your administrator: postmaster@partner.example",
			"From: Sophos Email Appliance <noreply@sophos.partner.example>", "To: support@example.com", "Subject: Message blocked: Printer"), KindBounce},
		{"sophos, null return path", msg("Your message to ghost@partner.example was blocked by policy.\nReason: 554 5.7.1 Message rejected by content filter",
			"Return-Path: <>", "From: Email Gateway <noreply@gw.partner.example>", "To: support@example.com", "Subject: Message blocked: Printer"), KindBounce},
		{"person says a mail was blocked", msg("Hi, my message to the partner was blocked, can you check why?",
			"From: Ann <ann@example.com>", "To: support@example.com", "Subject: Message blocked: partner"), KindHuman},
	})
}
