package majorreport

import (
	"reflect"
	"strings"
	"testing"

	"github.com/helpdeskd/helpdeskd/mailparse"
)

// reportCase is one reply as a provider or team lead writes it. want maps
// a section name to its exact text; every required section not in want
// must be in missing.
type reportCase struct {
	name     string
	text     string // the new text of the reply
	sections []string
	want     map[string]string
	missing  []string
	preamble string
	other    []string // headings of Other sections
}

// mailText runs a raw message through mailparse, as the daemon does, and
// returns the new text of the reply.
func mailText(t *testing.T, raw string) string {
	t.Helper()
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	msg, err := mailparse.Parse([]byte(raw), mailparse.DefaultOptions)
	if err != nil {
		t.Fatalf("mailparse: %v", err)
	}
	return msg.NewText
}

func replyCases(t *testing.T) []reportCase {
	return []reportCase{
		{
			name: "joined headings: Lessons learned / Preventive actions, Fix and workaround",
			text: `What happened:
The VPN concentrator rebooted in a loop.

Root cause & analysis:
A firmware bug triggered by a full log partition.

**Fix and workaround**
Firmware 9.2 installed.

Lessons learned / Preventive actions:
Log partition alerts at 80 %.`,
			want: map[string]string{
				WhatHappened: "The VPN concentrator rebooted in a loop.",
				Cause:        "A firmware bug triggered by a full log partition.",
				Fix:          "Firmware 9.2 installed.",
				Prevention:   "Log partition alerts at 80 %.",
			},
		},
		{
			name: "plain headings with colons, own lines",
			text: `Hello,

please find our report on the outage below.

What happened:
On Tuesday 11 Nov from 06:50 to 09:35 the file server FS02 was not reachable
from the Bremen office. Mapped drives showed as disconnected.

Root cause:
The VMware host ESX03 lost both uplinks after a firmware update of the
top-of-rack switch was applied outside the maintenance window.

Resolution:
We rolled the switch back to firmware 10.4.2 and vMotioned FS02 to ESX01.

Lessons learned:
Switch firmware is now only applied in the Saturday window, after a test on
the lab switch.

Best regards
Tobias Brandt
Contoso Managed Services`,
			want: map[string]string{
				WhatHappened: "On Tuesday 11 Nov from 06:50 to 09:35 the file server FS02 was not reachable\nfrom the Bremen office. Mapped drives showed as disconnected.",
				Cause:        "The VMware host ESX03 lost both uplinks after a firmware update of the\ntop-of-rack switch was applied outside the maintenance window.",
				Fix:          "We rolled the switch back to firmware 10.4.2 and vMotioned FS02 to ESX01.",
				Prevention:   "Switch firmware is now only applied in the Saturday window, after a test on\nthe lab switch.\n\nBest regards\nTobias Brandt\nContoso Managed Services",
			},
			preamble: "Hello,\n\nplease find our report on the outage below.",
		},
		{
			name: "numbered 1. with synonyms, no colons",
			text: `1. Incident summary
Between 13:05 and 13:50 nobody could log in to the VPN.

2. Root cause analysis
The RADIUS server's certificate expired at 13:00.

3. Remediation
A new certificate was issued from the internal CA and installed at 13:45.

4. Preventive measures
All certificates are now in the monitoring with a 30 day warning.`,
			want: map[string]string{
				WhatHappened: "Between 13:05 and 13:50 nobody could log in to the VPN.",
				Cause:        "The RADIUS server's certificate expired at 13:00.",
				Fix:          "A new certificate was issued from the internal CA and installed at 13:45.",
				Prevention:   "All certificates are now in the monitoring with a 30 day warning.",
			},
		},
		{
			name: "Markdown bold inline headings",
			text: `Hi all,

**What happened:** The ERP was unreachable for all users from 08:10 to 08:55.
**Root cause:** The SQL Server transaction log disk ran full overnight.
**Fix:** We shrank the log after a log backup and added 100 GB to the disk.
**Prevention:** Log backups run every 15 minutes now, disk alert at 85%.

Thanks, Sven`,
			want: map[string]string{
				WhatHappened: "The ERP was unreachable for all users from 08:10 to 08:55.",
				Cause:        "The SQL Server transaction log disk ran full overnight.",
				Fix:          "We shrank the log after a log backup and added 100 GB to the disk.",
				Prevention:   "Log backups run every 15 minutes now, disk alert at 85%.\n\nThanks, Sven",
			},
			preamble: "Hi all,",
		},
		{
			name: "bold HTML from Outlook through mailparse",
			text: mailText(t, `From: Jana Hoffmann <j.hoffmann@provider.example>
To: helpdesk@example.com
Subject: RE: [HD-118] Report requested: major incident
Date: Mon, 17 Nov 2026 10:02:11 +0100
Message-ID: <abc123@provider.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><p>Dear helpdesk team,</p>
<p>here is our report.</p>
<p><b>What happened</b></p>
<p>The internet uplink at the headquarters was down from 14:12 to 15:40.</p>
<p><b>Root Cause</b></p>
<p>A construction crew cut the fibre between the street cabinet and the building.</p>
<p><strong>Resolution:</strong> Traffic was switched to the LTE backup at 14:30; the fibre was spliced at 15:35.</p>
<p><b>Preventive actions</b></p>
<ul><li>Second fibre entry via the north side (owner: Telco, due 2027-03-31)</li>
<li>Automatic failover to LTE instead of a manual switch</li></ul>
<p>Kind regards<br>Jana Hoffmann</p></body></html>
`),
			want: map[string]string{
				WhatHappened: "The internet uplink at the headquarters was down from 14:12 to 15:40.",
				Cause:        "A construction crew cut the fibre between the street cabinet and the building.",
				Fix:          "Traffic was switched to the LTE backup at 14:30; the fibre was spliced at 15:35.",
				Prevention:   "* Second fibre entry via the north side (owner: Telco, due 2027-03-31)\n* Automatic failover to LTE instead of a manual switch\n\nKind regards\nJana Hoffmann",
			},
			preamble: "Dear helpdesk team,\n\nhere is our report.",
		},
		{
			name: "HTML headings h2 and h3 through mailparse",
			text: mailText(t, `From: ops@msp.example
To: helpdesk@example.com
Subject: Post-incident report HD-203
Date: Mon, 17 Nov 2026 10:02:11 +0100
Message-ID: <h2h3@msp.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<h1>Post-incident report</h1>
<h2>Summary</h2><p>Printing failed on all floors for two hours.</p>
<h2>Cause</h2><p>The print server's spooler crashed on a corrupt driver package.</p>
<h3>Solution</h3><p>Removed the driver package and restarted the spooler.</p>
<h2>Next steps</h2><p>Drivers are only deployed after a test on one queue.</p>
`),
			want: map[string]string{
				WhatHappened: "Printing failed on all floors for two hours.",
				Cause:        "The print server's spooler crashed on a corrupt driver package.",
				Fix:          "Removed the driver package and restarted the spooler.",
				Prevention:   "Drivers are only deployed after a test on one queue.",
			},
			preamble: "Post-incident report",
		},
		{
			name: "German with umlauts and question mark",
			text: `Hallo zusammen,

anbei unser Bericht zur Störung.

Was ist passiert?
Am Montag war der Exchange-Server von 07:40 bis 10:15 Uhr nicht erreichbar.

Ursache:
Das Log-Volume der Postfachdatenbank war voll, weil die Sicherung seit sechs
Tagen fehlschlug.

Lösung:
Volume um 50 GB vergrößert, Vollsicherung gestartet, Datenbank bereitgestellt.

Maßnahmen:
Fehlgeschlagene Sicherungen lösen jetzt einen Alarm aus.

Viele Grüße
Katrin Weber`,
			want: map[string]string{
				WhatHappened: "Am Montag war der Exchange-Server von 07:40 bis 10:15 Uhr nicht erreichbar.",
				Cause:        "Das Log-Volume der Postfachdatenbank war voll, weil die Sicherung seit sechs\nTagen fehlschlug.",
				Fix:          "Volume um 50 GB vergrößert, Vollsicherung gestartet, Datenbank bereitgestellt.",
				Prevention:   "Fehlgeschlagene Sicherungen lösen jetzt einen Alarm aus.\n\nViele Grüße\nKatrin Weber",
			},
			preamble: "Hallo zusammen,\n\nanbei unser Bericht zur Störung.",
		},
		{
			name: "German, optional sections, spelled without umlauts",
			text: `Zeitraum: 04.11.2026, 22:00 bis 05.11.2026, 01:30 Uhr
Betroffene: alle 340 Mitarbeitenden im Werk Kassel

Beschreibung
Das MES war nicht erreichbar, die Produktion lief im Notbetrieb.

Grundursache
Ein abgelaufenes Dienstkonto-Passwort.

Behebung
Passwort neu gesetzt und im Passwort-Tresor hinterlegt.

Praevention
Dienstkonten laufen nicht mehr ab; Ablauf wird überwacht.`,
			want: map[string]string{
				Impact:        "04.11.2026, 22:00 bis 05.11.2026, 01:30 Uhr",
				UsersAffected: "alle 340 Mitarbeitenden im Werk Kassel",
				WhatHappened:  "Das MES war nicht erreichbar, die Produktion lief im Notbetrieb.",
				Cause:         "Ein abgelaufenes Dienstkonto-Passwort.",
				Fix:           "Passwort neu gesetzt und im Passwort-Tresor hinterlegt.",
				Prevention:    "Dienstkonten laufen nicht mehr ab; Ablauf wird überwacht.",
			},
		},
		{
			name: "report pasted under the quoted request",
			text: mailText(t, `From: Lars Becker <l.becker@netops.example>
To: helpdesk@example.com
Subject: Re: [HD-77] Major incident report requested
Date: Tue, 18 Nov 2026 08:15:00 +0100
Message-ID: <pasted@netops.example>
In-Reply-To: <hd-77-report@helpdesk.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

> Please send the report for HD-77 by 21 Nov with these sections:
> what happened, cause, fix, prevention.
> Optional: impact window, users affected, actions with owner and date.

What happened
The wireless network in building B dropped all clients every few minutes.

Cause
A rogue access point from a visitor was broadcasting our SSID.

Fix
The controller's rogue containment was enabled and the device removed.

Prevention
Rogue detection alerts go to the NOC now.
`),
			want: map[string]string{
				WhatHappened: "The wireless network in building B dropped all clients every few minutes.",
				Cause:        "A rogue access point from a visitor was broadcasting our SSID.",
				Fix:          "The controller's rogue containment was enabled and the device removed.",
				Prevention:   "Rogue detection alerts go to the NOC now.",
			},
		},
		{
			name: "only two sections",
			text: `Hi,

Summary: the backup server was offline over the weekend.
Resolution: we replaced the failed PSU on Monday morning.

Root cause and further steps will follow once the vendor has looked at it.

Regards, Mark`,
			want: map[string]string{
				WhatHappened: "the backup server was offline over the weekend.",
				Fix:          "we replaced the failed PSU on Monday morning.\n\nRoot cause and further steps will follow once the vendor has looked at it.\n\nRegards, Mark",
			},
			missing:  []string{Cause, Prevention},
			preamble: "Hi,",
		},
		{
			name: "Roman numerals and hyphenated root-cause",
			text: `I. Incident Summary
SharePoint Online sync failed for the finance department.

II. Root-Cause Analysis
A conditional access policy blocked the sync client's legacy authentication.

III. How it was fixed
The policy was scoped to exclude the managed devices group.

IV. Corrective Actions
Policy changes are reviewed by a second admin before activation.`,
			want: map[string]string{
				WhatHappened: "SharePoint Online sync failed for the finance department.",
				Cause:        "A conditional access policy blocked the sync client's legacy authentication.",
				Fix:          "The policy was scoped to exclude the managed devices group.",
				Prevention:   "Policy changes are reviewed by a second admin before activation.",
			},
		},
		{
			name: "parenthesised and 1) numbering in capitals",
			text: `(1) WHAT HAPPENED
Telephony was down: no inbound calls from 09:00 to 09:40.
2) REASON
The SIP trunk provider had an outage in their Frankfurt data centre.
(3) WORKAROUND APPLIED
Calls were forwarded to mobile phones through the provider portal.
4) FOLLOW-UP ACTIONS
A second SIP trunk from another provider is being ordered.`,
			want: map[string]string{
				WhatHappened: "Telephony was down: no inbound calls from 09:00 to 09:40.",
				Cause:        "The SIP trunk provider had an outage in their Frankfurt data centre.",
				Fix:          "Calls were forwarded to mobile phones through the provider portal.",
				Prevention:   "A second SIP trunk from another provider is being ordered.",
			},
		},
		{
			name: "underlined headings with an unknown Timeline section",
			text: `Description
===========
The web shop returned HTTP 502 for 25 minutes.

Timeline
--------
10:02 first alert
10:27 service restored

Root cause
----------
An expired TLS certificate between the load balancer and the backend.

Fix
---
Certificate renewed, pool re-enabled.

Prevention
----------
Backend certificates are renewed by ACME now.`,
			want: map[string]string{
				WhatHappened: "The web shop returned HTTP 502 for 25 minutes.",
				Cause:        "An expired TLS certificate between the load balancer and the backend.",
				Fix:          "Certificate renewed, pool re-enabled.",
				Prevention:   "Backend certificates are renewed by ACME now.",
			},
			other: []string{"Timeline"},
		},
		{
			name: "Markdown # headings and __bold__ subheading",
			text: `# Post-incident review: Citrix outage

## What happened
Nobody could start a Citrix session from 07:30 to 08:15.

## Why
__Technical detail__
The license server's certificate was replaced and the delivery controllers did
not trust the new one.

## Remediation
We imported the CA chain on both controllers.

## Lessons learnt
- Certificate changes on the license server go through change management.
- A synthetic logon test runs every 5 minutes.`,
			want: map[string]string{
				WhatHappened: "Nobody could start a Citrix session from 07:30 to 08:15.",
				Cause:        "__Technical detail__\nThe license server's certificate was replaced and the delivery controllers did\nnot trust the new one.",
				Fix:          "We imported the CA chain on both controllers.",
				Prevention:   "- Certificate changes on the license server go through change management.\n- A synthetic logon test runs every 5 minutes.",
			},
			preamble: "# Post-incident review: Citrix outage",
		},
		{
			name: "terse inline lines one after another, dash separators",
			text: `what happened - DHCP scope for VLAN 30 was exhausted, new laptops got no address
cause - lease time of 8 days with 250 addresses for 400 devices
fix - lease time 8 hours, scope widened to /23
prevention - scope utilisation is graphed and alerts at 80%`,
			want: map[string]string{
				WhatHappened: "DHCP scope for VLAN 30 was exhausted, new laptops got no address",
				Cause:        "lease time of 8 days with 250 addresses for 400 devices",
				Fix:          "lease time 8 hours, scope widened to /23",
				Prevention:   "scope utilisation is graphed and alerts at 80%",
			},
		},
		{
			name: "table of contents before the report",
			text: `Major incident report HD-311

Contents
1. Summary ........ 1
2. Root cause ........ 1
3. Resolution ........ 2
4. Lessons learned ........ 2

1. Summary
The ticketing portal was unavailable for customers for 3 hours.

2. Root cause
A database migration locked the tickets table.

3. Resolution
The migration was stopped and rescheduled with online DDL.

4. Lessons learned
Migrations are tested against a production-sized copy first.`,
			want: map[string]string{
				WhatHappened: "The ticketing portal was unavailable for customers for 3 hours.",
				Cause:        "A database migration locked the tickets table.",
				Fix:          "The migration was stopped and rescheduled with online DDL.",
				Prevention:   "Migrations are tested against a production-sized copy first.",
			},
			preamble: "Major incident report HD-311\n\nContents",
		},
		{
			name: "same heading twice is joined",
			text: `Cause: the UPS in rack 4 failed its self-test and dropped the load.

What happened: both core switches in rack 4 lost power at 02:14.

Cause: the second power feed of rack 4 had been unplugged during cabling work.

Fix: power restored at 02:40, UPS battery replaced.

Prevention: dual feeds are checked in the monthly rack walk.`,
			want: map[string]string{
				Cause:        "the UPS in rack 4 failed its self-test and dropped the load.\n\nthe second power feed of rack 4 had been unplugged during cabling work.",
				WhatHappened: "both core switches in rack 4 lost power at 02:14.",
				Fix:          "power restored at 02:40, UPS battery replaced.",
				Prevention:   "dual feeds are checked in the monthly rack walk.",
			},
		},
		{
			name: "false friends: Fix and Reason inside paragraphs",
			text: `What happened
The core switch rebooted at 11:02 and all VLANs were down.
Fixing the switch took an hour.
Reason: unknown at that point, so we called the vendor.

Root cause
A memory leak in the SNMP process, vendor bug CSCwx12345.

Fix
Upgraded to the fixed release.

Prevention
Fix releases are applied within 30 days.`,
			want: map[string]string{
				WhatHappened: "The core switch rebooted at 11:02 and all VLANs were down.\nFixing the switch took an hour.\nReason: unknown at that point, so we called the vendor.",
				Cause:        "A memory leak in the SNMP process, vendor bug CSCwx12345.",
				Fix:          "Upgraded to the fixed release.",
				Prevention:   "Fix releases are applied within 30 days.",
			},
		},
		{
			name: "empty heading and TBD placeholder are missing",
			text: `What happened:
The VoIP phones in the call centre lost registration for 40 minutes.

Cause:

Fix:
Rebooted the session border controller.

Prevention: TBD`,
			want: map[string]string{
				WhatHappened: "The VoIP phones in the call centre lost registration for 40 minutes.",
				Fix:          "Rebooted the session border controller.",
			},
			missing: []string{Cause, Prevention},
		},
		{
			name:     "configured names: synonyms and an unknown name",
			sections: []string{"Summary", "Root cause", "Customer communication"},
			text: `Incident summary: The customer portal was down for 2 hours.
Root cause: An expired DNS zone delegation.
Resolution: Delegation renewed at the registrar.
Communication: customers were informed by the status page.`,
			want: map[string]string{
				"Summary":    "The customer portal was down for 2 hours.",
				"Root cause": "An expired DNS zone delegation.",
				Fix:          "Delegation renewed at the registrar.\nCommunication: customers were informed by the status page.",
			},
			missing: []string{"Customer communication"},
		},
		{
			name: "no headings at all",
			text: `Hi, the outage was caused by a power cut in the data centre. We will send
the report by Friday.`,
			missing:  []string{WhatHappened, Cause, Fix, Prevention},
			preamble: "Hi, the outage was caused by a power cut in the data centre. We will send\nthe report by Friday.",
		},
	}
}

func TestParseReplies(t *testing.T) {
	for _, c := range replyCases(t) {
		t.Run(c.name, func(t *testing.T) {
			r := Parse(c.text, c.sections)
			got := map[string]string{}
			for _, s := range r.Sections {
				got[s.Name] = s.Text
			}
			want := c.want
			if want == nil {
				want = map[string]string{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("sections:\n got %#v\nwant %#v\ntext:\n%s", got, want, c.text)
			}
			if !reflect.DeepEqual(r.Missing, c.missing) {
				t.Errorf("missing = %q, want %q", r.Missing, c.missing)
			}
			wantStatus := StatusComplete
			if len(c.missing) > 0 {
				wantStatus = StatusPartial
			}
			if r.Status != wantStatus {
				t.Errorf("status = %q, want %q", r.Status, wantStatus)
			}
			if r.Preamble != c.preamble {
				t.Errorf("preamble = %q, want %q", r.Preamble, c.preamble)
			}
			var other []string
			for _, o := range r.Other {
				other = append(other, stripMarkers(o.Heading))
			}
			if !reflect.DeepEqual(other, c.other) {
				t.Errorf("other = %q, want %q", other, c.other)
			}
		})
	}
}

func TestParseCount(t *testing.T) {
	// The issue asks for at least 15 differently written replies.
	if n := len(replyCases(t)); n < 15 {
		t.Fatalf("%d reply cases, want at least 15", n)
	}
}

func TestMissingWords(t *testing.T) {
	r := Parse("Summary: the backup server was offline.\nResolution: PSU replaced.", nil)
	if got, want := MissingWords(r), "The report lacks: cause, prevention."; got != want {
		t.Errorf("MissingWords = %q, want %q", got, want)
	}
	r = Parse("Summary: a.\nCause: b.\nFix: c.\nPrevention: d.", nil)
	if got := MissingWords(r); got != "" {
		t.Errorf("complete report: MissingWords = %q, want empty", got)
	}
	r = Parse("Ursache: x", []string{"Was ist passiert", "Ursache", "Lösung"})
	if got, want := MissingWords(r), "The report lacks: Was ist passiert, Lösung."; got != want {
		t.Errorf("configured German names: MissingWords = %q, want %q", got, want)
	}
}

func TestActions(t *testing.T) {
	r := Parse(`Summary: mail down.
Cause: disk full.
Fix: disk extended.
Prevention: monitoring.

Actions:
- Add disk alerts on all Exchange volumes (owner: M. Kaya, due 05.12.2026)
- Backup failures page the on-call engineer, responsible: J. Weber, by 2026-11-30
- Review the backup concept
  with the vendor, owner: IT lead, 15 Jan 2027

| Action | Owner | Due |
|---|---|---|
| Replace the old SAN | Infrastructure team | 2027-06-30 |`, nil)
	want := []Action{
		{Text: "Add disk alerts on all Exchange volumes (owner: M. Kaya, due 05.12.2026)", Owner: "M. Kaya", Due: "05.12.2026"},
		{Text: "Backup failures page the on-call engineer, responsible: J. Weber, by 2026-11-30", Owner: "J. Weber", Due: "2026-11-30"},
		{Text: "Review the backup concept with the vendor, owner: IT lead, 15 Jan 2027", Owner: "IT lead", Due: "15 Jan 2027"},
		{Text: "Replace the old SAN", Owner: "Infrastructure team", Due: "2027-06-30"},
	}
	dates := []string{"2026-12-05", "2026-11-30", "2027-01-15", "2027-06-30"}
	if len(r.Actions) != len(want) {
		t.Fatalf("actions = %+v, want %d", r.Actions, len(want))
	}
	for i, a := range r.Actions {
		d := a.DueDate.Format("2006-01-02")
		a.DueDate = want[i].DueDate
		if a != want[i] {
			t.Errorf("action %d = %+v, want %+v", i, a, want[i])
		}
		if d != dates[i] {
			t.Errorf("action %d due date = %s, want %s", i, d, dates[i])
		}
	}
	if r.Status != StatusComplete {
		t.Errorf("status = %q", r.Status)
	}
}

func TestHeadingForms(t *testing.T) {
	// Each line alone opens the cause section; each false friend does not.
	heads := []string{
		"Cause", "cause:", "CAUSE", "Root cause", "Root-cause analysis", "Root cause (RCA)",
		"1. Cause", "1) Cause", "(1) Cause", "I. Cause", "IV) Root cause", "2.1 Root cause",
		"a) Ursache", "**Cause**", "**Cause:**", "**Cause**:", "__Cause__", "*Root cause*",
		"## Root cause", "### 2. Grundursache", "Ursache:", "Why?", "Reason",
		"- Root cause:", "Ursachenanalyse", "Root cause ......... 3",
		"\ufeffCause", "Root\u200b cause", "Ur\u00adsache",
	}
	for _, h := range heads {
		r := Parse(h+"\r\nThe switch failed.", nil)
		if got, _ := r.Text(Cause); got != "The switch failed." {
			t.Errorf("%q: cause = %q, want it recognised as a heading (report %+v)", h, got, r)
		}
	}
	inline := []string{
		"Cause: The switch failed.", "**Cause:** The switch failed.", "**Cause** The switch failed.",
		"*Root cause:* The switch failed.", "1. Root cause: The switch failed.", "Ursache – The switch failed.",
		"__Reason__: The switch failed.",
	}
	for _, l := range inline {
		r := Parse(l, nil)
		if got, _ := r.Text(Cause); got != "The switch failed." {
			t.Errorf("%q: cause = %q, want the inline heading recognised", l, got)
		}
	}
	notHeads := []string{
		"Fixing the switch took an hour.", "Causes of the delay were unclear to us", "Fix the monitoring: we need it",
		"The cause: a switch", "1.5 GB of logs were lost: fix pending", "Why we did not call earlier is a fair question.",
	}
	for _, l := range notHeads {
		r := Parse("Summary\n"+l, nil)
		if got, _ := r.Text(WhatHappened); got != l {
			t.Errorf("%q: what happened = %q, want the line kept as text; sections %+v", l, got, r.Sections)
		}
	}
}

func TestSynonymsUnique(t *testing.T) {
	// A heading must open one section only, and every synonym must be in
	// the folded form that lookups use.
	seen := map[string]string{}
	for canon, list := range synonyms {
		for _, s := range list {
			if prev, ok := seen[s]; ok {
				t.Errorf("%q names both %q and %q", s, prev, canon)
			}
			seen[s] = canon
			if n := normalize(stripMarkers(s)); n != s {
				t.Errorf("synonym %q is looked up as %q", s, n)
			}
		}
	}
}

func TestQuestionHeadings(t *testing.T) {
	r := Parse(`Guten Morgen,

Was war das Problem?
Der Druckserver hat keine Aufträge mehr angenommen.

Wie kam es dazu?
Der Spooler-Ordner lag auf dem vollen Laufwerk C:.

Wie wurde es behoben?
Spooler-Ordner auf D: verlegt und Dienst neu gestartet.

Wie verhindern wir das in Zukunft?
Laufwerk C: wird ab 85 % Belegung gemeldet.`, []string{"what happened?", " Cause ", "FIX", "prevention:"})
	want := map[string]string{
		"what happened?": "Der Druckserver hat keine Aufträge mehr angenommen.",
		"Cause":          "Der Spooler-Ordner lag auf dem vollen Laufwerk C:.",
		"FIX":            "Spooler-Ordner auf D: verlegt und Dienst neu gestartet.",
		"prevention:":    "Laufwerk C: wird ab 85 % Belegung gemeldet.",
	}
	for name, w := range want {
		if got, _ := r.Text(name); got != w {
			t.Errorf("%s = %q, want %q (sections %+v)", name, got, w, r.Sections)
		}
	}
	if r.Status != StatusComplete {
		t.Errorf("status %q, missing %q", r.Status, r.Missing)
	}
}
