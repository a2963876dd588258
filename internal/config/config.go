// Package config loads the YAML configuration strictly, applies NEWSLETTER_* environment
// overrides and validates the result, naming the offending key on error.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"os"
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
	Delivery     Delivery    `yaml:"delivery"`
	Database     string      `yaml:"database"`
	Outbox       string      `yaml:"outbox"`
	SMTPURL      string      `yaml:"smtp_url"`
	HTTPAddr     string      `yaml:"http_addr"`
	BaseURL      string      `yaml:"base_url"`
	SecretFile   string      `yaml:"secret_file"`
	Secret       string      `yaml:"-"` // only from NEWSLETTER_SECRET, never from a file that might be committed
	AdminToken   string      `yaml:"admin_token"`
	TemplatesDir string      `yaml:"templates_dir"`
}

// Publication is the identity shown in every issue.
type Publication struct {
	Name          string `yaml:"name"`
	Tagline       string `yaml:"tagline"`
	WebsiteURL    string `yaml:"website_url"`
	LogoURL       string `yaml:"logo_url"`
	PostalAddress string `yaml:"postal_address"`
	Language      string `yaml:"language"`
	AccentColor   string `yaml:"accent_color"`
	WhyText       string `yaml:"why_text"`
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
}

// Feed tunes the fetcher.
type Feed struct {
	Timeout  time.Duration `yaml:"timeout"`
	MaxBytes int64         `yaml:"max_bytes"`
}

// Issue shapes each weekly issue.
type Issue struct {
	TimeZone     string `yaml:"timezone"`
	MaxStories   int    `yaml:"max_stories"`
	LookbackDays int    `yaml:"lookback_days"`
	Subject      string `yaml:"subject"`
}

// Delivery tunes sending.
type Delivery struct {
	Workers int `yaml:"workers"`
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
		Feeds:      []string{"data/sample-feed.xml"},
		Feed:       Feed{Timeout: 20 * time.Second, MaxBytes: 10 << 20},
		Issue:      Issue{TimeZone: "Europe/Istanbul", MaxStories: 12, LookbackDays: 7},
		Delivery:   Delivery{Workers: 4},
		Database:   "data/newsletter.db",
		Outbox:     "data/outbox",
		HTTPAddr:   "127.0.0.1:8080",
		BaseURL:    "http://127.0.0.1:8080",
		SecretFile: "data/secret.key",
	}
}

// Error is a configuration error tied to one key.
type Error struct {
	Key    string
	Reason string
}

func (e *Error) Error() string { return "config: " + e.Key + ": " + e.Reason }

// Parse reads YAML over the defaults. Unknown keys are errors.
func Parse(data []byte) (Config, error) {
	cfg := Defaults()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file (io.EOF) leaves the defaults in place.
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
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
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Env names the environment overrides, applied after the file.
const (
	EnvConfig     = "NEWSLETTER_CONFIG"
	EnvDatabase   = "NEWSLETTER_DATABASE"
	EnvFeeds      = "NEWSLETTER_FEEDS"
	EnvSMTPURL    = "NEWSLETTER_SMTP_URL"
	EnvOutbox     = "NEWSLETTER_OUTBOX"
	EnvHTTPAddr   = "NEWSLETTER_HTTP_ADDR"
	EnvBaseURL    = "NEWSLETTER_BASE_URL"
	EnvSecret     = "NEWSLETTER_SECRET"
	EnvAdminToken = "NEWSLETTER_ADMIN_TOKEN"
)

// ApplyEnv overrides fields from the environment (getenv is os.Getenv outside tests).
// A variable that is set but empty is ignored.
func (c *Config) ApplyEnv(getenv func(string) string) {
	set := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	set(EnvDatabase, &c.Database)
	set(EnvSMTPURL, &c.SMTPURL)
	set(EnvOutbox, &c.Outbox)
	set(EnvHTTPAddr, &c.HTTPAddr)
	set(EnvBaseURL, &c.BaseURL)
	set(EnvSecret, &c.Secret)
	set(EnvAdminToken, &c.AdminToken)
	if v := strings.TrimSpace(getenv(EnvFeeds)); v != "" {
		c.Feeds = nil
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				c.Feeds = append(c.Feeds, f)
			}
		}
	}
}

var colorPattern = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// Validate checks every value and returns the first problem as an *Error naming its key.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &Error{Key: key, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(c.Publication.Name) == "" {
		return bad("publication.name", "must not be empty")
	}
	if hasControl(c.Publication.Name) || hasControl(c.Sender.FromName) {
		return bad("publication.name", "must not contain control characters")
	}
	if err := absoluteHTTP(c.Publication.WebsiteURL); err != nil {
		return bad("publication.website_url", "%v", err)
	}
	if c.Publication.LogoURL != "" {
		if err := absoluteHTTP(c.Publication.LogoURL); err != nil {
			return bad("publication.logo_url", "%v", err)
		}
	}
	if strings.TrimSpace(c.Publication.PostalAddress) == "" {
		return bad("publication.postal_address", "must not be empty (CAN-SPAM requires a postal address in every issue)")
	}
	if c.Publication.AccentColor != "" && !colorPattern.MatchString(c.Publication.AccentColor) {
		return bad("publication.accent_color", "%q is not a #rgb or #rrggbb colour", c.Publication.AccentColor)
	}
	if err := plainAddress(c.Sender.FromAddress); err != nil {
		return bad("sender.from_address", "%v", err)
	}
	for _, opt := range []struct{ key, value string }{
		{"sender.reply_to", c.Sender.ReplyTo},
		{"sender.bounce_address", c.Sender.BounceAddress},
		{"sender.unsubscribe_mailto", c.Sender.UnsubscribeMailto},
	} {
		if opt.value != "" {
			if err := plainAddress(opt.value); err != nil {
				return bad(opt.key, "%v", err)
			}
		}
	}
	if c.Sender.MessageIDDomain != "" && !isDomain(c.Sender.MessageIDDomain) {
		return bad("sender.message_id_domain", "%q is not a domain name", c.Sender.MessageIDDomain)
	}
	if c.Sender.ListID != "" && !isDomain(c.Sender.ListID) {
		return bad("sender.list_id", "%q is not a dot-atom like weekly.example.org (RFC 2919)", c.Sender.ListID)
	}
	if len(c.Feeds) == 0 {
		return bad("feeds", "at least one feed URL or file is needed")
	}
	for i, f := range c.Feeds {
		if strings.TrimSpace(f) == "" {
			return bad(fmt.Sprintf("feeds[%d]", i), "must not be empty")
		}
		if u, err := url.Parse(f); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
			switch u.Scheme {
			case "http", "https", "file":
			default:
				return bad(fmt.Sprintf("feeds[%d]", i), "scheme %q is not http, https or file", u.Scheme)
			}
		}
	}
	if c.Feed.Timeout <= 0 {
		return bad("feed.timeout", "must be positive, like 20s")
	}
	if c.Feed.MaxBytes < 1024 {
		return bad("feed.max_bytes", "must be at least 1024")
	}
	if _, err := time.LoadLocation(c.Issue.TimeZone); err != nil || c.Issue.TimeZone == "" {
		return bad("issue.timezone", "%q is not an IANA time zone like Europe/Istanbul", c.Issue.TimeZone)
	}
	if c.Issue.MaxStories < 1 || c.Issue.MaxStories > 100 {
		return bad("issue.max_stories", "must be between 1 and 100, got %d", c.Issue.MaxStories)
	}
	if c.Issue.LookbackDays < 1 || c.Issue.LookbackDays > 366 {
		return bad("issue.lookback_days", "must be between 1 and 366, got %d", c.Issue.LookbackDays)
	}
	if hasControl(c.Issue.Subject) {
		return bad("issue.subject", "must not contain control characters")
	}
	if c.Delivery.Workers < 1 || c.Delivery.Workers > 256 {
		return bad("delivery.workers", "must be between 1 and 256, got %d", c.Delivery.Workers)
	}
	if strings.TrimSpace(c.Database) == "" {
		return bad("database", "must name a file")
	}
	if c.SMTPURL == "" && strings.TrimSpace(c.Outbox) == "" {
		return bad("outbox", "must name a directory when smtp_url is empty")
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return bad("smtp_url", "want smtp://user:pass@host:port?tls=none|starttls|tls")
		}
	}
	if _, port, err := splitHostPort(c.HTTPAddr); err != nil || port == "" {
		return bad("http_addr", "%q is not host:port", c.HTTPAddr)
	}
	if err := absoluteHTTP(c.BaseURL); err != nil {
		return bad("base_url", "%v", err)
	}
	if c.Secret == "" && strings.TrimSpace(c.SecretFile) == "" {
		return bad("secret_file", "must name a file when NEWSLETTER_SECRET is not set")
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		return bad(EnvSecret, "must be at least 32 characters")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return bad("admin_token", "must be at least 16 characters")
	}
	return nil
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
	loc, err := time.LoadLocation(c.Issue.TimeZone)
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

var domainPattern = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9-]{2,63}$`)

func isDomain(s string) bool { return len(s) <= 253 && domainPattern.MatchString(s) }

func splitHostPort(addr string) (string, string, error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", "", errors.New("missing port")
	}
	port := addr[i+1:]
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", "", errors.New("bad port")
	}
	return addr[:i], port, nil
}
