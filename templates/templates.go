// Package templates holds every email helpdeskd sends, embedded in the
// binary and parsed once at start-up (Load), so a broken template stops the
// boot rather than the first acknowledgement.
//
// Each mail NAME has three files under mail/: NAME.subject.tmpl and
// NAME.txt.tmpl (text/template) and NAME.html.tmpl (html/template, which
// escapes everything that comes from an email: subjects, names, text).
// Rendered subjects are folded to one line, so no value taken from a
// message can inject a header.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"sort"
	"strings"
	texttemplate "text/template"
)

//go:embed mail/*.tmpl
var files embed.FS

// Rendered is one email's subject and bodies.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

type mailTemplates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// Set is every template, parsed.
type Set struct {
	mails map[string]mailTemplates
}

// Load parses every embedded template.
func Load() (*Set, error) {
	entries, err := fs.Glob(files, "mail/*.subject.tmpl")
	if err != nil {
		return nil, err
	}
	s := &Set{mails: map[string]mailTemplates{}}
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(e, "mail/"), ".subject.tmpl")
		var mt mailTemplates
		if mt.subject, err = texttemplate.ParseFS(files, e); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", name, err)
		}
		if mt.text, err = texttemplate.ParseFS(files, "mail/"+name+".txt.tmpl"); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", name, err)
		}
		if mt.html, err = htmltemplate.ParseFS(files, "mail/"+name+".html.tmpl"); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", name, err)
		}
		for _, t := range []*texttemplate.Template{mt.subject, mt.text} {
			t.Option("missingkey=error")
		}
		mt.html.Option("missingkey=error")
		s.mails[name] = mt
	}
	if len(s.mails) == 0 {
		return nil, fmt.Errorf("templates: none embedded")
	}
	return s, nil
}

// Names lists the mails that can be rendered.
func (s *Set) Names() []string {
	var out []string
	for n := range s.mails {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Render renders one mail with data.
func (s *Set) Render(name string, data any) (Rendered, error) {
	mt, ok := s.mails[name]
	if !ok {
		return Rendered{}, fmt.Errorf("templates: no mail named %q", name)
	}
	var subj, text, html bytes.Buffer
	if err := mt.subject.Execute(&subj, data); err != nil {
		return Rendered{}, fmt.Errorf("templates: %s subject: %w", name, err)
	}
	if err := mt.text.Execute(&text, data); err != nil {
		return Rendered{}, fmt.Errorf("templates: %s text: %w", name, err)
	}
	if err := mt.html.Execute(&html, data); err != nil {
		return Rendered{}, fmt.Errorf("templates: %s html: %w", name, err)
	}
	return Rendered{
		Subject: clipSubject(OneLine(subj.String())),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}

// MaxSubjectRunes bounds a rendered subject: a subject taken from mail
// can be any length, and a header line past 998 bytes (RFC 5322 §2.1.1)
// is refused by SMTP servers ("554 line too long").
const MaxSubjectRunes = 200

func clipSubject(s string) string {
	if r := []rune(s); len(r) > MaxSubjectRunes {
		return string(r[:MaxSubjectRunes-1]) + "…"
	}
	return s
}

// OneLine folds every run of white space, line breaks included, into one
// space: what goes into a header can never start a new header.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
