package mailparse

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Authentication-Results header fields (RFC 8601).
//
// The grammar (RFC 8601 §2.2) allows comments (nested, with quoted pairs)
// wherever CFWS is allowed, and quoted strings as values, so ";" and "="
// may appear inside a result without ending it: an envelope sender
// "a;dmarc=pass"@evil.example, or OpenDKIM's "(2048-bit key; unprotected)".
// ParseAuthResults reads the field with a small scanner that knows where
// comments and quoted strings begin and end, and fails closed per result:
// a result that does not follow the grammar is reported in Bad and never
// in Results, while the well-formed results of the same field are kept.

// AuthResults is one Authentication-Results field.
type AuthResults struct {
	// AuthservID is the authserv-id: the host (or name) of the server that
	// wrote the field, as written (quotes removed).
	AuthservID string
	// Version is the authres-version; 1 when absent.
	Version int
	// None is true for the "none" form: no method was applied.
	None bool
	// Results are the results that follow the grammar, in order.
	Results []AuthResult
	// Bad are the results that do not: never to be read as any outcome.
	Bad []BadAuthResult
}

// AuthResult is one resinfo: "method=result reason=... ptype.property=value ...".
type AuthResult struct {
	Method        string // lower case: "dkim", "spf", "dmarc", ...
	MethodVersion int    // 0 when not given ("dkim/1" gives 1)
	Value         string // the result, lower case: "pass", "fail", "none", ...
	Reason        string // the reason= value, quotes removed; "" when absent
	Props         []AuthProp
}

// AuthProp is one propspec, such as header.d=corp.example.
type AuthProp struct {
	Type  string // lower case ptype: "smtp", "header", "body" or "policy"
	Name  string // lower case property, such as "d", "from", "mailfrom"
	Value string // the value as written, quotes of a quoted string removed
}

// BadAuthResult is a result that does not follow the grammar.
type BadAuthResult struct {
	Method string // lower case; "" when not even the method could be read
	Text   string // the result's text, trimmed, at most 200 bytes
	Err    error
}

// Prop returns the value of the first property ptype.name (compared
// without regard to case), and whether there is one.
func (r AuthResult) Prop(ptype, name string) (string, bool) {
	for _, p := range r.Props {
		if strings.EqualFold(p.Type, ptype) && strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

// ErrAuthResults is wrapped by every error of ParseAuthResults and of
// BadAuthResult.Err.
var ErrAuthResults = errors.New("Authentication-Results")

// ptypes are the property types registered for RFC 8601 §2.3.
var ptypes = map[string]bool{"smtp": true, "header": true, "body": true, "policy": true}

// ParseAuthResults reads the value of one Authentication-Results field
// (everything after the colon; folding whitespace may be left in). It
// returns an error (wrapping ErrAuthResults, naming the byte offset) only
// when the authserv-id or the version cannot be read, or when neither
// "none" nor any result follows; a malformed result is put in Bad and the
// others are still read.
func ParseAuthResults(v string) (*AuthResults, error) {
	s := &arScanner{s: v}
	if err := s.cfws(); err != nil {
		return nil, err
	}
	if s.eof() {
		return nil, s.errf("no authserv-id")
	}
	id, err := s.value()
	if err != nil {
		return nil, s.errf("authserv-id: %v", err)
	}
	if id == "" {
		return nil, s.errf("no authserv-id")
	}
	ar := &AuthResults{AuthservID: id, Version: 1}
	sp := s.pos
	if err := s.cfws(); err != nil {
		return nil, err
	}
	if s.pos > sp && s.pos < len(s.s) && isDigit(s.s[s.pos]) {
		d := s.digits()
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 {
			return nil, s.errf("authres-version %q is not a number of 1 or more", d)
		}
		ar.Version = n
		if err := s.cfws(); err != nil {
			return nil, err
		}
	}
	if s.eof() {
		return nil, s.errf("no result and no \"none\" after the authserv-id %q", id)
	}
	if s.s[s.pos] != ';' {
		return nil, s.errf("want \";\" after the authserv-id %q, found %q", id, s.rest(20))
	}
	for !s.eof() {
		// s.s[s.pos] == ';'
		s.pos++
		start := s.pos
		r, err := s.resinfo()
		if errors.Is(err, errNoneResult) {
			if len(ar.Results) > 0 || len(ar.Bad) > 0 || !s.eof() {
				ar.Bad = append(ar.Bad, BadAuthResult{Method: "none", Text: clip(v[start:s.skipResult()]),
					Err: fmt.Errorf("%w: \"none\" must be the only result", ErrAuthResults)})
				continue
			}
			ar.None = true
			break
		}
		if err != nil {
			end := s.skipResult()
			ar.Bad = append(ar.Bad, BadAuthResult{Method: r.Method, Text: clip(v[start:end]), Err: err})
			continue
		}
		ar.Results = append(ar.Results, r)
	}
	if !ar.None && len(ar.Results) == 0 && len(ar.Bad) == 0 {
		return nil, s.errf("no result")
	}
	return ar, nil
}

var errNoneResult = errors.New("none")

func clip(t string) string {
	t = strings.TrimSpace(t)
	if len(t) > 200 {
		t = t[:200]
	}
	return t
}

type arScanner struct {
	s   string
	pos int
}

func (s *arScanner) eof() bool { return s.pos >= len(s.s) }

func (s *arScanner) rest(n int) string {
	r := s.s[s.pos:]
	if len(r) > n {
		r = r[:n]
	}
	return r
}

func (s *arScanner) errf(format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrAuthResults, s.pos, fmt.Sprintf(format, args...))
}

// cfws skips folding white space and comments (RFC 5322 §3.2.2), comments
// nested to any depth, with quoted pairs.
func (s *arScanner) cfws() error {
	for !s.eof() {
		switch c := s.s[s.pos]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			s.pos++
		case c == '(':
			start := s.pos
			depth := 0
			for ; ; s.pos++ {
				if s.eof() {
					s.pos = start
					return s.errf("comment not closed")
				}
				switch s.s[s.pos] {
				case '\\':
					s.pos++
				case '(':
					depth++
				case ')':
					depth--
				}
				if depth == 0 {
					s.pos++
					break
				}
			}
		default:
			return nil
		}
	}
	return nil
}

// tokenChar: RFC 2045 token characters (printable US-ASCII except
// tspecials), plus 8-bit bytes (RFC 8616 allows UTF-8 in A-R fields).
func tokenChar(c byte) bool {
	if c >= 0x80 {
		return true
	}
	if c <= ' ' || c == 0x7f {
		return false
	}
	return !strings.ContainsRune(`()<>@,;:\"/[]?=`, rune(c))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// keywordChar: letters, digits and "-" (RFC 5321 Ldh-str), and "_", which
// real servers use in method names ("x-ptr_check"-style extensions).
func keywordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '-' || c == '_'
}

func (s *arScanner) digits() string {
	st := s.pos
	for !s.eof() && isDigit(s.s[s.pos]) {
		s.pos++
	}
	return s.s[st:s.pos]
}

func (s *arScanner) keyword() string {
	st := s.pos
	for !s.eof() && keywordChar(s.s[s.pos]) {
		s.pos++
	}
	return s.s[st:s.pos]
}

// quoted reads a quoted-string at s.pos (which is '"') and returns its
// content with quoted pairs resolved.
func (s *arScanner) quoted() (string, error) {
	start := s.pos
	s.pos++
	var b strings.Builder
	for !s.eof() {
		c := s.s[s.pos]
		switch c {
		case '"':
			s.pos++
			return b.String(), nil
		case '\\':
			s.pos++
			if s.eof() {
				s.pos = start
				return "", errors.New("quoted string not closed")
			}
			b.WriteByte(s.s[s.pos])
		case '\r', '\n':
			// folding inside a quoted string
		default:
			b.WriteByte(c)
		}
		s.pos++
	}
	s.pos = start
	return "", errors.New("quoted string not closed")
}

// value reads a token or a quoted-string (RFC 2045 value).
func (s *arScanner) value() (string, error) {
	if s.eof() {
		return "", errors.New("missing value")
	}
	if s.s[s.pos] == '"' {
		return s.quoted()
	}
	st := s.pos
	for !s.eof() && tokenChar(s.s[s.pos]) {
		s.pos++
	}
	if s.pos == st {
		return "", fmt.Errorf("unexpected %q", s.rest(10))
	}
	return s.s[st:s.pos], nil
}

// pvalueChar: what a property value may hold outside quoted strings: a
// token, a domain or an addr-spec (RFC 8601 §2.2 pvalue). Real servers
// also write header.b values holding "/", "+" and "=" (base64), so every
// visible character but the delimiters of the grammar is accepted.
func pvalueChar(c byte) bool {
	if c >= 0x80 {
		return true
	}
	if c <= ' ' || c == 0x7f {
		return false
	}
	return c != '(' && c != ')' && c != ';' && c != '"' && c != '\\'
}

// pvalue reads a property value: a run of pvalue characters and quoted
// strings ("a;b"@evil.example is one value).
func (s *arScanner) pvalue() (string, error) {
	var b strings.Builder
	for !s.eof() {
		c := s.s[s.pos]
		switch {
		case c == '"':
			// Keep the quotes of a quoted local part: the value is an
			// address and must read as one.
			st := s.pos
			if _, err := s.quoted(); err != nil {
				return "", err
			}
			b.WriteString(s.s[st:s.pos])
		case pvalueChar(c):
			b.WriteByte(c)
			s.pos++
		default:
			return b.String(), nil
		}
	}
	return b.String(), nil
}

// resinfo reads one result after its ";". It returns errNoneResult for
// the "none" form. On an error the returned result holds the method when
// it was read.
func (s *arScanner) resinfo() (AuthResult, error) {
	var r AuthResult
	if err := s.cfws(); err != nil {
		return r, err
	}
	m := s.keyword()
	if m == "" {
		if s.eof() {
			return r, s.errf("empty result after \";\"")
		}
		return r, s.errf("want a method name, found %q", s.rest(20))
	}
	r.Method = strings.ToLower(m)
	if err := s.cfws(); err != nil {
		return r, err
	}
	if r.Method == "none" && (s.eof() || s.s[s.pos] == ';') {
		return r, errNoneResult
	}
	if !s.eof() && s.s[s.pos] == '/' {
		s.pos++
		if err := s.cfws(); err != nil {
			return r, err
		}
		d := s.digits()
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 {
			return r, s.errf("method %q: version %q is not a number of 1 or more", m, d)
		}
		r.MethodVersion = n
		if err := s.cfws(); err != nil {
			return r, err
		}
	}
	if s.eof() || s.s[s.pos] != '=' {
		return r, s.errf("method %q: want \"=\", found %q", m, s.rest(20))
	}
	s.pos++
	if err := s.cfws(); err != nil {
		return r, err
	}
	v := s.keyword()
	if v == "" {
		return r, s.errf("method %q: no result", m)
	}
	r.Value = strings.ToLower(v)
	for {
		sp := s.pos
		if err := s.cfws(); err != nil {
			return r, err
		}
		if s.eof() || s.s[s.pos] == ';' {
			return r, nil
		}
		if s.pos == sp {
			return r, s.errf("%s=%s: want white space before %q", m, v, s.rest(20))
		}
		if err := s.prop(&r); err != nil {
			return r, err
		}
	}
}

// prop reads "reason=value" or "ptype.property=pvalue".
func (s *arScanner) prop(r *AuthResult) error {
	k := s.keyword()
	if k == "" {
		return s.errf("%s=%s: want a property, found %q", r.Method, r.Value, s.rest(20))
	}
	lk := strings.ToLower(k)
	if err := s.cfws(); err != nil {
		return err
	}
	if lk == "reason" && !s.eof() && s.s[s.pos] == '=' {
		if len(r.Props) > 0 || r.Reason != "" {
			return s.errf("%s=%s: reason must come once, before the properties", r.Method, r.Value)
		}
		s.pos++
		if err := s.cfws(); err != nil {
			return err
		}
		v, err := s.value()
		if err != nil {
			return s.errf("%s=%s: reason: %v", r.Method, r.Value, err)
		}
		r.Reason = v
		return nil
	}
	if !ptypes[lk] {
		return s.errf("%s=%s: unknown property type %q (want smtp, header, body or policy)", r.Method, r.Value, k)
	}
	if s.eof() || s.s[s.pos] != '.' {
		return s.errf("%s=%s: want \".\" after %q", r.Method, r.Value, k)
	}
	s.pos++
	if err := s.cfws(); err != nil {
		return err
	}
	name := s.keyword()
	if name == "" {
		return s.errf("%s=%s: %s.: no property name", r.Method, r.Value, k)
	}
	if err := s.cfws(); err != nil {
		return err
	}
	if s.eof() || s.s[s.pos] != '=' {
		return s.errf("%s=%s: %s.%s: want \"=\"", r.Method, r.Value, k, name)
	}
	s.pos++
	if err := s.cfws(); err != nil {
		return err
	}
	v, err := s.pvalue()
	if err != nil {
		return s.errf("%s=%s: %s.%s: %v", r.Method, r.Value, k, name, err)
	}
	if v == "" {
		return s.errf("%s=%s: %s.%s: empty value", r.Method, r.Value, k, name)
	}
	r.Props = append(r.Props, AuthProp{Type: lk, Name: strings.ToLower(name), Value: v})
	return nil
}

// skipResult moves to the next ";" that is outside comments and quoted
// strings (or to the end) and returns that position. A comment or quoted
// string that is never closed runs to the end: nothing after it can be
// told apart from its content.
func (s *arScanner) skipResult() int {
	for !s.eof() {
		switch s.s[s.pos] {
		case ';':
			return s.pos
		case '(':
			if s.cfws() != nil {
				s.pos = len(s.s)
			}
		case '"':
			if _, err := s.quoted(); err != nil {
				s.pos = len(s.s)
			}
		default:
			s.pos++
		}
	}
	return s.pos
}
