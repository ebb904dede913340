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
