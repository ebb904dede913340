package workflow

import (
	"strings"
	"unicode/utf8"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/german"
)

// The helpdesk's lexicon: the words of everyday IT faults in English,
// German, French and Spanish, each concept with its variants (spelling,
// inflection, other languages), so that "Drucker", "imprimante" and
// "printers" are one word of a fingerprint. A concept is named by an
// English word; its variants are plain words as written in mail, lower
// case. Words not in the lexicon are reduced by the Snowball stemmer of
// the subject's language (English or German; snowballstem, the stemmers
// of the Snowball project), and German compounds the lexicon does not
// hold are split into parts it does ("Netzwerkdose" → network + port).
//
// Two rules keep hard negatives apart: a concept never joins two faults
// a helpdesk treats differently ("slow" is not "work"; "toner" is not
// "jam"), and device words stay apart from fault words.
var concepts = map[string]string{
	// What is wrong.
	"start":      "startup starting boot booting launch open opening starten startet öffnen öffnet ouvrir démarrage démarre demarrage inicio arranque hochfahren load loading loads laden lädt",
	"crash":      "crashes crashing crashed absturz abstürzt stürzt sturzt abgestürzt plante planté bloqueo freeze freezes freezing frozen hangs hang hängt einfrieren respond responding reagiert bluescreen bsod closes",
	"work":       "working works worked funktioniert funktionieren fonctionne funciona broken kaputt defekt defective dead tot down outage ausfall ausgefallen störung stoerung panne available unavailable verfügbar reachable unreachable reach erreichbar geht gehen connect connects connecting verbindet verbinden",
	"slow":       "langsam langsame lahm lent lente lenta sluggish performance laggy lag lagging",
	"delay":      "delayed delays verzögert verzögerung verspätet retard stundenlang",
	"fail":       "fails failed failure failing error errors fehler fehlermeldung fehlgeschlagen erreur échec echec échoué invalid ungültig warning warnings warnung",
	"drop":       "drops dropping dropped disconnect disconnects disconnecting disconnected getrennt verbunden abbruch bricht abgebrochen unterbrochen coupe",
	"lock":       "locked lockout gesperrt sperre verrouillé bloqué bloqueada unlock entsperren",
	"expire":     "expired expires expiring abgelaufen expiré",
	"missing":    "fehlt fehlen verschwunden weg gone disappeared manquant disparu lost",
	"detect":     "detected detecting recognized recognised recognize erkannt erkennt find finds found",
	"full":       "voll plein lleno quota exceeded exceed überschritten",
	"jam":        "jams jammed papierstau stau bourrage atasco",
	"flicker":    "flickers flickering flackert flackern",
	"access":     "zugriff zugang accès permission permissions berechtigung berechtigungen rights rechte droits deny denied verweigert refusé",
	"sync":       "syncing synced synchronizing synchronisiert synchronisieren synchronisation synchronization synchro",
	"arrive":     "arrives arriving arrived ankommen kommen kommt arrivent deliver delivered delivery zugestellt receive received receiving empfangen erhalten",
	"send":       "sent sending senden sendet verschickt verschicken envoyer envoie envoi enviar",
	"reset":      "forgot forgotten zurücksetzen vergessen réinitialiser oublié",
	"install":    "installed installing installation installieren installer instalar",
	"update":     "updates updated updating aktualisierung aktualisiert",
	"delete":     "deleted gelöscht gelöschte löschen supprimé",
	"restore":    "restored recover recovery wiederherstellen wiederherstellung restaurer",
	"disable":    "disabled deactivate deactivated deaktiviert deaktivieren sperren désactiver",
	"offline":    "hors",
	"prompt":     "prompts prompting asks fragt abfrage",
	"forward":    "forwarding weiterleitung umleitung transfert",
	"share":      "shared sharing freigabe freigeben freigegeben partage partagé sammel",
	"save":       "saving saved speichern gespeichert enregistrer",
	"suspicious": "verdächtig verdächtige suspect suspecte phishing phish",
	"unusual":    "ungewöhnlich ungewöhnliche inhabituel",
	"colour":     "color farbe farbig couleur",
	"empty":      "leer vide",
	"loud":       "laut noisy",
	// What it is wrong with.
	"printer":       "printers print printing printout printouts drucker druck drucken druckt gedruckt ausdruck imprimante imprimer impression impresora",
	"scan":          "scans scanner scanning scannen gescannt numérisation",
	"password":      "passwort kennwort mot contraseña pw pwd credentials credential anmeldedaten zugangsdaten mdp",
	"login":         "logon signin anmelden anmeldung einloggen connexion",
	"auth":          "authentication authenticate authentifizierung",
	"mfa":           "2fa authenticator",
	"wifi":          "wlan wireless wi",
	"network":       "internet netzwerk netz réseau reseau connection connectivity verbindung lan ethernet",
	"port":          "socket dose buchse prise",
	"email":         "mail mails emails courriel correo",
	"mailbox":       "postfach",
	"calendar":      "kalender calendrier calendario",
	"disk":          "drive festplatte platte disque disco storage space speicher speicherplatz laufwerk datenträger",
	"screen":        "monitor monitors display bildschirm bildschirme écran ecran pantalla tv fernseher anzeige",
	"signal":        "picture bild image",
	"black":         "schwarz noir negra blank",
	"audio":         "sound ton son sonido hear hears hören",
	"camera":        "kamera webcam video",
	"microphone":    "mikrofon mic microphon micro",
	"headset":       "kopfhörer casque",
	"phone":         "telefon téléphone telephone festnetz phon",
	"mobile":        "handy diensthandy smartphone iphone android cell mobil portable",
	"call":          "anruf anrufe ruf appel",
	"laptop":        "notebook",
	"battery":       "akku batterie",
	"charger":       "ladegerät netzteil chargeur",
	"keyboard":      "tastatur clavier",
	"mouse":         "maus souris",
	"fan":           "lüfter ventilateur",
	"dock":          "docking dockingstation",
	"projector":     "beamer projecteur",
	"room":          "raum salle",
	"meeting":       "meetings besprechung besprechungen réunion réunions reunión",
	"door":          "tür entrance eingang porte",
	"badge":         "ausweis",
	"folder":        "ordner dossier verzeichnis directory",
	"file":          "datei dateien fichier",
	"account":       "konto compte",
	"user":          "benutzer utilisateur",
	"admin":         "administrator administratorrechte adminrechte",
	"license":       "licence lizenz lizenzen lizenziert unlicensed licensed",
	"certificate":   "zertifikat zertifikate certificat cert",
	"key":           "schlüssel clé",
	"backup":        "sicherung datensicherung sauvegarde",
	"invoice":       "rechnung rechnungen facture",
	"supplier":      "lieferant lieferanten fournisseur",
	"external":      "extern externe externen extérieur exterieur",
	"quarantine":    "quarantäne quarantaine",
	"macro":         "makro makros",
	"signature":     "signatur",
	"guest":         "gast",
	"assistant":     "assistants assistentin assistent assistenz assistante",
	"sign":          "signed signing unterschreiben unterschrift signieren signiert",
	"timesheet":     "timesheets zeiterfassung stundenzettel",
	"sales":         "vertrieb ventes ventas",
	"message":       "nachricht nachrichten",
	"out-of-office": "outofoffice abwesenheitsnotiz abwesenheit",
	"starter":       "hire employee joiner mitarbeiter onboarding",
	"leaver":        "leaving leaves verlässt austritt offboarding départ",
	"build":         "gebäude",
	"desk":          "arbeitsplatz schreibtisch platz",
}

// words the lexicon knows only as themselves: parts of compounds
// ("Dockingstation", "Serverraum") and words no stemmer should touch.
const plainWords = `station server update user admin app portal system cloud web key card box time folder office home`

// synonyms is the lexicon inverted: every variant, and every concept's
// name, to the concept's stem.
var synonyms = func() map[string]string {
	out := map[string]string{}
	for c, vs := range concepts {
		canon := stemWord(c, false)
		out[c] = canon
		for _, v := range strings.Fields(vs) {
			out[v] = canon
		}
	}
	for _, w := range strings.Fields(plainWords) {
		if _, ok := out[w]; !ok {
			out[w] = w
		}
	}
	return out
}()

// germanMarkers are words that make a subject German for the stemmer.
var germanMarkers = wordSet(`der die das ein eine einen dem den des und oder mit ohne bei von zu im ist sind war nicht kein keine auch noch bitte
wird werden kann beim geht mehr auf aus für vom nach sehr ich mir mich wir uns dass weil seit wieder immer`)

// isGerman guesses whether a subject is German: a German function word
// or a letter only German has.
func isGerman(words []string) bool {
	for _, w := range words {
		if germanMarkers[w] || strings.ContainsAny(w, "äöüß") {
			return true
		}
	}
	return false
}

// stemWord reduces a word by the Snowball stemmer of its language. The
// generated stemmers are not known to panic on Go strings, but a word
// they cannot take is returned as written rather than lose the message.
func stemWord(w string, de bool) (out string) {
	defer func() {
		if recover() != nil {
			out = w
		}
	}()
	env := snowball.NewEnv(w)
	if de {
		german.Stem(env)
	} else {
		english.Stem(env)
	}
	return env.Current()
}

// lookup maps a word to its concept, trying it as written and then its
// stem; ok is false for a word the lexicon does not hold.
func lookup(w string, de bool) (string, bool) {
	if c, ok := synonyms[w]; ok {
		return c, true
	}
	if c, ok := synonyms[stemWord(w, de)]; ok {
		return c, true
	}
	return "", false
}

// minCompound and maxCompound bound the length, in letters, of a word
// the lexicon does not hold that is tried as a compound (each part has
// at least 3); maxParts bounds the parts of one word. Longer words are
// not German compounds but ids, hashes or garbage, and the bounds keep
// the split linear in the subject whatever its words.
const (
	minCompound = 7
	maxCompound = 40
	maxParts    = 4
)

// decompound splits a compound the lexicon does not hold into two or
// more parts it does, the longest known head first, allowing the German
// linking letters ("Besprechung-s-raum"); nil when no split covers the
// whole word.
func decompound(w string, de bool) []string {
	return split(w, de, maxParts)
}

func split(w string, de bool, parts int) []string {
	n := utf8.RuneCountInString(w)
	if n < minCompound || n > maxCompound || parts < 2 {
		return nil
	}
	r := []rune(w)
	for i := n - 3; i >= 3; i-- {
		head, tail := string(r[:i]), string(r[i:])
		hc, ok := lookup(head, de)
		if !ok {
			for _, link := range []string{"s", "es", "n", "en"} {
				if h, found := strings.CutSuffix(head, link); found && utf8.RuneCountInString(h) >= 3 {
					if hc, ok = lookup(h, de); ok {
						break
					}
				}
			}
		}
		if !ok {
			continue
		}
		if tc, ok := lookup(tail, de); ok {
			return []string{hc, tc}
		}
		if rest := split(tail, de, parts-1); rest != nil {
			return append([]string{hc}, rest...)
		}
	}
	return nil
}

// faultFamilies group the concepts that say what is wrong (not with
// what) by the kind of fault: slowness, a full store, credentials, a
// device's own symptom, and something not being there or not working. A
// concept may be of two kinds ("delayed" mail is slow and not arriving;
// a black screen is a symptom and a display not working). Two reports
// that each name a fault, but no kind of fault in common, are different
// issues however alike the rest ("SAP slow" / "SAP not working", "VPN
// drops" / "VPN password expired", "printer offline" / "paper jam"),
// whatever weight a rare shared word ("SAP") gives them; faults of one
// kind go together ("disconnected" / "offline", "not found" / "missing").
var faultFamilies = map[string]string{
	"slowness":     "slow delay",
	"capacity":     "full",
	"credentials":  "lock expire prompt",
	"symptom":      "jam flicker loud black empty",
	"availability": "work crash start fail drop offline missing detect sync arrive send delay black",
}

// genericFaults are the faults said in general: "not working" (down,
// broken, unavailable) and "error" (failed). Either may be any fault of
// its kind told less precisely, so against one ("Scan to folder fails" /
// "Scan in Ordner funktioniert nicht", "Outlook not working" / "Outlook
// crashes") it counts as 0.55 of a shared word (DF.Similarity); two precise
// faults of one kind ("Fax not sending" / "Fax not receiving",
// "calendar not syncing" / "calendar crashes") share nothing.
var genericFault = conceptSet(genericFaults)

const genericFaults = "work fail"

// slowActions are the faults that are also actions: "does not load" is
// a failure, "takes ages to load" is slowness, and so is "takes forever
// to connect" beside "won't connect" (see kindsOf).
const slowActions = "start send sync arrive save work"

var slowAction = conceptSet(slowActions)

// conceptSet is the stems of the lexicon's concepts named in names.
func conceptSet(names string) map[string]bool {
	out := map[string]bool{}
	for _, c := range strings.Fields(names) {
		out[synonyms[c]] = true
	}
	return out
}

// slowness is the bit of the slowness kind in faultKinds.
var slowness = faultKinds[synonyms["slow"]]

// faultKinds maps a fault concept's stem to the kinds it is of, one bit
// a kind.
var faultKinds = func() map[string]uint8 {
	out := map[string]uint8{}
	bit := uint8(1)
	for _, kind := range faultKindNames {
		for _, c := range strings.Fields(faultFamilies[kind]) {
			out[synonyms[c]] |= bit
		}
		bit <<= 1
	}
	return out
}()
