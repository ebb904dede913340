package mailparse

import (
	"strings"
	"testing"
)

const helpdeskAttribution = "On Mon, 3 Mar 2025 at 09:00, Example IT Helpdesk <support@example.com> wrote:"

// TestRequesterLinesAboveAttribution: every line the requester wrote above
// the attribution is new text, whatever colons it holds (a time, a URL,
// "Note:"); a wrapped attribution is recognised only when its lines
// really form one.
func TestRequesterLinesAboveAttribution(t *testing.T) {
	quote := "\n\n> Hello Vera Example,\n> your incident HD-7 was updated.\n"
	for _, c := range []struct{ name, in, want string }{
		{"time in a sentence", "Hi,\n\nit works again since 10:30, the firmware update fixed it.\n\n" + helpdeskAttribution + quote,
			"Hi,\n\nit works again since 10:30, the firmware update fixed it."},
		{"single line with a time", "Please call me at 14:00, I am at my desk then.\n\n" + helpdeskAttribution + quote,
			"Please call me at 14:00, I am at my desk then."},
		{"url right above", "Hello,\nsee https://status.example.com/incidents/42 for the outage\n" + helpdeskAttribution + quote,
			"Hello,\nsee https://status.example.com/incidents/42 for the outage"},
		{"note label", "Note: the printer on floor 2 works again.\n" + helpdeskAttribution + quote,
			"Note: the printer on floor 2 works again."},
		{"list of times", "Times:\n10:30 down\n11:15 up again\n\n" + helpdeskAttribution + quote,
			"Times:\n10:30 down\n11:15 up again"},
		{"line that starts like an attribution", "On Monday at 10:30 the printer broke again.\n" + helpdeskAttribution + quote,
			"On Monday at 10:30 the printer broke again."},
		{"log lines with dates", "Here is the log:\n2025-03-03 10:30 printer down\n2025-03-03 11:15 printer up\n\n" + helpdeskAttribution + quote,
			"Here is the log:\n2025-03-03 10:30 printer down\n2025-03-03 11:15 printer up"},
		{"date-first attribution still found", "Works.\n\n2025-03-03 09:00 GMT+01:00 Example IT Helpdesk <support@example.com>:\n\n> old",
			"Works."},
		{"address in the text", "Please also copy it to anna@example.com: she needs it.\n\n" + helpdeskAttribution + quote,
			"Please also copy it to anna@example.com: she needs it."},
		{"german", "Bitte rufen Sie mich um 14:00 an.\n\nAm Mo., 3. März 2025 um 09:00 Uhr schrieb Example IT Helpdesk <support@example.com>:\n> alt",
			"Bitte rufen Sie mich um 14:00 an."},
		{"french", "Merci, ça marche depuis 10:30 : le redémarrage a suffi.\n\nLe lun. 3 mars 2025 à 09:00, Example IT Helpdesk <support@example.com> a écrit :\n> ancien",
			"Merci, ça marche depuis 10:30 : le redémarrage a suffi."},
		{"spanish", "Gracias. Hora del fallo: 08:45.\n\nEl lun, 3 mar 2025 a las 9:00, Example IT Helpdesk (<support@example.com>) escribió:\n> viejo",
			"Gracias. Hora del fallo: 08:45."},
		// Wrapped attributions are still recognised.
		{"gmail wrapped", "Thanks!\n\nOn Mon, 3 Mar 2025 at 09:00, Example IT Helpdesk <\nsupport@example.com> wrote:\n\n> old",
			"Thanks!"},
		{"wrapped with bracket line", "Danke.\n\nAm 03.03.2025 09:00 schrieb \"Example IT Helpdesk\" <support@example.com\n>:\n\n> alt",
			"Danke."},
		{"name first wrapped", "Danke.\n\nExample IT Helpdesk <support@example.com> schrieb am Mo., 3. März 2025\num 09:00:\n> alt",
			"Danke."},
	} {
		if got := StripReply(c.in); got != c.want {
			t.Errorf("%s: StripReply = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestTextAfterAttributionIsQuoted: lines after an attribution that are
// not ">"-quoted are the quoted message, never new text (so never
// commands); a reply below ">"-quoted lines still counts.
func TestTextAfterAttributionIsQuoted(t *testing.T) {
	mallory := "On Mon, 3 Mar 2025 at 09:00, Mallory <mallory@evil.example> wrote:"
	for _, c := range []struct{ name, in, want, never string }{
		{"attribution then command", mallory + "\n#resolve\nAll done.", mallory, "#resolve"},
		{"blank line between", mallory + "\n\n#resolve\n", mallory, "#resolve"},
		{"wrapped attribution then command", "On Mon, 3 Mar 2025 at 09:00, Mallory <\nmallory@evil.example> wrote:\n#close\n",
			"On Mon, 3 Mar 2025 at 09:00, Mallory <\nmallory@evil.example> wrote:", "#close"},
		{"german", "Am 03.03.2025 um 09:00 schrieb Mallory <mallory@evil.example>:\n#priority P1\n", "Am 03.03.2025 um 09:00 schrieb Mallory <mallory@evil.example>:", "#priority"},
		{"quote, then attribution, then command", "> earlier\n\n" + mallory + "\n#resolve\n", "> earlier\n\n" + mallory, "#resolve"},
		{"own text above stays", "Thanks.\n\n" + mallory + "\n#resolve\n", "Thanks.", "#resolve"},
		{"bottom posted below a quote", mallory + "\n> Is it fixed?\n\nYes, since 10:30.\n#resolve", "Yes, since 10:30.\n#resolve", ""},
	} {
		got := StripReply(c.in)
		if got != c.want {
			t.Errorf("%s: StripReply = %q, want %q", c.name, got, c.want)
		}
		if c.never != "" {
			m, err := Parse([]byte("From: mallory@evil.example\r\nSubject: Re: [HD-1] x\r\n\r\n"+strings.ReplaceAll(c.in, "\n", "\r\n")), DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(m.NewText, c.never) {
				t.Errorf("%s: NewText %q holds %q", c.name, m.NewText, c.never)
			}
		}
	}
}

// TestSeparatorStartsHistory: a separator line or an Outlook header block
// at the top of a body starts the forwarded or quoted history; nothing
// from it on is new text (so never a command, never relayed), and the
// forwarded message is kept apart in Forwarded.
func TestSeparatorStartsHistory(t *testing.T) {
	const cmd = "#category network"
	for _, c := range []struct{ name, in, want string }{
		{"original message", "-----Original Message-----\n" + cmd + "\nThe VPN is down.", ""},
		{"original message, blank line", "-----Original Message-----\n\n" + cmd + "\nThe VPN is down.", ""},
		{"outlook underscores", "________________________________\nFrom: Mallory <mallory@evil.example>\nSent: Tuesday, March 4, 2025 9:00 AM\n" + cmd, ""},
		{"german", "-----Ursprüngliche Nachricht-----\n" + cmd, ""},
		{"thunderbird forward", "-------- Forwarded Message --------\nSubject: VPN\n" + cmd, ""},
		{"gmail forward", "---------- Forwarded message ---------\nFrom: Mallory <mallory@evil.example>\n" + cmd, ""},
		{"french", "-------- Message d'origine --------\n" + cmd, ""},
		{"spanish", "-----Mensaje original-----\n" + cmd, ""},
		{"outlook block on top", "From: Mallory <mallory@evil.example>\nSent: Tuesday, March 4, 2025 9:00 AM\nTo: support@example.com\nSubject: VPN\n\n" + cmd, ""},
		{"french block", "De : Mallory <mallory@evil.example>\nEnvoyé : mardi 4 mars 2025 09:00\nÀ : support@example.com\nObjet : VPN\n\n" + cmd, ""},
		{"french sujet", "De : Mallory <mallory@evil.example>\nSujet : VPN\n\n" + cmd, ""},
		{"quote then separator", "> earlier\n\n-----Original Message-----\n" + cmd, "> earlier"},
		{"own text above", "FYI, see below.\n\n-----Original Message-----\n" + cmd, "FYI, see below."},
	} {
		got := StripReply(c.in)
		if got != c.want {
			t.Errorf("%s: StripReply = %q, want %q", c.name, got, c.want)
		}
		m, err := Parse([]byte("From: staff@example.com\r\nSubject: Fwd: VPN\r\n\r\n"+strings.ReplaceAll(c.in, "\n", "\r\n")), DefaultOptions)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.NewText, "#category") {
			t.Errorf("%s: NewText %q holds the command", c.name, m.NewText)
		}
		if c.want == "" && !strings.Contains(m.Forwarded, cmd) {
			t.Errorf("%s: Forwarded %q lacks the forwarded text", c.name, m.Forwarded)
		}
		if c.want != "" && m.Forwarded != "" {
			t.Errorf("%s: Forwarded %q, want none (the mail has text of its own)", c.name, m.Forwarded)
		}
	}
}

// TestHTMLSeparatorStartsHistory: an HTML-only forward, a rule (<hr>) and
// Outlook's From:/Sent: block, gives no new text.
func TestHTMLSeparatorStartsHistory(t *testing.T) {
	body := "<html><body><hr><b>From:</b> Mallory &lt;mallory@evil.example&gt;<br><b>Sent:</b> Tuesday, March 4, 2025 9:00 AM<br><b>To:</b> support@example.com<br><br>#category network<br>The VPN is down.</body></html>"
	m, err := Parse([]byte("From: staff@example.com\r\nSubject: Fwd: VPN\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"+body), DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.NewText, "#category") || strings.Contains(m.NewText, "VPN is down") {
		t.Errorf("NewText %q holds the forwarded text (Text %q)", m.NewText, m.Text)
	}
	if !strings.Contains(m.Forwarded, "VPN is down") {
		t.Errorf("Forwarded %q lacks the forwarded text", m.Forwarded)
	}
}

// TestAttributionsInManyLanguages: one-line Gmail and Thunderbird
// attributions in Swedish, Danish, Dutch, Polish, Russian, Japanese and
// Hungarian end the new text; what follows them is quoted, also without
// ">".
func TestAttributionsInManyLanguages(t *testing.T) {
	for _, attr := range []string{
		"Den tis 4 mars 2025 kl 09:00 skrev Example IT Helpdesk <support@example.com>:",
		"Den tir. 4. mar. 2025 kl. 09.00 skrev Example IT Helpdesk <support@example.com>:",
		"Op di 4 mrt 2025 om 09:00 schreef Example IT Helpdesk <support@example.com>:",
		"Op 04-03-2025 om 09:00 schreef Example IT Helpdesk:",
		"W dniu 4.03.2025 o 09:00, Example IT Helpdesk pisze:",
		"вт, 4 мар. 2025 г. в 09:00, Example IT Helpdesk <support@example.com>:",
		"2025年3月4日(火) 9:00 Example IT Helpdesk <support@example.com>:",
		"Example IT Helpdesk <support@example.com> ezt írta (időpont: 2025. márc. 4., K, 9:00):",
	} {
		in := "Hoi,\nhet werkt weer.\n\n" + attr + "\n> Werkt het?"
		if got := StripReply(in); got != "Hoi,\nhet werkt weer." {
			t.Errorf("%q: StripReply = %q", attr, got)
		}
		in = attr + "\n#resolve\nWerkt het?"
		if got := StripReply(in); got != attr {
			t.Errorf("%q unquoted: StripReply = %q, want the attribution line alone", attr, got)
		}
	}
}

// TestProseIsNoAttribution: "On <day> X wrote:" in prose, without a
// year, a time or an address, is text.
func TestProseIsNoAttribution(t *testing.T) {
	for _, in := range []string{
		"Hi,\nOn Monday my colleague wrote:\nthe VPN drops every hour.\nIt still does.",
		"Hi,\nOn the intranet page someone wrote:\nthe VPN drops every hour.\nIt still does.",
		"Hi,\nOn 4 March 2025 I wrote to the vendor:\nthe VPN drops every hour.\nIt still does.",
		"Hoi,\nOp 4 maart 2025 schreef ik aan de leverancier:\nde VPN valt elk uur weg.",
	} {
		if got := StripReply(in); got != in {
			t.Errorf("StripReply(%q) = %q, want it whole", in, got)
		}
	}
}

// TestSeparatorsInMoreLanguages: Outlook's header block and "original
// message" lines of more languages, and a no-break space after the colon,
// start the history.
func TestSeparatorsInMoreLanguages(t *testing.T) {
	for name, sep := range map[string]string{
		"no-break space": "From:\u00a0Mallory <m@evil.example>\nSent:\u00a0Monday\nTo:\u00a0support\nSubject:\u00a0hi",
		"Japanese":       "差出人: Mallory <m@evil.example>\n送信日時: 2025年3月4日\n宛先: support\n件名: hi",
		"Chinese":        "发件人: Mallory <m@evil.example>\n发送时间: 2025年3月4日\n收件人: support\n主题: hi",
		"Czech":          "Od: Mallory <m@evil.example>\nOdesláno: 4. března 2025\nKomu: support\nPředmět: hi",
		"Turkish":        "Kimden: Mallory <m@evil.example>\nGönderildi: 4 Mart 2025\nKime: support\nKonu: hi",
		"Korean":         "보낸 사람: Mallory <m@evil.example>\n보낸 날짜: 2025년 3월 4일\n받는 사람: support\n제목: hi",
		"Greek":          "Από: Mallory <m@evil.example>\nΣτάλθηκε: 4 Μαρτίου 2025\nΠρος: support\nΘέμα: hi",
		"Portuguese":     "-----Mensagem original-----",
		"Swedish":        "-----Ursprungligt meddelande-----",
		"Polish":         "-----Oryginalna wiadomość-----",
	} {
		got := StripReply("Fixed it.\n\n" + sep + "\n\nSECRET #priority P5\n")
		if got != "Fixed it." {
			t.Errorf("%s: new text %q", name, got)
		}
	}
}
