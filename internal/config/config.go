// Package config loads the YAML configuration strictly, applies NEWSLETTER_* environment
// overrides and validates the result, naming the offending key on error.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is every option of the program. Field tags are the YAML keys.
type Config struct {
	Publication  Publication `yaml:"publication"`
	Sender       Sender      `yaml:"sender"`
	Feeds        []string    `yaml:"feeds"`
	Feed         Feed        `yaml:"feed"`
	Issue        Issue       `yaml:"issue"`
	Schedule     Schedule    `yaml:"schedule"`
	Delivery     Delivery    `yaml:"delivery"`
	DKIM         DKIM        `yaml:"dkim"`
	Database     string      `yaml:"database"`
	Outbox       string      `yaml:"outbox"`
	SMTPURL      string      `yaml:"smtp_url"`
	HTTPAddr     string      `yaml:"http_addr"`
	BaseURL      string      `yaml:"base_url"`
	SecretFile   string      `yaml:"secret_file"`
	Secret       string      `yaml:"-"` // only from NEWSLETTER_SECRET, never from a file that might be committed
	AdminToken   string      `yaml:"admin_token"`
	TemplatesDir string      `yaml:"templates_dir"`
	Editorial    Editorial   `yaml:"editorial"`
	Subscribe    Subscribe   `yaml:"subscribe"`
	Metrics      Metrics     `yaml:"metrics"`
	Bounces      Bounces     `yaml:"bounces"`
}

// Metrics configures serve's GET /metrics.
type Metrics struct {
	// Public serves /metrics without the admin token; its subscriber counts are business data.
	Public bool `yaml:"public"`
}

// Bounces tunes how bounces and complaints that arrive after the send are counted.
type Bounces struct {
	// SoftLimit soft bounces (4.x.x, delayed) within SoftWindow suppress a subscriber.
	SoftLimit  int           `yaml:"soft_limit"`
	SoftWindow time.Duration `yaml:"soft_window"`
	// MaxMessageBytes caps one report read by `bounces process`.
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
	// Mailbox is the bounce mailbox serve polls (imaps://USER:PASSWORD@HOST/INBOX); empty:
	// none, reports come through `bounces process`.
	Mailbox string `yaml:"mailbox"`
	// PollEvery is how often serve reads Mailbox.
	PollEvery time.Duration `yaml:"poll_every"`
	Webhooks  Webhooks      `yaml:"webhooks"`
}

// Editorial configures the draft workflow, the preview and the archive.
type Editorial struct {
	// RequireApproval holds a scheduled send until an editor approved the issue.
	RequireApproval bool     `yaml:"require_approval"`
	Editors         []Editor `yaml:"editors"`
	// EditorsEmail is told when a scheduled send is held for want of approval.
	EditorsEmail string `yaml:"editors_email"`
	// SubjectTemplate derives the subject (text/template: .Publication, .TopStory, .Week, .Count).
	SubjectTemplate string `yaml:"subject_template"`
}

// Editor is one account of the preview pages.
type Editor struct {
	Name           string `yaml:"name"`
	PasswordBcrypt string `yaml:"password_bcrypt"`
}

// Publication is the identity shown in every issue, as the file gives it; the command
// converts it to newsletter.Publication, which has the same fields, for everything else.
type Publication struct {
	Name          string `yaml:"name"`           // "The Technerdo Weekly"
	Tagline       string `yaml:"tagline"`        // "Analysis worth reading, delivered every Monday."
	WebsiteURL    string `yaml:"website_url"`    // "https://technerdo.com"
	LogoURL       string `yaml:"logo_url"`       // optional absolute URL; without it the name is shown as text
	PostalAddress string `yaml:"postal_address"` // required by CAN-SPAM in every issue; may hold several lines
	Language      string `yaml:"language"`       // BCP 47 tag for html lang; "" means en
	AccentColor   string `yaml:"accent_color"`   // CSS hex colour, #rgb or #rrggbb
	// WhyText says why the reader gets the issue; "" derives it from Name and WebsiteURL.
	WhyText string `yaml:"why_text"`
}

// Sender is how messages identify themselves.
type Sender struct {
	FromName          string `yaml:"from_name"`
	FromAddress       string `yaml:"from_address"`
	ReplyTo           string `yaml:"reply_to"`
	BounceAddress     string `yaml:"bounce_address"`
	MessageIDDomain   string `yaml:"message_id_domain"`
	ListID            string `yaml:"list_id"`
	UnsubscribeMailto string `yaml:"unsubscribe_mailto"`
	// AllowInsecureLinks lets mail go out over SMTP with a base_url that is not https or
	// points at this machine (a test relay, a staging list); without it such a send is refused.
	AllowInsecureLinks bool `yaml:"allow_insecure_links"`
	// VERP makes each message's envelope sender BounceAddress with a signed token after a
	// "+" (bounces+TOKEN@example.com), naming the issue and the subscriber.
	VERP bool `yaml:"verp"`
}

// Feed tunes the fetcher.
type Feed struct {
	Timeout  time.Duration `yaml:"timeout"`
	MaxBytes int64         `yaml:"max_bytes"`
}

// Issue shapes each weekly issue.
type Issue struct {
	MaxStories   int    `yaml:"max_stories"`
	LookbackDays int    `yaml:"lookback_days"`
	Subject      string `yaml:"subject"`
}

// Schedule is when `newsletter serve` builds and sends, and the publication's time zone.
type Schedule struct {
	TimeZone   string        `yaml:"timezone"`
	Build      string        `yaml:"build"`
	Send       string        `yaml:"send"`
	Grace      time.Duration `yaml:"grace"`
	MinStories int           `yaml:"min_stories"`
	// KeepLedgerWeeks: the daemon folds per-recipient delivery rows of issues sent longer ago
	// into per-issue totals (0 keeps them all).
	KeepLedgerWeeks int `yaml:"keep_ledger_weeks"`
}

// Subscribe tunes the public sign-up (double opt-in) and the admin import.
type Subscribe struct {
	// ConfirmTTL is how long a confirmation link works.
	ConfirmTTL time.Duration `yaml:"confirm_ttl"`
	// PerIPPerHour and PerAddressPerHour cap sign-up attempts (429 beyond); 0 turns one off.
	PerIPPerHour      int `yaml:"per_ip_per_hour"`
	PerAddressPerHour int `yaml:"per_address_per_hour"`
	// MaxImportBytes caps a CSV uploaded to /admin or /api/subscribers/import.
	MaxImportBytes int64 `yaml:"max_import_bytes"`
}

// Delivery tunes sending.
type Delivery struct {
	// Workers is the number of concurrent SMTP connections of a relay whose URL does not
	// say connections=N (and of outbox writers).
	Workers int `yaml:"workers"`
	// Rate caps messages across all relays: "10/s", "20000/h", "0" for no limit.
	Rate string `yaml:"rate"`
	// DomainRate caps messages to one recipient domain, same format; "0" for no cap.
	DomainRate string `yaml:"domain_rate"`
	// InDoubt is what happens to messages a crash left in flight: resend or skip.
	InDoubt string `yaml:"in_doubt"`
	// MaxAttempts and RetryHorizon bound the retries of a temporary failure.
	MaxAttempts  int           `yaml:"max_attempts"`
	RetryHorizon time.Duration `yaml:"retry_horizon"`
	// RetryBackoff is the first wait before a retry; it doubles per attempt (with jitter).
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// RetryWait is how long `run` and `send` wait for retries coming due (and for a relay
	// that is down) before they stop with exit code 3.
	RetryWait time.Duration `yaml:"retry_wait"`
	// BounceLimit hard bounces suppress a subscriber (status bounced).
	BounceLimit int `yaml:"bounce_limit"`
	// Canary sends to seeds and a share of the list first and holds the issue when too
	// much of it bounces or is deferred.
	Canary Canary `yaml:"canary"`
}

// Canary is the safety valve before a real send; off while Seeds is empty and Share is 0.
type Canary struct {
	Seeds         []string      `yaml:"seeds"`
	Share         float64       `yaml:"share"`
	Wait          time.Duration `yaml:"wait"`
	MaxBounceRate float64       `yaml:"max_bounce_rate"`
	MaxDeferRate  float64       `yaml:"max_defer_rate"`
	// MaxComplaintRate counts the complaints `bounces process` records during the wait.
	MaxComplaintRate float64 `yaml:"max_complaint_rate"`
}

// DKIM signs outgoing mail when KeyFile is set; with Ed25519KeyFile too, each message
// carries a second signature (RFC 8463).
type DKIM struct {
	Domain   string `yaml:"domain"`
	Selector string `yaml:"selector"`
	KeyFile  string `yaml:"key_file"` // PEM, RSA (PKCS#1 or #8) or Ed25519 (PKCS#8)
	// Ed25519Selector and Ed25519KeyFile add an Ed25519 signature beside KeyFile's RSA one.
	Ed25519Selector string `yaml:"ed25519_selector"`
	Ed25519KeyFile  string `yaml:"ed25519_key_file"`
}

// ParseRate reads "N/s", "N/m", "N/h" or a bare N (per second) as messages per second;
// "" and "0" mean no limit (0).
func ParseRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	num, unit, _ := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n < 0 || n != n || n > 1e9 {
		return 0, fmt.Errorf("%q is not a rate like 10/s or 20000/h", s)
	}
	switch strings.TrimSpace(unit) {
	case "", "s":
		return n, nil
	case "m":
		return n / 60, nil
	case "h":
		return n / 3600, nil
	}
	return 0, fmt.Errorf("%q: unit must be /s, /m or /h", s)
}

// SMTPURLs splits smtp_url at commas: one URL per relay.
func (c *Config) SMTPURLs() []string { return splitList(c.SMTPURL) }

// splitList is the non-empty items of a comma-separated list, trimmed.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Defaults returns the embedded defaults: the sample feed, a SQLite file and an outbox under data/.
func Defaults() Config {
	return Config{
		Publication: Publication{
			Name:          "The Technerdo Weekly",
			Tagline:       "Analysis worth reading, delivered every Monday.",
			WebsiteURL:    "https://technerdo.com",
			PostalAddress: "Technerdo Media, Büyükdere Cd. 185, 34394 Şişli, Istanbul, Türkiye",
			Language:      "en",
			AccentColor:   "#c8102e",
		},
		Sender: Sender{
			FromName:    "The Technerdo Weekly",
			FromAddress: "weekly@technerdo.com",
			ListID:      "weekly.technerdo.com",
		},
		Feeds:    []string{"data/sample-feed.xml"},
		Feed:     Feed{Timeout: 20 * time.Second, MaxBytes: 10 << 20},
		Issue:    Issue{MaxStories: 12, LookbackDays: 7},
		Schedule: Schedule{TimeZone: "Europe/Istanbul", Build: "0 12 * * FRI", Send: "0 8 * * MON", Grace: 12 * time.Hour, MinStories: 1, KeepLedgerWeeks: 8},
		Delivery: Delivery{Workers: 4, Rate: "10/s", DomainRate: "0", InDoubt: "resend", MaxAttempts: 8,
			RetryHorizon: 48 * time.Hour, RetryBackoff: time.Minute, RetryWait: 5 * time.Minute, BounceLimit: 1,
			Canary: Canary{Seeds: []string{}, Wait: 10 * time.Minute, MaxBounceRate: 0.02, MaxDeferRate: 0.10, MaxComplaintRate: 0.001}},
		Subscribe:  Subscribe{ConfirmTTL: 72 * time.Hour, PerIPPerHour: 20, PerAddressPerHour: 3, MaxImportBytes: 64 << 20},
		Bounces:    Bounces{SoftLimit: 5, SoftWindow: 30 * 24 * time.Hour, MaxMessageBytes: 10 << 20, PollEvery: 5 * time.Minute},
		Database:   "data/newsletter.db",
		Outbox:     "data/outbox",
		HTTPAddr:   "127.0.0.1:8080",
		BaseURL:    "http://127.0.0.1:8080",
		SecretFile: "data/secret.key",
		Editorial: Editorial{
			RequireApproval: true,
			Editors:         []Editor{},
			SubjectTemplate: "{{.Publication}}: {{.TopStory}}",
		},
	}
}

// Error is a configuration error tied to one key, the key's path like delivery.workers.
type Error struct {
	Key    string
	Reason string
	File   string // the file it is in, when it came from one
	Line   int    // its line in the file, when known
}

// Error reads "FILE:LINE: key: reason" when the place is known, else "config: key: reason".
func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Reason)
	case e.Line > 0:
		return fmt.Sprintf("config: line %d: %s: %s", e.Line, e.Key, e.Reason)
	}
	return "config: " + e.Key + ": " + e.Reason
}

// Parse reads YAML over the defaults. Unknown keys and values of the wrong kind are
// *Errors naming the key's path and line.
func Parse(data []byte) (Config, error) {
	cfg := Defaults()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	// An empty file, or one of comments only, leaves the defaults in place.
	if len(doc.Content) == 0 {
		return cfg, nil
	}
	if err := checkKeys(doc.Content[0], reflect.TypeFor[Config](), ""); err != nil {
		return Config{}, err
	}
	if err := doc.Content[0].Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// Load reads and parses a file. The path is named in errors.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data)
	var ce *Error
	if errors.As(err, &ce) && ce.Line > 0 {
		ce.File = path
		return Config{}, ce
	}
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// The variables the code names beside the override table (see envVars).
const (
	EnvConfig        = "NEWSLETTER_CONFIG"
	EnvSMTPURL       = "NEWSLETTER_SMTP_URL"
	EnvSecret        = "NEWSLETTER_SECRET"
	EnvAllowInsecure = "NEWSLETTER_ALLOW_INSECURE_LINKS"
)

// envVar overrides one key: the variable, the key's path in the file (for errors about its
// value) and the field, a *string, a *bool or a *[]string (comma-separated).
type envVar struct {
	name, key string
	dst       any
}

// envVars are the NEWSLETTER_* overrides, applied after the file; the webhooks' secrets are
// best kept out of the file.
func (c *Config) envVars() []envVar {
	w := &c.Bounces.Webhooks
	return []envVar{
		{"NEWSLETTER_DATABASE", "database", &c.Database},
		{"NEWSLETTER_FEEDS", "feeds", &c.Feeds},
		{EnvSMTPURL, "smtp_url", &c.SMTPURL},
		{"NEWSLETTER_OUTBOX", "outbox", &c.Outbox},
		{"NEWSLETTER_HTTP_ADDR", "http_addr", &c.HTTPAddr},
		{"NEWSLETTER_BASE_URL", "base_url", &c.BaseURL},
		{EnvSecret, "secret", &c.Secret},
		{"NEWSLETTER_ADMIN_TOKEN", "admin_token", &c.AdminToken},
		{"NEWSLETTER_SCHEDULE_BUILD", "schedule.build", &c.Schedule.Build},
		{"NEWSLETTER_SCHEDULE_SEND", "schedule.send", &c.Schedule.Send},
		{"NEWSLETTER_SCHEDULE_TIMEZONE", "schedule.timezone", &c.Schedule.TimeZone},
		{"NEWSLETTER_REQUIRE_APPROVAL", "editorial.require_approval", &c.Editorial.RequireApproval},
		{EnvAllowInsecure, "sender.allow_insecure_links", &c.Sender.AllowInsecureLinks},
		{"NEWSLETTER_WEBHOOK_SES_ENABLED", "bounces.webhooks.ses.enabled", &w.SES.Enabled},
		{"NEWSLETTER_WEBHOOK_SES_TOPIC_ARN", "bounces.webhooks.ses.topic_arn", &w.SES.TopicARN},
		{"NEWSLETTER_WEBHOOK_POSTMARK_USER", "bounces.webhooks.postmark.user", &w.Postmark.User},
		{"NEWSLETTER_WEBHOOK_POSTMARK_PASSWORD", "bounces.webhooks.postmark.password", &w.Postmark.Password},
		{"NEWSLETTER_WEBHOOK_SENDGRID_PUBLIC_KEY", "bounces.webhooks.sendgrid.public_key", &w.SendGrid.PublicKey},
		{"NEWSLETTER_WEBHOOK_MAILGUN_SIGNING_KEY", "bounces.webhooks.mailgun.signing_key", &w.Mailgun.SigningKey},
	}
}

// ApplyEnv overrides fields from the environment (getenv is os.Getenv outside tests).
// A variable that is set but empty is ignored; one that cannot be read is an *Error.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	for _, e := range c.envVars() {
		v := strings.TrimSpace(getenv(e.name))
		if v == "" {
			continue
		}
		switch dst := e.dst.(type) {
		case *string:
			*dst = v
		case *[]string:
			*dst = splitList(v)
		case *bool:
			x, err := strconv.ParseBool(v)
			if err != nil {
				return &Error{Key: e.name, Reason: fmt.Sprintf("%q is not true or false", v)}
			}
			*dst = x
		}
	}
	return nil
}

// overridingEnv names the variable whose value replaced key's, or "" when the value came
// from the file or the defaults.
func overridingEnv(key string, getenv func(string) string) string {
	var c Config
	for _, e := range c.envVars() {
		if e.key == key && strings.TrimSpace(getenv(e.name)) != "" {
			return e.name
		}
	}
	return ""
}

var colorPattern = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// rule is one check of a key: err is nil when the value passes, else why it is refused.
type rule struct {
	key string
	err error
}

// unless is nil when ok, else the reason (format and args, as for fmt.Errorf).
func unless(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// optional checks s unless it is empty.
func optional(s string, check func(string) error) error {
	if s == "" {
		return nil
	}
	return check(s)
}

func within[T cmp.Ordered](v, lo, hi T) bool { return lo <= v && v <= hi }

// Validate checks every value and returns the first problem as an *Error naming its key.
// Each section has its own rules, checked in the order of the file's sections.
func (c *Config) Validate() error {
	for _, section := range []func() []rule{
		c.publicationRules, c.senderRules, c.feedRules, c.scheduleRules, c.issueRules, c.subscribeRules, c.storageRules,
		c.deliveryRules, c.bounceRules, c.canaryRules, c.dkimRules, c.httpRules, c.secretRules, c.editorialRules,
	} {
		for _, r := range section() {
			if r.err != nil {
				return &Error{Key: r.key, Reason: r.err.Error()}
			}
		}
	}
	return nil
}

func (c *Config) publicationRules() []rule {
	p := c.Publication
	return []rule{
		{"publication.name", unless(strings.TrimSpace(p.Name) != "", "must not be empty")},
		{"publication.name", unless(!hasControl(p.Name) && !hasControl(c.Sender.FromName), "must not contain control characters")},
		{"publication.website_url", absoluteHTTP(p.WebsiteURL)},
		{"publication.logo_url", optional(p.LogoURL, absoluteHTTP)},
		{"publication.postal_address", unless(strings.TrimSpace(p.PostalAddress) != "",
			"must not be empty (CAN-SPAM requires a postal address in every issue)")},
		{"publication.accent_color", unless(p.AccentColor == "" || colorPattern.MatchString(p.AccentColor),
			"%q is not a #rgb or #rrggbb colour", p.AccentColor)},
	}
}

func (c *Config) senderRules() []rule {
	s := c.Sender
	local, _, _ := strings.Cut(s.BounceAddress, "@")
	return []rule{
		{"sender.from_address", plainAddress(s.FromAddress)},
		{"sender.reply_to", optional(s.ReplyTo, plainAddress)},
		{"sender.bounce_address", optional(s.BounceAddress, plainAddress)},
		{"sender.unsubscribe_mailto", optional(s.UnsubscribeMailto, plainAddress)},
		{"sender.verp", unless(!s.VERP || (s.BounceAddress != "" && !strings.Contains(local, "+") && len(local) <= 30),
			"needs sender.bounce_address, a plain address whose local part has no \"+\" and at most 30 characters (the token is added after a \"+\")")},
		{"sender.message_id_domain", unless(s.MessageIDDomain == "" || isDomain(s.MessageIDDomain), "%q is not a domain name", s.MessageIDDomain)},
		{"sender.list_id", unless(s.ListID == "" || isDomain(s.ListID), "%q is not a dot-atom like weekly.example.org (RFC 2919)", s.ListID)},
	}
}

func (c *Config) feedRules() []rule {
	rules := []rule{{"feeds", unless(len(c.Feeds) > 0, "at least one feed URL or file is needed")}}
	for i, f := range c.Feeds {
		rules = append(rules, rule{fmt.Sprintf("feeds[%d]", i), feedSource(f)})
	}
	return append(rules,
		rule{"feed.timeout", unless(c.Feed.Timeout > 0, "must be positive, like 20s")},
		rule{"feed.max_bytes", unless(c.Feed.MaxBytes >= 1024, "must be at least 1024")})
}

// feedSource accepts a file's path or an http, https or file URL.
func feedSource(f string) error {
	if strings.TrimSpace(f) == "" {
		return errors.New("must not be empty")
	}
	if u, err := url.Parse(f); err == nil && len(u.Scheme) > 1 && u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file" {
		return fmt.Errorf("scheme %q is not http, https or file", u.Scheme)
	}
	return nil
}

// scheduleRules leave the cron expressions to the schedule package, which parses them once
// (the command, after Read).
func (c *Config) scheduleRules() []rule {
	s := c.Schedule
	_, zoneErr := time.LoadLocation(s.TimeZone)
	return []rule{
		{"schedule.timezone", unless(zoneErr == nil && s.TimeZone != "", "%q is not an IANA time zone like Europe/Istanbul", s.TimeZone)},
		// No zero: a slot is handled a moment after its time, so "no grace" would miss every
		// send. No more than the week the runner looks back over for a slot it missed.
		{"schedule.grace", unless(within(s.Grace, time.Minute, 7*24*time.Hour),
			"must be between 1m and 168h (how late a missed or held send may still go out), got %s", s.Grace)},
		{"schedule.min_stories", unless(s.MinStories >= 0, "must not be negative")},
		{"schedule.keep_ledger_weeks", unless(s.KeepLedgerWeeks >= 0, "must not be negative")},
	}
}

// issueRules leave the subject to the newsletter package's rules (the command, after Read).
func (c *Config) issueRules() []rule {
	i := c.Issue
	return []rule{
		{"issue.max_stories", unless(within(i.MaxStories, 1, 100), "must be between 1 and 100, got %d", i.MaxStories)},
		{"issue.lookback_days", unless(within(i.LookbackDays, 1, 366), "must be between 1 and 366, got %d", i.LookbackDays)},
	}
}

func (c *Config) subscribeRules() []rule {
	s := c.Subscribe
	return []rule{
		{"subscribe.confirm_ttl", unless(within(s.ConfirmTTL, time.Hour, 30*24*time.Hour), "must be between 1h and 720h, got %s", s.ConfirmTTL)},
		{"subscribe.per_ip_per_hour", unless(s.PerIPPerHour >= 0 && s.PerAddressPerHour >= 0, "rate limits must not be negative (0 turns one off)")},
		{"subscribe.max_import_bytes", unless(s.MaxImportBytes >= 1024, "must be at least 1024")},
	}
}

func (c *Config) storageRules() []rule {
	rules := []rule{
		{"database", unless(strings.TrimSpace(c.Database) != "", "must name a file")},
		{"outbox", unless(c.SMTPURL != "" || strings.TrimSpace(c.Outbox) != "", "must name a directory when smtp_url is empty")},
	}
	for _, s := range c.SMTPURLs() {
		u, err := url.Parse(s)
		rules = append(rules, rule{"smtp_url", unless(err == nil && (u.Scheme == "smtp" || u.Scheme == "smtps") && u.Host != "",
			"want smtp://user:pass@host:port?tls=none|starttls|tls (several comma-separated)")})
	}
	return rules
}

func (c *Config) deliveryRules() []rule {
	d := c.Delivery
	_, rateErr := ParseRate(d.Rate)
	_, domainRateErr := ParseRate(d.DomainRate)
	return []rule{
		{"delivery.workers", unless(within(d.Workers, 1, 256), "must be between 1 and 256, got %d", d.Workers)},
		{"delivery.rate", rateErr},
		{"delivery.domain_rate", domainRateErr},
		{"delivery.in_doubt", unless(d.InDoubt == "resend" || d.InDoubt == "skip", "%q, want resend or skip", d.InDoubt)},
		{"delivery.max_attempts", unless(within(d.MaxAttempts, 1, 100), "must be between 1 and 100, got %d", d.MaxAttempts)},
		{"delivery.retry_horizon", unless(d.RetryHorizon > 0 && d.RetryBackoff > 0 && d.RetryWait >= 0,
			"retry_horizon and retry_backoff must be positive, retry_wait not negative")},
		{"delivery.bounce_limit", unless(d.BounceLimit >= 1, "must be at least 1, got %d", d.BounceLimit)},
	}
}

func (c *Config) bounceRules() []rule {
	b := c.Bounces
	return append([]rule{
		{"bounces.soft_limit", unless(b.SoftLimit >= 1, "must be at least 1, got %d", b.SoftLimit)},
		{"bounces.soft_window", unless(b.SoftWindow > 0, "must be positive, e.g. 720h")},
		{"bounces.poll_every", unless(b.PollEvery >= time.Minute, "must be at least 1m, got %s", b.PollEvery)},
		{"bounces.max_message_bytes", unless(b.MaxMessageBytes >= 1024, "must be at least 1024, got %d", b.MaxMessageBytes)},
	}, b.Webhooks.rules()...)
}

func (c *Config) canaryRules() []rule {
	k := c.Delivery.Canary
	var rules []rule
	for i, seed := range k.Seeds {
		rules = append(rules, rule{fmt.Sprintf("delivery.canary.seeds[%d]", i), plainAddress(seed)})
	}
	return append(rules,
		rule{"delivery.canary.share", unless(within(k.Share, 0, 0.5), "must be between 0 and 0.5 (a share of the list), got %g", k.Share)},
		rule{"delivery.canary.wait", unless(k.Wait >= 0, "must not be negative")},
		rule{"delivery.canary.max_bounce_rate", fraction(k.MaxBounceRate)},
		rule{"delivery.canary.max_defer_rate", fraction(k.MaxDeferRate)},
		rule{"delivery.canary.max_complaint_rate", fraction(k.MaxComplaintRate)})
}

func fraction(v float64) error {
	return unless(within(v, 0, 1), "must be a fraction between 0 and 1, got %g", v)
}

func (c *Config) dkimRules() []rule {
	k := c.DKIM
	ed := k.Ed25519KeyFile != ""
	return []rule{
		{"dkim", unless(k.KeyFile == "" || (isDomain(k.Domain) && k.Selector != "" && !strings.ContainsAny(k.Selector, " ;=")),
			"key_file needs a domain and a selector")},
		{"dkim.ed25519_key_file", unless(!ed || k.KeyFile != "",
			"needs dkim.key_file (an RSA key) beside it: not every receiver verifies Ed25519")},
		{"dkim.ed25519_selector", unless(!ed || (k.Ed25519Selector != "" && !strings.ContainsAny(k.Ed25519Selector, " ;=:")),
			"%q is not a selector (a DNS label, needed with ed25519_key_file)", k.Ed25519Selector)},
		{"dkim.ed25519_selector", unless(!ed || k.Ed25519Selector != k.Selector, "must differ from dkim.selector: each key has its own DNS record")},
	}
}

// httpRules want base_url to be a public https URL when mail goes over SMTP.
func (c *Config) httpRules() []rule {
	var links error
	if len(c.SMTPURLs()) > 0 && !c.Sender.AllowInsecureLinks {
		if err := publicHTTPS(c.BaseURL); err != nil {
			links = fmt.Errorf("%v: mail sent over SMTP would carry unsubscribe links readers cannot use "+
				"(RFC 8058 one-click needs https); set a public https base_url, or sender.allow_insecure_links: true "+
				"(%s=true) for a test relay", err, EnvAllowInsecure)
		}
	}
	return []rule{
		{"http_addr", unless(hasPort(c.HTTPAddr), "%q is not host:port", c.HTTPAddr)},
		{"base_url", absoluteHTTP(c.BaseURL)},
		{"base_url", links},
	}
}

func (c *Config) secretRules() []rule {
	return []rule{
		{"secret_file", unless(c.Secret != "" || strings.TrimSpace(c.SecretFile) != "", "must name a file when NEWSLETTER_SECRET is not set")},
		{EnvSecret, unless(c.Secret == "" || len(c.Secret) >= 32, "must be at least 32 characters")},
		{"admin_token", unless(c.AdminToken == "" || len(c.AdminToken) >= 16, "must be at least 16 characters")},
	}
}

func (c *Config) editorialRules() []rule {
	var rules []rule
	names := map[string]bool{}
	for i, ed := range c.Editorial.Editors {
		key := fmt.Sprintf("editorial.editors[%d]", i)
		rules = append(rules,
			rule{key + ".name", unless(strings.TrimSpace(ed.Name) != "" && !strings.ContainsAny(ed.Name, ":") && !hasControl(ed.Name),
				"must be a non-empty name without ':' or control characters")},
			rule{key + ".name", unless(!names[ed.Name], "%q appears twice", ed.Name)},
			rule{key + ".password_bcrypt", unless(strings.HasPrefix(ed.PasswordBcrypt, "$2") && len(ed.PasswordBcrypt) == 60,
				"want a bcrypt hash ($2a$/$2b$..., 60 characters; see README)")})
		names[ed.Name] = true
	}
	return append(rules,
		rule{"editorial.editors_email", optional(c.Editorial.EditorsEmail, plainAddress)},
		rule{"editorial.subject_template", unless(!hasControl(c.Editorial.SubjectTemplate), "must not contain control characters")})
}

// MessageIDDomain is the right-hand side of Message-IDs: configured, else the From domain.
func (c *Config) MessageIDDomain() string {
	if c.Sender.MessageIDDomain != "" {
		return c.Sender.MessageIDDomain
	}
	_, domain, _ := strings.Cut(c.Sender.FromAddress, "@")
	return domain
}

// Location returns the configured time zone (Validate has checked it).
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Schedule.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

func plainAddress(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || hasControl(s) {
		return fmt.Errorf("%q is not a plain address like news@example.org", s)
	}
	return nil
}

func absoluteHTTP(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// publicHTTPS accepts an https URL whose host is not this machine: not localhost, not a
// loopback or unspecified address.
func publicHTTPS(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%q is not https", s)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	ip, err := netip.ParseAddr(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || (err == nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		return fmt.Errorf("%q points at this machine", s)
	}
	return nil
}

var domainPattern = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9-]{2,63}$`)

func isDomain(s string) bool { return len(s) <= 253 && domainPattern.MatchString(s) }

// hasPort reports whether addr ends in ':' and a port number, the host before it optional.
func hasPort(addr string) bool {
	i := strings.LastIndex(addr, ":")
	n, err := strconv.Atoi(addr[i+1:])
	return i >= 0 && err == nil && n >= 0 && n <= 65535
}
