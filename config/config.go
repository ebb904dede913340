// Package config loads and validates helpdeskd's TOML configuration.
//
// Decoding uses github.com/BurntSushi/toml; keys the program does not know
// are errors, because a misspelt key silently ignored is a setting that
// silently does not apply. Every validation error names the file, the line
// and the key ("helpdeskd.toml:14: [imap] port: must be 1-65535, got 0"),
// and callers exit with status 2 on them.
//
// Secrets can be given inline (password) or, better, as a file
// (password_file), which fits systemd's LoadCredential=. Secrets never
// appear in String() or in errors.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the whole configuration file.
type Config struct {
	Helpdesk Helpdesk `toml:"helpdesk"`
	Database Database `toml:"database"`
	IMAP     IMAP     `toml:"imap"`
	SMTP     SMTP     `toml:"smtp"`
	Intake   Intake   `toml:"intake"`
	Metrics  Metrics  `toml:"metrics"`

	Teams     []Team     `toml:"team"`
	Providers []Provider `toml:"provider"`
	Routes    []Route    `toml:"route"`
	Routing   Routing    `toml:"routing"`
	Commands  Commands   `toml:"commands"`
	Problems  Problems   `toml:"problems"`
	// SLA clocks and escalation.
	Calendars     []Calendar     `toml:"calendar"`
	SLAs          []SLA          `toml:"sla"`
	PriorityRules []PriorityRule `toml:"priority_rule"`
	Escalation    Escalation     `toml:"escalation"`
	// Major incidents and their reports.
	Major Major `toml:"major"`
	// Accountability summaries.
	Summaries []Summary `toml:"summary"`

	// Path is the file the configuration was read from.
	Path string `toml:"-"`
}

// Helpdesk describes the helpdesk itself.
type Helpdesk struct {
	Name      string `toml:"name"`
	Address   string `toml:"address"`
	KeyPrefix string `toml:"key_prefix"`
	Timezone  string `toml:"timezone"`
	// AutoReplyLimit caps automatic mails (acknowledgements) to one address
	// per hour; it stops two auto-responders from ping-ponging.
	AutoReplyLimit int `toml:"auto_reply_limit"`
	// DefaultPriority is given to new incidents.
	DefaultPriority string `toml:"default_priority"`
	// Domains are the organisation's own mail domains (lower case).
	// Only their senders may link a new incident to a problem by naming
	// it, and so learn its title and workaround. Default: the domain of
	// Address.
	Domains []string `toml:"domains"`
	// NewIncidentLimit caps the new incidents one sender may open per
	// hour; mail past it is held (kept whole, listed by "quarantine",
	// released by "quarantine reprocess"), so one flooding address
	// cannot make the helpdesk mail every team, provider and informed
	// person. 0 turns the limit off. Default 10.
	NewIncidentLimit int `toml:"new_incident_limit"`
	// NewIncidentLimitExempt are senders the limit does not apply to
	// (monitoring systems that send many alerts), lower case.
	NewIncidentLimitExempt []string `toml:"new_incident_limit_exempt"`

	Location *time.Location `toml:"-"`
}

// Database selects the store.
type Database struct {
	URL string `toml:"url"`
}

// IMAP is the mailbox helpdeskd reads.
type IMAP struct {
	Host            string   `toml:"host"`
	Port            int      `toml:"port"`
	Security        string   `toml:"security"`
	Username        string   `toml:"username"`
	Password        string   `toml:"password"`
	PasswordFile    string   `toml:"password_file"`
	Folder          string   `toml:"folder"`
	ProcessedFolder string   `toml:"processed_folder"`
	PollInterval    Duration `toml:"poll_interval"`
	Idle            bool     `toml:"idle"`
	Timeout         Duration `toml:"timeout"`
	BatchSize       int      `toml:"batch_size"`
	TLSCAFile       string   `toml:"tls_ca_file"`
}

// SMTP is the relay helpdeskd sends through.
type SMTP struct {
	Host         string   `toml:"host"`
	Port         int      `toml:"port"`
	Security     string   `toml:"security"`
	Username     string   `toml:"username"`
	Password     string   `toml:"password"`
	PasswordFile string   `toml:"password_file"`
	From         string   `toml:"from"`
	HELO         string   `toml:"helo"`
	Timeout      Duration `toml:"timeout"`
	TLSCAFile    string   `toml:"tls_ca_file"`
	// MaxAttempts is how many times one message is tried before it is
	// recorded as failed.
	MaxAttempts int `toml:"max_attempts"`
	// Connections is how many SMTP connections deliver at once.
	Connections int `toml:"connections"`
}

// Intake tunes how mail is committed.
type Intake struct {
	// BatchSize is how many messages share one database transaction.
	BatchSize int `toml:"batch_size"`
	// MaxMessageBytes: only this much of a larger message is read (the
	// raw bytes are kept whole); the excess is a defect on the message.
	MaxMessageBytes int64 `toml:"max_message_bytes"`
	// Parser limits; past one the message is still recorded, with a
	// defect.
	MaxHeaderBytes  int `toml:"max_header_bytes"`
	MaxHeaderFields int `toml:"max_header_fields"`
	MaxMIMEDepth    int `toml:"max_mime_depth"`
	MaxMIMEParts    int `toml:"max_mime_parts"`
	MaxTextBytes    int `toml:"max_text_bytes"`
	// ParseBudget is the parse time of one message after which the
	// remaining MIME parts, HTML conversion and quote stripping are
	// skipped (mailparse.Options.MaxParseTime).
	ParseBudget Duration `toml:"parse_budget"`
}

// Metrics is the Prometheus endpoint of the daemon.
type Metrics struct {
	Listen string `toml:"listen"`
}

// Duration is a time.Duration written as "60s", "5m", "1h30m".
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	// Days, which Go's durations lack: "30d", "1d12h".
	if i := strings.IndexByte(s, 'd'); i > 0 {
		if n, err := strconv.Atoi(s[:i]); err == nil && n >= 0 {
			if n > maxDays {
				return fmt.Errorf("%q is more than %d days", s, maxDays)
			}
			rest := time.Duration(0)
			if s[i+1:] != "" {
				r, err := time.ParseDuration(s[i+1:])
				if err != nil {
					return fmt.Errorf("not a duration (use 30s, 5m, 1h, 30d): %q", s)
				}
				rest = r
			}
			d.Duration = time.Duration(n)*24*time.Hour + rest
			return nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("not a duration (use 30s, 5m, 1h, 30d): %q", s)
	}
	d.Duration = v
	return nil
}

// maxDays bounds a duration in days: a century, far below the ~106,000
// days where time.Duration wraps round to a negative or small value.
const maxDays = 36500

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Error is one problem in the configuration file.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // "[imap] port"
	Msg  string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", loc, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
}

// Errors is every problem found; Load returns it so an administrator can
// fix them all at once.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// IsConfigError reports whether err is a problem of the configuration
// (exit status 2) rather than of the environment.
func IsConfigError(err error) bool {
	var e *Error
	var es Errors
	return errors.As(err, &e) || errors.As(err, &es)
}

// Load reads, defaults and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", err)}
	}
	return Parse(path, data)
}

// Parse is Load for bytes already read; path is used in messages.
func Parse(path string, data []byte) (*Config, error) {
	c := &Config{Path: path}
	md, err := toml.Decode(string(data), c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			key := ""
			if i := strings.LastIndexByte(pe.LastKey, '.'); i > 0 {
				key = "[" + pe.LastKey[:i] + "] " + pe.LastKey[i+1:]
			}
			return nil, &Error{File: path, Line: pe.Position.Line, Key: key, Msg: pe.Message}
		}
		return nil, &Error{File: path, Msg: err.Error()}
	}
	v := &validator{file: path, lines: newLineIndex(data)}
	for _, k := range md.Undecoded() {
		v.add([]string(k), "unknown key")
	}
	if !md.IsDefined("imap", "idle") {
		c.IMAP.Idle = true
	}
	if !md.IsDefined("commands", "border_received") {
		c.Commands.BorderReceived = 1
	}
	c.Problems.Enabled = md.IsDefined("problems")
	if !md.IsDefined("helpdesk", "new_incident_limit") {
		c.Helpdesk.NewIncidentLimit = 10
	}
	if !md.IsDefined("problems", "notify_requester") {
		c.Problems.NotifyRequester = true
	}
	// 0 means "default" only when the key is absent; written out, it is
	// a mistake to report, not to paper over.
	for _, sec := range []struct {
		name string
		port int
	}{{"imap", c.IMAP.Port}, {"smtp", c.SMTP.Port}} {
		if md.IsDefined(sec.name, "port") && sec.port == 0 {
			v.add(key(sec.name, "port"), "must be 1-65535, got 0")
		}
	}
	for _, z := range []struct {
		name, want string
		zero       bool
	}{
		{"window", "at least 1h", c.Problems.Window.Duration == 0},
		{"notify_every", "at least 1m", c.Problems.NotifyEvery.Duration == 0},
		{"threshold", "at least 2", c.Problems.Threshold == 0},
		{"similarity", "above 0 and at most 1", c.Problems.Similarity == 0},
	} {
		if z.zero && md.IsDefined("problems", z.name) {
			v.add(key("problems", z.name), "must be "+z.want+", got 0 (leave the key out for the default)")
		}
	}
	c.applyDefaults()
	c.validate(v)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return c, nil
}

// Defaults for the keys that have one.
const (
	DefaultDatabaseURL = "sqlite:/var/lib/helpdeskd/helpdeskd.db"
)

func (c *Config) applyDefaults() {
	h := &c.Helpdesk
	if h.Name == "" {
		h.Name = "IT Helpdesk"
	}
	if h.KeyPrefix == "" {
		h.KeyPrefix = "HD"
	}
	if h.Timezone == "" {
		h.Timezone = "UTC"
	}
	if h.AutoReplyLimit == 0 {
		h.AutoReplyLimit = 10
	}
	if h.DefaultPriority == "" {
		h.DefaultPriority = "P3"
	}
	if len(h.Domains) == 0 {
		if i := strings.LastIndexByte(h.Address, '@'); i >= 0 {
			h.Domains = []string{strings.ToLower(strings.TrimSpace(h.Address[i+1:]))}
		}
	}
	if c.Database.URL == "" {
		c.Database.URL = DefaultDatabaseURL
	}
	i := &c.IMAP
	if i.Security == "" {
		i.Security = "tls"
	}
	if i.Port == 0 {
		i.Port = 993
		if i.Security != "tls" {
			i.Port = 143
		}
	}
	if i.Folder == "" {
		i.Folder = "INBOX"
	}
	if i.PollInterval.Duration == 0 {
		i.PollInterval.Duration = 60 * time.Second
	}
	if i.Timeout.Duration == 0 {
		i.Timeout.Duration = 60 * time.Second
	}
	if i.BatchSize == 0 {
		i.BatchSize = 500
	}
	s := &c.SMTP
	if s.Security == "" {
		s.Security = "starttls"
	}
	if s.Port == 0 {
		switch s.Security {
		case "tls":
			s.Port = 465
		case "none":
			s.Port = 25
		default:
			s.Port = 587
		}
	}
	if s.From == "" {
		s.From = fmt.Sprintf("%s <%s>", h.Name, h.Address)
	}
	if s.Timeout.Duration == 0 {
		s.Timeout.Duration = 30 * time.Second
	}
	if s.MaxAttempts == 0 {
		s.MaxAttempts = 20
	}
	if s.Connections == 0 {
		s.Connections = 2
	}
	if c.Intake.BatchSize == 0 {
		c.Intake.BatchSize = 200
	}
	if !c.Routing.ForwardAttachmentsMax.Set {
		c.Routing.ForwardAttachmentsMax.Bytes = 10_000_000
	}
	if c.Intake.MaxMessageBytes == 0 {
		c.Intake.MaxMessageBytes = 64 << 20
	}
	if c.Intake.ParseBudget.Duration == 0 {
		c.Intake.ParseBudget.Duration = 10 * time.Second
	}
	for _, d := range []struct {
		v   *int
		def int
	}{{&c.Intake.MaxHeaderBytes, 1 << 20}, {&c.Intake.MaxHeaderFields, 1000}, {&c.Intake.MaxMIMEDepth, 20},
		{&c.Intake.MaxMIMEParts, 500}, {&c.Intake.MaxTextBytes, 2 << 20}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
}

var keyPrefixRe = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,9}$`)
var priorityRe = regexp.MustCompile(`^P[1-5]$`)

func (c *Config) validate(v *validator) {
	c.validateRouting(v)
	c.validateProblems(v)
	c.validateSLA(v)
	c.validateMajor(v)
	c.validateSummaries(v)
	h := &c.Helpdesk
	if h.Address == "" {
		v.add(key("helpdesk", "address"), "required: the mailbox people write to")
	} else if a, err := mail.ParseAddress(h.Address); err != nil || a.Name != "" {
		v.add(key("helpdesk", "address"), fmt.Sprintf("not a plain email address: %q", h.Address))
	} else {
		h.Address = strings.ToLower(a.Address)
	}
	if !keyPrefixRe.MatchString(h.KeyPrefix) {
		v.add(key("helpdesk", "key_prefix"), fmt.Sprintf("must be 1-10 capital letters or digits starting with a letter, got %q", h.KeyPrefix))
	} else if h.KeyPrefix == "PRB" {
		v.add(key("helpdesk", "key_prefix"), `"PRB" is the prefix of problems (PRB-7); choose another for incidents`)
	}
	if loc, err := time.LoadLocation(h.Timezone); err != nil {
		v.add(key("helpdesk", "timezone"), fmt.Sprintf("unknown time zone %q", h.Timezone))
	} else {
		h.Location = loc
	}
	if h.AutoReplyLimit < 0 {
		v.add(key("helpdesk", "auto_reply_limit"), fmt.Sprintf("must be 1 or more, got %d", h.AutoReplyLimit))
	}
	if !priorityRe.MatchString(h.DefaultPriority) {
		v.add(key("helpdesk", "default_priority"), fmt.Sprintf("must be P1-P5, got %q", h.DefaultPriority))
	}
	for i, d := range h.Domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || strings.ContainsAny(d, "@ <>") || !strings.Contains(d, ".") {
			v.add(key("helpdesk", "domains"), fmt.Sprintf("not a mail domain: %q", h.Domains[i]))
		}
		h.Domains[i] = d
	}
	if h.NewIncidentLimit < 0 {
		v.add(key("helpdesk", "new_incident_limit"), fmt.Sprintf("must be 0 (no limit) or more, got %d", h.NewIncidentLimit))
	}
	for i, a := range h.NewIncidentLimitExempt {
		if pa, err := mail.ParseAddress(a); err != nil || pa.Name != "" {
			v.add(key("helpdesk", "new_incident_limit_exempt"), fmt.Sprintf("not a plain email address: %q", a))
		} else {
			h.NewIncidentLimitExempt[i] = strings.ToLower(pa.Address)
		}
	}
	u := c.Database.URL
	if !strings.HasPrefix(u, "sqlite:") && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		v.add(key("database", "url"), fmt.Sprintf("must start with sqlite: or postgres://, got %q", RedactURL(u)))
	} else if u == "sqlite:" {
		v.add(key("database", "url"), "sqlite: needs a file path, e.g. sqlite:/var/lib/helpdeskd/helpdeskd.db")
	} else if _, err := url.Parse(u); err != nil && !strings.HasPrefix(u, "sqlite:") {
		v.add(key("database", "url"), fmt.Sprintf("does not parse: %s (the URL is not shown: it may hold a password)", urlProblem(err)))
	}

	i := &c.IMAP
	if i.Host != "" {
		c.validateEndpoint(v, "imap", i.Host, i.Port, i.Security)
		if i.Username == "" {
			v.add(key("imap", "username"), "required when [imap] host is set")
		}
		i.Password = c.secret(v, "imap", i.Password, i.PasswordFile)
		if i.PollInterval.Duration < time.Second {
			v.add(key("imap", "poll_interval"), fmt.Sprintf("must be at least 1s, got %v", i.PollInterval.Duration))
		}
		if i.Timeout.Duration < time.Second {
			v.add(key("imap", "timeout"), fmt.Sprintf("must be at least 1s, got %v", i.Timeout.Duration))
		}
		if i.BatchSize < 1 || i.BatchSize > 5000 {
			v.add(key("imap", "batch_size"), fmt.Sprintf("must be 1-5000, got %d", i.BatchSize))
		}
		if i.ProcessedFolder != "" && i.ProcessedFolder == i.Folder {
			v.add(key("imap", "processed_folder"), "must differ from [imap] folder")
		}
		checkFile(v, "imap", "tls_ca_file", i.TLSCAFile)
	}

	s := &c.SMTP
	if s.Host != "" {
		c.validateEndpoint(v, "smtp", s.Host, s.Port, s.Security)
		if s.Username != "" {
			s.Password = c.secret(v, "smtp", s.Password, s.PasswordFile)
		} else if s.Password != "" || s.PasswordFile != "" {
			v.add(key("smtp", "username"), "required when a password is set")
		}
		if a, err := mail.ParseAddress(s.From); err != nil {
			v.add(key("smtp", "from"), fmt.Sprintf("not an address: %q", s.From))
		} else if strings.ContainsAny(s.From, "\r\n") || a.Address == "" {
			v.add(key("smtp", "from"), "must be one line")
		}
		if s.Timeout.Duration < time.Second {
			v.add(key("smtp", "timeout"), fmt.Sprintf("must be at least 1s, got %v", s.Timeout.Duration))
		}
		if s.Connections < 1 || s.Connections > 32 {
			v.add(key("smtp", "connections"), fmt.Sprintf("must be 1-32, got %d", s.Connections))
		}
		if s.MaxAttempts < 1 {
			v.add(key("smtp", "max_attempts"), fmt.Sprintf("must be 1 or more, got %d", s.MaxAttempts))
		}
		checkFile(v, "smtp", "tls_ca_file", s.TLSCAFile)
	}
	if c.Intake.BatchSize < 1 || c.Intake.BatchSize > 5000 {
		v.add(key("intake", "batch_size"), fmt.Sprintf("must be 1-5000, got %d", c.Intake.BatchSize))
	}
	if b := c.Intake.ParseBudget.Duration; b < 100*time.Millisecond || b > 10*time.Minute {
		v.add(key("intake", "parse_budget"), fmt.Sprintf("must be 100ms-10m, got %v", b))
	}
	for _, l := range []struct {
		name string
		v    int
		min  int
	}{{"max_header_bytes", c.Intake.MaxHeaderBytes, 1024}, {"max_header_fields", c.Intake.MaxHeaderFields, 10},
		{"max_mime_depth", c.Intake.MaxMIMEDepth, 1}, {"max_mime_parts", c.Intake.MaxMIMEParts, 1},
		{"max_text_bytes", c.Intake.MaxTextBytes, 1024}} {
		if l.v < l.min {
			v.add(key("intake", l.name), fmt.Sprintf("must be at least %d, got %d", l.min, l.v))
		}
	}
	if c.Intake.MaxMessageBytes < 1024 {
		v.add(key("intake", "max_message_bytes"), fmt.Sprintf("must be at least 1024, got %d", c.Intake.MaxMessageBytes))
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			v.add(key("metrics", "listen"), fmt.Sprintf("must be host:port, got %q", c.Metrics.Listen))
		}
	}
}

func (c *Config) validateEndpoint(v *validator, section, host string, port int, security string) {
	if port < 1 || port > 65535 {
		v.add(key(section, "port"), fmt.Sprintf("must be 1-65535, got %d", port))
	}
	switch security {
	case "tls", "starttls":
	case "none":
		if !IsLoopback(host) {
			v.add(key(section, "security"), fmt.Sprintf(`"none" sends passwords and mail in clear text; it is allowed only for a loopback host, not %q`, host))
		}
	default:
		v.add(key(section, "security"), fmt.Sprintf(`must be "tls", "starttls" or "none", got %q`, security))
	}
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) secret(v *validator, section, inline, file string) string {
	switch {
	case inline != "" && file != "":
		v.add(key(section, "password_file"), "set password or password_file, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			v.add(key(section, "password_file"), fmt.Sprintf("cannot read: %v", err))
			return ""
		}
		return strings.TrimRight(string(b), "\r\n")
	}
	return inline
}

func checkFile(v *validator, section, k, path string) {
	if path == "" {
		return
	}
	if _, err := os.Stat(path); err != nil {
		v.add(key(section, k), fmt.Sprintf("cannot read: %v", err))
	}
}

// RedactURL returns a database URL fit for logs and messages. A sqlite:
// URL (a file path) is returned as it is. Any other URL is parsed
// (net/url): the password becomes "xxxxx" (url.URL.Redacted), so does
// the value of every query parameter whose name speaks of a secret
// (password, sslpassword, passfile, sslkey, token, …: lib/pq reads
// ?password=), and the fragment is dropped. Of a URL that does not parse,
// or that has no "//" authority, only the scheme is shown: any other part
// could hold the password.
func RedactURL(raw string) string {
	if strings.HasPrefix(raw, "sqlite:") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || !strings.Contains(raw, "://") {
		if m := schemeRe.FindString(raw); m != "" {
			return m + "(rest not shown)"
		}
		return "(not shown)"
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if secretParam(k) {
				q[k] = []string{"xxxxx"}
			}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	return u.Redacted()
}

var schemeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]{0,30}:(//)?`)

// secretParam reports whether a URL query parameter may hold a secret.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"pass", "secret", "token", "key", "cred", "auth"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// urlProblem says why a database URL does not parse without quoting any
// part of it (the quoted part could be the password).
func urlProblem(err error) string {
	var esc url.EscapeError
	var host url.InvalidHostError
	switch {
	case errors.As(err, &esc):
		return "an invalid %-escape"
	case errors.As(err, &host):
		return "an invalid character in the host name"
	}
	return "not a valid URL"
}

// RedactedDatabaseURL is the database URL without its password, for logs.
func (c *Config) RedactedDatabaseURL() string { return RedactURL(c.Database.URL) }

// MessageIDDomain is the domain of the Message-IDs helpdeskd writes.
func (c *Config) MessageIDDomain() string {
	if i := strings.LastIndexByte(c.Helpdesk.Address, '@'); i >= 0 {
		return c.Helpdesk.Address[i+1:]
	}
	return "helpdeskd.invalid"
}

type validator struct {
	file  string
	lines *lineIndex
	errs  Errors
}

// keyPath is a TOML key path such as ["imap", "port"].
type keyPath []string

func key(parts ...string) keyPath { return keyPath(parts) }

func (v *validator) add(k []string, msg string) {
	name := ""
	switch len(k) {
	case 0:
	case 1:
		name = k[0]
	default:
		name = "[" + strings.Join(k[:len(k)-1], ".") + "] " + k[len(k)-1]
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: v.lines.find(k), Key: name, Msg: msg})
}
