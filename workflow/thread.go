package workflow

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"github.com/helpdeskd/helpdeskd/mailparse"
	"regexp"
	"strconv"
	"strings"
)

// Keys names incidents PREFIX-N and recognises them in subjects and in
// our own Message-IDs.
type Keys struct {
	Prefix string // "HD"
	Domain string // domain of our Message-IDs
	tagRe  *regexp.Regexp
	idRe   *regexp.Regexp
}

// NewKeys prepares the patterns for a key prefix.
func NewKeys(prefix, domain string) *Keys {
	p := regexp.QuoteMeta(prefix)
	return &Keys{
		Prefix: prefix,
		Domain: strings.ToLower(domain),
		// [HD-42], also with inner spaces or lower case as some clients
		// and people retype it.
		tagRe: regexp.MustCompile(`(?i)\[\s*` + p + `\s*-\s*(\d{1,12})\s*\]`),
		// <hd-42.RANDOM@domain>, or the thread root <prb-7@domain>
		// that every mail about a problem refers to.
		idRe: regexp.MustCompile(`(?i)^` + p + `-(\d{1,12})(?:\.[0-9a-z]+)?@(.+)$`),
	}
}

// Key formats incident number n.
func (k *Keys) Key(n int64) string { return fmt.Sprintf("%s-%d", k.Prefix, n) }

// TagsIn returns the incident keys tagged in a subject, first first.
func (k *Keys) TagsIn(subject string) []string {
	var out []string
	for _, m := range k.tagRe.FindAllStringSubmatch(subject, 5) {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil && n > 0 {
			out = append(out, k.Key(n))
		}
	}
	return out
}

// KeyOfMessageID returns the incident key encoded in one of our own
// Message-IDs, or "" when id is not ours.
func (k *Keys) KeyOfMessageID(id string) string {
	m := k.idRe.FindStringSubmatch(id)
	if m == nil || !strings.EqualFold(m[2], k.Domain) {
		return ""
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 {
		return ""
	}
	return k.Key(n)
}

// NewMessageID makes a Message-ID (without brackets) for a mail about an
// incident: <hd-42.1f2e3d4c5b6a@domain>.
func (k *Keys) NewMessageID(key string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return strings.ToLower(key) + "." + hex.EncodeToString(b[:]) + "@" + k.Domain
}

// ThreadRoot is the Message-ID (without brackets) that every mail about
// key refers to in In-Reply-To and References, so that mail clients show
// them as one thread and replies carry it back: <prb-7@domain>. No mail
// has it as its own Message-ID.
func (k *Keys) ThreadRoot(key string) string {
	return strings.ToLower(key) + "@" + k.Domain
}

// tagsAt returns the keys tagged in a subject with their positions.
func (k *Keys) tagsAt(subject string) (keys []string, at []int) {
	for _, m := range k.tagRe.FindAllStringSubmatchIndex(subject, 5) {
		n, err := strconv.ParseInt(subject[m[2]:m[3]], 10, 64)
		if err == nil && n > 0 {
			keys, at = append(keys, k.Key(n)), append(at, m[0])
		}
	}
	return keys, at
}

// Tag is the subject tag of a key: [HD-42].
func Tag(key string) string { return "[" + key + "]" }

// ThreadCandidates lists the ids a reply refers to, the most specific
// first: In-Reply-To, then References from the newest to the oldest.
func ThreadCandidates(inReplyTo, references []string) []string {
	out := make([]string, 0, len(inReplyTo)+len(references))
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range inReplyTo {
		add(id)
	}
	for i := len(references) - 1; i >= 0; i-- {
		add(references[i])
	}
	return out
}

// ConversationID is Outlook's conversation id: the first 22 bytes of a
// Thread-Index header (a reserved byte, a time and a GUID; each reply
// appends 5 bytes), in hex; "" when the header is missing or too short.
func ConversationID(threadIndex string) string {
	s := strings.Join(strings.Fields(threadIndex), "")
	if s == "" {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil || len(b) < 22 {
		return ""
	}
	return hex.EncodeToString(b[:22])
}

// candidates are the Message-IDs a message refers to, most relevant
// first: for a bounce, the Message-ID of the mail that bounced (quoted in
// the report) comes before In-Reply-To and References.
func candidates(m *mailparse.Message) []string {
	c := ThreadCandidates(m.InReplyTo, m.References)
	if m.Bounce != nil && m.Bounce.OriginalMessageID != "" {
		c = append([]string{m.Bounce.OriginalMessageID}, c...)
	}
	return c
}

// TaggedSubject puts the incident tag in front of a subject unless it is
// there already.
func TaggedSubject(key, subject string) string {
	if strings.Contains(strings.ToUpper(subject), strings.ToUpper(Tag(key))) {
		return subject
	}
	if subject == "" {
		return Tag(key)
	}
	return Tag(key) + " " + subject
}
