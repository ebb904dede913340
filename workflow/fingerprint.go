package workflow

import (
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/helpdeskd/helpdeskd/mailparse"
	"golang.org/x/text/unicode/norm"
)

// Repeat detection, first part: what "the same issue" means. A
// fingerprint is the sorted set of the words that say what is wrong with
// what: the subject without reply prefixes, tags and banners, in lower
// case, without stop words, with numbers, ids, dates, addresses and host
// names masked, lightly stemmed, and with common IT words of several
// languages mapped to one English word. When the subject says little
// ("help", "IT issue", empty) the first line of the new text is added.
//
// Two fingerprints are the same issue when their similarity
// (DF.Similarity: the cosine of their TF-IDF vectors, typos forgiven, a
// general fault 0.55 of the same word as a precise one of its kind)
// reaches [problems] similarity, unless a rule keeps them apart whatever
// their words: different places (floors, drive letters, addresses),
// faults of no common kind (see faultFamilies), or a fingerprint of one
// word; two different precise faults ("not sending" / "not receiving")
// are no nearer than their words alone say, whatever their weights.

// Fingerprint is the canonical word set of an incident's issue.
type Fingerprint struct {
	Tokens []string // sorted, unique
}

// String is the fingerprint as stored: the tokens joined by spaces.
func (f Fingerprint) String() string { return strings.Join(f.Tokens, " ") }

var (
	emailRe = regexp.MustCompile(`[\w.+-]+@[\w-]+(?:\.[\w-]+)+`)
	hostRe  = regexp.MustCompile(`(?i)\b[a-z][a-z0-9-]*(?:\.[a-z0-9-]+){2,}\b`)
	dateRe  = regexp.MustCompile(`\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b`)
	ipRe    = regexp.MustCompile(`\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b`)
	tagRe   = regexp.MustCompile(`\[[^\]]{1,40}\]`)
)

// stopWords are words that never say what is wrong (English, German,
// French, Spanish), plus the usual filler of helpdesk subjects.
var stopWords = wordSet(`a an the and or but if of to in on at by for from with without into onto over under
is are was were be been being am do does did doing done has have had having will would can could should may might must
i me my we our you your he she it its they them their this that these those there here what which who whom whose when where why how
not no nor so too very just also again still even only any some all each every both few more most other such than then once now
please pls plz urgent asap help helpdesk issue issues problem problems question request hi hello hey dear thanks thank regards
keeps keep kept getting get gets got won wont cant cannot doesnt dont isnt arent since today yesterday tomorrow morning afternoon
need needs needed says said after about while out possible lots lot stays stay microsoft nothing anything something
der die das ein eine einen dem den des und oder aber mit ohne bei von zu im ist sind war nicht kein keine auch noch bitte hilfe
seit heute wieder immer mein meine sich es wird werden kann ab beim mehr
auf aus für fur vom nach sehr am an im ins zum zur bis wie was wo warum ich mir mich wir uns ihr sie dass weil
brauche braucht benötigt benötige bekomme bekommt lässt ständig dauernd plötzlich neu neue neuer neues bzw
asking constant constantly repeatedly ages forever extremely super really already anymore whenever every happen happens happening
whole several everyone anyone someone colleague colleagues stopped started suddenly
möglich moglich unmöglich bleibt bleiben ganz ganze ganzes ganzen betrifft betroffen kollege kollegen kollegin mehrere schon mal kurz gerade leider dringend
wichtig sofort ewig dauern dauert uhr tag tage tagen anderem anderen jetzt trotz frage fragen zusammen hallo guten kleine kleines quick
le la les un une des du de et ou mais avec sans dans sur pour par est sont pas ne plus encore aide svp merci bonjour
ce cette depuis très tres matin soir vers pendant plusieurs heures toujours rien
el los las uno una y o pero con sin en por para es no mas ayuda hola gracias
um anfrage danke betreff anbei siehe je demande see subject attached
take takes taking took up come comes coming never nie jamais nunca accidentally versehentlich
one two three four five six seven eight nine ten eins zwei drei vier fünf sechs sieben acht neun zehn
company firma unternehmen myself yourself itself himself herself ourselves themselves ms
mins hr hrs minute minutes minuten seconds sekunden hour hours stunde stunden
können konnte könnte muss se tout toute toutes tous
monday tuesday wednesday thursday friday saturday sunday montag dienstag mittwoch donnerstag freitag samstag sonntag`)

func wordSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(s) {
		out[w] = true
	}
	return out
}

// NewFingerprint makes the fingerprint of an incident from its subject
// and the first line of its new text; ignore lists more words to drop
// ([problems] ignore_words).
func NewFingerprint(subject, firstLine string, ignore []string) Fingerprint {
	ign := map[string]bool{}
	for _, w := range ignore {
		ign[strings.ToLower(w)] = true
	}
	toks := canonical(mailparse.NormalizeSubject(subject), ign)
	if len(toks) < 2 {
		toks = append(toks, canonical(firstLine, ign)...)
	}
	return Fingerprint{Tokens: sortedSet(toks)}
}

// sortedSet sorts ws and drops repeats, in place.
func sortedSet(ws []string) []string {
	sort.Strings(ws)
	out := ws[:0]
	for i, t := range ws {
		if i == 0 || t != ws[i-1] {
			out = append(out, t)
		}
	}
	return out
}

// requestLine is the line of a mail's new text a fingerprint takes when
// the subject says too little: the first one that is not a salutation
// ("Hallo zusammen,", "Hi team,", "Dear IT", "Guten Morgen!"), which
// would make every greeting the same issue.
func requestLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || salutationRe.MatchString(l) || pleasantryRe.MatchString(l) {
			continue
		}
		if deviceSignatureRe.MatchString(l) {
			// "Sent from my iPhone" under an empty mail says nothing
			// of the issue, and would make every such mail one.
			return ""
		}
		return l
	}
	return ""
}

// pleasantryRe matches a line of courtesy before the request ("I hope
// this email finds you well.", "Hope you are well!", "Ich hoffe, es geht
// Ihnen gut."): every such mail would otherwise be one issue.
var pleasantryRe = regexp.MustCompile(`(?i)^(?:i\s+)?hope\s+(?:this|you|all|your|everyone)\b|^ich\s+hoffe,?\s+(?:es|ihnen|dir|du|sie)\b|^j'espère\s+que\s+(?:vous|tu)\b`)

// deviceSignatureRe matches the line a mail app adds below what was
// written ("Sent from my iPhone", "Von meinem iPhone gesendet", "Get
// Outlook for Android").
var deviceSignatureRe = regexp.MustCompile(`(?i)^(?:sent (?:from|with|using|via) |von meinem |envoyé (?:de|depuis) (?:mon )?|enviado (?:desde|do|de) |inviato da |verzonden (?:vanaf|met) |get outlook for |gesendet (?:von|mit) |diese nachricht wurde von meinem )`)

// salutationRe matches a line that only greets: a greeting and up to
// four more words ending in a comma, "!" or ":" ("Dear IT team,",
// "Sehr geehrte Damen und Herren,"), or up to two without ("Hi team").
// "Hello I need help" is a request.
var salutationRe = func() *regexp.Regexp {
	greet := `(?:hi|hello|hey|hallo|moin|servus|grüezi|gruezi|bonjour|salut|hola|dear|liebe[rs]?|sehr geehrte[rs]?|good (?:morning|afternoon|evening)|guten (?:morgen|tag|abend)|bonsoir|buenos d[ií]as)`
	word := `[ ]+[\p{L}\p{M}.'-]+`
	return regexp.MustCompile(`(?i)^` + greet + `(?:` + word + `){0,4}[ ]*[,!:]$|^(?i)` + greet + `(?:` + word + `){0,2}[ ]*\.?$`)
}()

func canonical(s string, ignore map[string]bool) []string {
	if len(s) > maxText {
		s = strings.ToValidUTF8(s[:maxText], "")
	}
	// One form for one word: composed accents ("Dru\u0308cker" is
	// "Drücker"), fullwidth letters as plain ones (NFKC), and no
	// invisible format characters (zero-width spaces and joiners, bidi
	// marks) inside words.
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, norm.NFKC.String(s))
	s = strings.ToLower(s)
	s = tagRe.ReplaceAllString(s, " ")
	s = emailRe.ReplaceAllString(s, " ")
	// An IPv4 address names one machine, as a host name does, and is
	// kept whole ("ip:192.168.1.10"); its digits would otherwise go as
	// a number (or a date).
	var toks []string
	s = ipRe.ReplaceAllStringFunc(s, func(m string) string {
		toks = append(toks, addressPlace+m)
		return " "
	})
	s = dateRe.ReplaceAllString(s, " ")
	// A host name stands for its first label without digits
	// ("fileserver01.corp.example.com" → "fileserver").
	s = hostRe.ReplaceAllStringFunc(s, func(h string) string { return strings.SplitN(h, ".", 2)[0] })
	for _, p := range phrases {
		s = p.re.ReplaceAllString(s, p.word)
	}
	// A floor keeps its number: the printer on the 2nd floor is not the
	// one on the 3rd.
	s = floorRe.ReplaceAllStringFunc(s, func(m string) string {
		toks = append(toks, floorToken(floorRe.FindStringSubmatch(m)))
		return " "
	})
	// So does a drive letter: share S: missing is not share T: missing.
	s = driveRe.ReplaceAllStringFunc(s, func(m string) string {
		toks = append(toks, drivePlace+driveRe.FindStringSubmatch(m)[1])
		return " "
	})
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > maxWords {
		words = words[:maxWords]
	}
	de := isGerman(words)
	for _, w := range words {
		// A word the lexicon holds with its digits ("2fa") is looked up
		// as written. Otherwise numbers and ids are masked: the letters
		// of "srv01" stay, a bare number goes, and so does a number's
		// suffix ("3rd", "2pm", "10min", "5h").
		if strings.ContainsFunc(w, unicode.IsDigit) {
			if c, ok := synonyms[w]; ok && !ignore[w] && !ignore[c] {
				toks = append(toks, c)
				continue
			}
			if numberSuffix(w) {
				continue
			}
		}
		w = strings.TrimFunc(strings.Map(func(r rune) rune {
			if unicode.IsDigit(r) {
				return -1
			}
			return r
		}, w), func(r rune) bool { return !unicode.IsLetter(r) })
		if len([]rune(w)) < 2 || stopWords[w] || ignore[w] {
			continue
		}
		var parts []string
		if c, ok := lookup(w, de); ok {
			parts = []string{c}
		} else if cs := decompound(w, de); cs != nil {
			parts = cs
		} else {
			parts = []string{stemWord(w, de)}
		}
		for _, p := range parts {
			if !stopWords[p] && !ignore[p] && len([]rune(p)) >= 2 {
				toks = append(toks, p)
			}
		}
	}
	return toks
}

// numberSuffix reports whether w is a number with an ordinal's, a
// time's or a unit's letters after it ("3rd", "2pm", "10min", "500mb",
// "64bit"), which say how much or when, not what; a product named with
// digits first ("3cx", "7zip") is not one.
func numberSuffix(w string) bool {
	i := strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) })
	return i > 0 && numberSuffixes[w[i:]]
}

var numberSuffixes = wordSet(`st nd rd th te ter er am pm h hr hrs min mins s sec secs ms x k kb mb gb tb bit mbit gbit px hz mhz ghz`)

// maxWords bounds the words of a subject (or first line) a fingerprint
// is made of: a subject says what is wrong in its first words, and a
// megabyte of subject costs no more than a line.
const maxWords = 64

// maxText bounds, in bytes, the text the words are looked for in.
const maxText = 4096

// phrases are the words written apart that say one thing, made one
// word before the words are split: "sign in", "Wi-Fi" (not "wi" and a
// stray "fi"), "pop up" and "set up" (so that "up" can go as the filler
// it is in "keeps coming up"), "out of office" and "automatic reply";
// "takes forever", "takes a while", "needs 5 minutes", "dauert ewig" are
// slowness (their words are filler alone); "all the time", "every time"
// are nothing.
var phrases = []struct {
	re   *regexp.Regexp
	word string
}{
	{regexp.MustCompile(`\b(?:sign(?:ing|ed)?|log(?:ging|ged)?)[ -]?(?:in|on|into|onto)\b`), " signin "},
	{regexp.MustCompile(`\bwi[ -]fi\b`), "wifi"},
	{regexp.MustCompile(`\bpop(?:s|ping|ped)?[ -]ups?\b`), " popup "},
	{regexp.MustCompile(`\bset(?:ting)?[ -]up\b`), " setup "},
	{regexp.MustCompile(`\b(?:tak(?:e|es|ing)|took|need(?:s|ed)?|brauch(?:t|en)|dauer(?:t|n))(?:\s+(?:a|an|about|over|almost|more|than|half|several|many|few|some|so|too|very|etwa|über|fast|mehrere|sehr|zu|\d+))*\s+(?:forever|ages|long|while|secs?|seconds?|mins?|minutes?|hrs?|hours?|sek|sekunden|minuten|std|stunden|ewig|ewigkeiten|lange?|\d+\s*(?:s|secs?|mins?|h|hrs?))\b`), " slow "},
	{regexp.MustCompile(`\b(?:all|every|each)\s+(?:the\s+)?time\b|\bthe\s+whole\s+time\b`), " "},
	{regexp.MustCompile(`\bout[ -]of[ -](?:the[ -])?office\b|\bauto(?:matic)?[ -]?repl(?:y|ies)\b`), " outofoffice "},
}

// drivePlace and addressPlace prefix a drive's letter and a machine's
// IPv4 address in a fingerprint ("drive:s", "ip:192.168.1.10"); no word
// makes a colon.
const (
	drivePlace   = "drive:"
	addressPlace = "ip:"
)

var (
	// "S:", "S:\\Finance", "Laufwerk E:" (a single letter and a colon,
	// not part of a word or a time).
	driveRe = regexp.MustCompile(`(?:^|[\s("'])([a-z]):(?:[\\/\s),.;!?"']|$)`)
	// "3rd floor", "third floor", "floor 3", "3. OG", "3. Stock",
	// "Etage 3", "2OG", "OG2", "2nd-floor", "3rd flr", "2e étage", "EG".
	floorRe = regexp.MustCompile(`(?i)\b(?:(\d{1,2})(?:st|nd|rd|th|e|er|ème|eme|\.)?[\s-]*(?:floor|flr|fl|og|stock|etage|étage|obergeschoss)|(ground|first|second|third|fourth|fifth|erste[nmr]?|zweite[nmr]?|dritte[nmr]?|vierte[nmr]?)[\s-]+(?:floor|flr|stock|etage|og)|(?:floor|flr|etage|level|og)[\s-]*(\d{1,2})|(eg|erdgeschoss|rdc))\b`)
)

var ordinals = map[string]string{"ground": "0", "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5",
	"erste": "1", "zweite": "2", "dritte": "3", "vierte": "4", "eg": "0", "erdgeschoss": "0", "rdc": "0"}

// floorToken is "floorN" for a match of floorRe.
func floorToken(m []string) string {
	for _, g := range m[1:] {
		if g == "" {
			continue
		}
		if n, ok := ordinals[strings.TrimRight(g, "nmr")]; ok {
			return "floor" + n
		}
		if n, ok := ordinals[g]; ok {
			return "floor" + n
		}
		if n := strings.TrimLeft(g, "0"); n != "" {
			return "floor" + n
		}
		return "floor0"
	}
	return "floor"
}

// Similarity of two fingerprints, 0..1, every word weighed alike (see
// DF.Similarity).
func Similarity(a, b Fingerprint) float64 {
	return (*DF)(nil).Similarity(a, b)
}

// common counts the strings two sorted, unique slices share.
func common(a, b []string) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return n
}

// jaccard of two sorted, unique slices.
func jaccard(a, b []string) float64 {
	both := common(a, b)
	if all := len(a) + len(b) - both; all > 0 {
		return float64(both) / float64(all)
	}
	return 0
}

// trigrams are the character trigrams of each word padded with spaces,
// so that a word's start and end count; sorted and unique.
func trigrams(tokens []string) []string {
	var out []string
	for _, t := range tokens {
		r := []rune(" " + t + " ")
		for i := 0; i+3 <= len(r); i++ {
			out = append(out, string(r[i:i+3]))
		}
	}
	sort.Strings(out)
	uniq := out[:0]
	for i, x := range out {
		if i == 0 || x != out[i-1] {
			uniq = append(uniq, x)
		}
	}
	return uniq
}

// DF is the document frequency of fingerprint words in the helpdesk's own
// history: how many of N incidents carry each word (the incident_tokens
// index counted, see store.TokenDF). A word most incidents carry
// ("outlook" in a Microsoft shop) says little about which fault it is; a
// rare one ("jam", "expired") says much. The zero DF (or nil) weighs
// every word alike.
type DF struct {
	N     int            // incidents counted
	Count map[string]int // word → incidents carrying it
	more  map[string]int // counted since Count was made (read only)
	memo  map[string]float64
}

// IDF is the weight of a word, its inverse document frequency
// ln(1 + (N+1)/(df+1)) (about ln 2 for a word every incident has, growing
// with its rarity) raised to N/(N+100), so that a small history weighs
// words nearly alike; 1 for every word when d is nil or empty.
//
// A DF is not safe for concurrent use (it remembers the weights it
// computed); the engine gives each decision a snapshot of its own.
func (d *DF) IDF(word string) float64 {
	if d == nil || d.N == 0 {
		return 1
	}
	if w, ok := d.memo[word]; ok {
		return w
	}
	if d.memo == nil {
		d.memo = map[string]float64{}
	}
	w := d.idf(word)
	d.memo[word] = w
	return w
}

func (d *DF) idf(word string) float64 {
	idf := math.Log(1 + float64(d.N+1)/float64(d.Count[word]+d.more[word]+1))
	// A young helpdesk's few incidents say little about which words are
	// rare: the weights start out alike and take on the counts as the
	// history grows (half-way at dfPrior incidents).
	return math.Pow(idf, float64(d.N)/float64(d.N+dfPrior))
}

// dfPrior is the history, in incidents, at which IDF weights count half.
const dfPrior = 100

// Add counts one more incident carrying the words of f.
func (d *DF) Add(f Fingerprint) {
	if d.Count == nil {
		d.Count = map[string]int{}
	}
	d.N++
	for _, t := range f.Tokens {
		d.Count[t]++
	}
	clear(d.memo)
}

// Similarity of two fingerprints, 0..1: the cosine of their TF-IDF
// vectors (each word once, weighted by its IDF squared in the dot
// product, as in Salton's vector model), where a word of one that is not
// in the other but differs from one of its words only by a typo or an
// inflection the stemmer missed (character trigram overlap ≥ 0.5, both
// five letters or more) counts as shared at 0.9 of its weight, and a
// general fault ("not working", "error") against a fault of its kind in
// the other ("crashes") at 0.55 of it; when both name precise faults and
// none in common, the similarity is at most the unweighted one. Subject
// words only are compared unless the subject says too little (see
// NewFingerprint).
func (d *DF) Similarity(a, b Fingerprint) float64 {
	if len(a.Tokens) < minWords || len(b.Tokens) < minWords || elsewhere(a, b) || otherKind(a, b) {
		return 0
	}
	wa, wb := d.weights(a), d.weights(b)
	var na, nb float64
	for _, w := range wa {
		na += w * w
	}
	for _, w := range wb {
		nb += w * w
	}
	dot := 0.0
	j := 0
	var onlyA []int
	usedB := make([]bool, len(b.Tokens))
	for i, t := range a.Tokens {
		for j < len(b.Tokens) && b.Tokens[j] < t {
			j++
		}
		if j < len(b.Tokens) && b.Tokens[j] == t {
			dot += wa[i] * wb[j]
			usedB[j] = true
			continue
		}
		onlyA = append(onlyA, i)
	}
	for k, i := range onlyA {
		ta := word(a.Tokens[i])
		if len([]rune(ta)) < 5 || isPlace(ta) {
			continue
		}
		best, bj := 0.0, -1
		for j, tb := range b.Tokens {
			if n := len([]rune(word(tb))); usedB[j] || n < 5 || n > 2*len([]rune(ta)) || 2*n < len([]rune(ta)) {
				continue // trigram overlap ≥ 0.5 needs words of like length
			}
			if s := jaccard(wordTrigrams(ta), wordTrigrams(word(tb))); s > best {
				best, bj = s, j
			}
		}
		if bj >= 0 && best >= 0.5 {
			usedB[bj], onlyA[k] = true, -1 // a's word is taken
			dot += 0.9 * min(wa[i], wb[bj]) * min(wa[i], wb[bj])
		}
	}
	// A fault said in general ("not working", "error") and a fault of
	// its kind in the other ("does not send", "crashes") are a little
	// more than half the same word (sameKindFault): perhaps the same
	// trouble, told less precisely. Two precise faults ("not sending" /
	// "not receiving") are not.
	for _, i := range onlyA {
		if i < 0 {
			continue
		}
		ka := faultKinds[a.Tokens[i]]
		if ka == 0 {
			continue
		}
		for j, tb := range b.Tokens {
			if !usedB[j] && faultKinds[tb]&ka != 0 && (genericFault[a.Tokens[i]] || genericFault[tb]) {
				usedB[j] = true
				dot += sameKindFault * min(wa[i], wb[j]) * min(wa[i], wb[j])
				break
			}
		}
	}
	sim := min(1, dot/math.Sqrt(na*nb))
	if d != nil && d.N > 0 && otherPrecise(a, b) {
		// Two precise faults, none in common: a rare shared word ("fax"
		// in a history of thousands) must not carry the pair past what
		// their words alone say ("Fax not sending" / "Fax not
		// receiving" 0.5, not 0.79).
		sim = min(sim, (*DF)(nil).Similarity(a, b))
	}
	return sim
}

// sameKindFault is the share of its weight a general fault word counts
// for against another fault of its kind (see genericFaults): above a
// half, so that two reports of two words ("Outlook not working" /
// "Outlook crashes") reach the default 0.75 with equal weights (0.775)
// rather than fall a rounding short of it; 0.6 cost OpenOffice a wrong
// flag.
const sameKindFault = 0.55

func word(t string) string { return t }

// isPlace reports whether a fingerprint word is a place: a floor, a
// drive letter or a machine's address.
func isPlace(t string) bool { return placeKind(t) != "" }

// placeKind is "floor", "drive" or "address" (an IPv4 address) for a
// place word, else "".
func placeKind(t string) string {
	switch {
	case strings.HasPrefix(t, drivePlace) && len(t) > len(drivePlace):
		return "drive"
	case strings.HasPrefix(t, addressPlace):
		return "address"
	case strings.HasPrefix(t, "floor") && len(t) > len("floor"):
		return "floor"
	}
	return ""
}

// placeKinds are the kinds of place, each with its plural for Apart.
var placeKinds = []struct{ kind, plural string }{{"floor", "floors"}, {"drive", "drives"}, {"address", "addresses"}}

// elsewhere reports whether two fingerprints name places of one kind
// and no place of that kind of one is a place of the other: the printer
// on the 2nd floor is not the printer on the 3rd, drive S: is not drive
// T:, 192.168.1.10 is not 192.168.1.11, however alike the words.
// elsewhereKind names the kind, "" when none. Every comparison asks, so
// a fingerprint without places (most) costs one pass and no allocation.
func elsewhere(a, b Fingerprint) bool { return elsewhereKind(a, b) != "" }

func elsewhereKind(a, b Fingerprint) string {
	pa := places(a)
	if pa == nil {
		return ""
	}
	pb := places(b)
	for _, k := range placeKinds {
		if len(pa[k.kind]) > 0 && len(pb[k.kind]) > 0 && common(pa[k.kind], pb[k.kind]) == 0 {
			return k.kind
		}
	}
	return ""
}

// places are a fingerprint's places by kind, each list sorted; nil when
// it names none.
func places(f Fingerprint) map[string][]string {
	var out map[string][]string
	for _, t := range f.Tokens {
		if kind := placeKind(t); kind != "" {
			if out == nil {
				out = map[string][]string{}
			}
			out[kind] = append(out[kind], t)
		}
	}
	return out
}

// otherKind reports whether two fingerprints each name what is wrong and
// share no kind of fault.
func otherKind(a, b Fingerprint) bool {
	ka, kb := kindsOf(a), kindsOf(b)
	return ka != 0 && kb != 0 && ka&kb == 0
}

// otherPrecise reports whether two fingerprints each name a precise
// fault (not only "not working" or "error"), neither a general one, and
// no precise fault in common ("Fax not sending" / "Fax not receiving";
// but also "disconnected" / "offline", told otherwise): their similarity
// is then no more than their words' alone, unweighted (DF.Similarity).
func otherPrecise(a, b Fingerprint) bool {
	// Asked on every comparison: no allocation.
	na, ga := precise(a)
	nb, gb := precise(b)
	if ga || gb || na == 0 || nb == 0 {
		return false
	}
	for _, t := range a.Tokens {
		if faultKinds[t] != 0 {
			if i := sort.SearchStrings(b.Tokens, t); i < len(b.Tokens) && b.Tokens[i] == t {
				return false
			}
		}
	}
	return true
}

// precise counts a fingerprint's fault words other than the general
// ones; general reports whether it has one.
func precise(f Fingerprint) (n int, general bool) {
	for _, t := range f.Tokens {
		switch {
		case faultKinds[t] == 0:
		case genericFault[t]:
			general = true
		default:
			n++
		}
	}
	return n, general
}

// kindsOf is the kinds of fault a fingerprint names, one bit a kind.
// Beside slowness, an action ("SAP takes forever to load", "mail slow
// to arrive") is what is slow, not a failure of its own.
func kindsOf(f Fingerprint) uint8 {
	var k, acts uint8
	for _, t := range f.Tokens {
		if slowAction[t] {
			acts |= faultKinds[t]
		} else {
			k |= faultKinds[t]
		}
	}
	if k&slowness != 0 {
		return k
	}
	return k | acts
}

// faultKindNames are the kinds of faultKinds' bits, in order.
var faultKindNames = []string{"slowness", "capacity", "credentials", "symptom", "availability"}

// Apart says why two fingerprints are not the same issue whatever their
// words have in common ("different floors: floor2 / floor3", "different
// kinds of fault: slowness / credentials"), or "" when no rule keeps
// them apart and their similarity decides.
func Apart(a, b Fingerprint) string {
	kinds := func(k uint8) string {
		var out []string
		for i, n := range faultKindNames {
			if k&(1<<i) != 0 {
				out = append(out, n)
			}
		}
		return strings.Join(out, "+")
	}
	switch kind := elsewhereKind(a, b); {
	case kind != "":
		plural := kind
		for _, k := range placeKinds {
			if k.kind == kind {
				plural = k.plural
			}
		}
		return "different " + plural + ": " + strings.Join(places(a)[kind], "+") + " / " + strings.Join(places(b)[kind], "+")
	case otherKind(a, b):
		return "different kinds of fault: " + kinds(kindsOf(a)) + " / " + kinds(kindsOf(b))
	}
	return ""
}

// wordTri caches the trigrams of single words (the vocabulary of a
// helpdesk is small; the cache stops growing at maxWordTri words).
var wordTri sync.Map

const maxWordTri = 200_000

var wordTriN atomic.Int64

func wordTrigrams(w string) []string {
	if t, ok := wordTri.Load(w); ok {
		return t.([]string)
	}
	t := trigrams([]string{w})
	if wordTriN.Load() < maxWordTri {
		wordTriN.Add(1)
		wordTri.Store(w, t)
	}
	return t
}

func (d *DF) weights(f Fingerprint) []float64 {
	out := make([]float64, len(f.Tokens))
	for i, t := range f.Tokens {
		out[i] = d.IDF(t)
	}
	return out
}

// minWords is the fewest words a fingerprint compares with: one word
// ("Anfrage" once stop words go, "Rückruf", "Drucker", "VPN?") says what
// a mail is about, not what is wrong, and two people's one-word
// subjects are seldom one fault.
const minWords = 2
