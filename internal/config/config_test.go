package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestExampleMatchesDefaults(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := Defaults(); !reflect.DeepEqual(cfg, want) {
		t.Fatalf("config.example.yaml drifted from Defaults():\n got %+v\nwant %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseRejectsUnknownKeys(t *testing.T) {
	_, err := Parse([]byte("publication:\n  nmae: x\n"))
	if err == nil || !strings.Contains(err.Error(), "nmae") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want an error naming the key and line, got %v", err)
	}
}

func TestParseEmptyKeepsDefaults(t *testing.T) {
	cfg, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Defaults()) {
		t.Fatal("empty file should give the defaults")
	}
}

func TestParseBadType(t *testing.T) {
	_, err := Parse([]byte("issue:\n  max_stories: many\n"))
	if err == nil || !strings.Contains(err.Error(), "many") {
		t.Fatalf("want a type error, got %v", err)
	}
	_, err = Parse([]byte("feed:\n  timeout: soon\n"))
	if err == nil {
		t.Fatal("want a duration error")
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		key    string
	}{
		{"no name", func(c *Config) { c.Publication.Name = " " }, "publication.name"},
		{"name with newline", func(c *Config) { c.Publication.Name = "A\r\nBcc: x@y.z" }, "publication.name"},
		{"website not absolute", func(c *Config) { c.Publication.WebsiteURL = "technerdo.com" }, "publication.website_url"},
		{"no postal address", func(c *Config) { c.Publication.PostalAddress = "" }, "publication.postal_address"},
		{"bad colour", func(c *Config) { c.Publication.AccentColor = "red" }, "publication.accent_color"},
		{"bad from", func(c *Config) { c.Sender.FromAddress = "Weekly <w@x.com>" }, "sender.from_address"},
		{"bad reply-to", func(c *Config) { c.Sender.ReplyTo = "nope" }, "sender.reply_to"},
		{"bad list id", func(c *Config) { c.Sender.ListID = "weekly list" }, "sender.list_id"},
		{"no feeds", func(c *Config) { c.Feeds = nil }, "feeds"},
		{"ftp feed", func(c *Config) { c.Feeds = []string{"ftp://x/feed"} }, "feeds[0]"},
		{"zero timeout", func(c *Config) { c.Feed.Timeout = 0 }, "feed.timeout"},
		{"bad zone", func(c *Config) { c.Schedule.TimeZone = "Mars/Olympus" }, "schedule.timezone"},
		{"negative grace", func(c *Config) { c.Schedule.Grace = -time.Hour }, "schedule.grace"},
		{"zero grace", func(c *Config) { c.Schedule.Grace = 0 }, "schedule.grace"},
		{"grace under a minute", func(c *Config) { c.Schedule.Grace = 30 * time.Second }, "schedule.grace"},
		{"grace over a week", func(c *Config) { c.Schedule.Grace = 169 * time.Hour }, "schedule.grace"},
		{"cap zero", func(c *Config) { c.Issue.MaxStories = 0 }, "issue.max_stories"},
		{"lookback", func(c *Config) { c.Issue.LookbackDays = 0 }, "issue.lookback_days"},
		{"workers", func(c *Config) { c.Delivery.Workers = 0 }, "delivery.workers"},
		{"bad smtp", func(c *Config) { c.SMTPURL = "mail.example.org:25" }, "smtp_url"},
		{"bad second smtp", func(c *Config) { c.SMTPURL = "smtp://a.example:25,b.example:25" }, "smtp_url"},
		{"bad rate", func(c *Config) { c.Delivery.Rate = "fast" }, "delivery.rate"},
		{"bad domain rate", func(c *Config) { c.Delivery.DomainRate = "5/week" }, "delivery.domain_rate"},
		{"bad in-doubt", func(c *Config) { c.Delivery.InDoubt = "maybe" }, "delivery.in_doubt"},
		{"no attempts", func(c *Config) { c.Delivery.MaxAttempts = 0 }, "delivery.max_attempts"},
		{"bounce limit", func(c *Config) { c.Delivery.BounceLimit = 0 }, "delivery.bounce_limit"},
		{"dkim without selector", func(c *Config) { c.DKIM.KeyFile, c.DKIM.Domain = "k.pem", "technerdo.com" }, "dkim"},
		{"ed25519 without rsa", func(c *Config) { c.DKIM.Ed25519KeyFile, c.DKIM.Ed25519Selector = "ed.pem", "ed" }, "dkim.ed25519_key_file"},
		{"ed25519 without selector", func(c *Config) {
			c.DKIM.Domain, c.DKIM.Selector, c.DKIM.KeyFile, c.DKIM.Ed25519KeyFile = "technerdo.com", "rsa", "k.pem", "ed.pem"
		}, "dkim.ed25519_selector"},
		{"ed25519 with the rsa selector", func(c *Config) {
			c.DKIM.Domain, c.DKIM.Selector, c.DKIM.KeyFile = "technerdo.com", "s", "k.pem"
			c.DKIM.Ed25519KeyFile, c.DKIM.Ed25519Selector = "ed.pem", "s"
		}, "dkim.ed25519_selector"},
		{"bad addr", func(c *Config) { c.HTTPAddr = "localhost" }, "http_addr"},
		{"bad base", func(c *Config) { c.BaseURL = "/newsletter" }, "base_url"},
		{"short secret", func(c *Config) { c.Secret = "short" }, EnvSecret},
		{"short admin token", func(c *Config) { c.AdminToken = "abc" }, "admin_token"},
		{"confirm ttl", func(c *Config) { c.Subscribe.ConfirmTTL = time.Minute }, "subscribe.confirm_ttl"},
		{"negative rate limit", func(c *Config) { c.Subscribe.PerAddressPerHour = -1 }, "subscribe.per_ip_per_hour"},
		{"tiny import cap", func(c *Config) { c.Subscribe.MaxImportBytes = 10 }, "subscribe.max_import_bytes"},
		{"verp without bounce address", func(c *Config) { c.Sender.VERP = true }, "sender.verp"},
		{"verp with a + address", func(c *Config) { c.Sender.VERP, c.Sender.BounceAddress = true, "b+x@technerdo.com" }, "sender.verp"},
		{"soft limit", func(c *Config) { c.Bounces.SoftLimit = 0 }, "bounces.soft_limit"},
		{"soft window", func(c *Config) { c.Bounces.SoftWindow = 0 }, "bounces.soft_window"},
		{"tiny report cap", func(c *Config) { c.Bounces.MaxMessageBytes = 10 }, "bounces.max_message_bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Defaults()
			tc.modify(&cfg)
			err := cfg.Validate()
			var cerr *Error
			if !errors.As(err, &cerr) || cerr.Key != tc.key {
				t.Fatalf("Validate() = %v, want an error for key %s", err, tc.key)
			}
		})
	}
}

func TestApplyEnv(t *testing.T) {
	env := map[string]string{
		"NEWSLETTER_DATABASE":    "/tmp/x.db",
		"NEWSLETTER_FEEDS":       " https://a.example/feed , ,b.xml",
		EnvSMTPURL:               "smtp://u:p@127.0.0.1:2525?tls=none",
		"NEWSLETTER_OUTBOX":      "/tmp/out",
		"NEWSLETTER_HTTP_ADDR":   ":9999",
		"NEWSLETTER_BASE_URL":    "https://news.example.org",
		EnvSecret:                strings.Repeat("k", 40),
		"NEWSLETTER_ADMIN_TOKEN": "",

		"NEWSLETTER_SCHEDULE_BUILD":    "*/5 * * * *",
		"NEWSLETTER_SCHEDULE_SEND":     "*/10 * * * *",
		"NEWSLETTER_SCHEDULE_TIMEZONE": "America/New_York",
		"NEWSLETTER_REQUIRE_APPROVAL":  "false",
	}
	cfg := Defaults()
	cfg.AdminToken = "from-the-file-0123456789"
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.AdminToken = "from-the-file-0123456789" // empty variable leaves the file's value
	want.Database, want.SMTPURL, want.Outbox, want.HTTPAddr, want.BaseURL = "/tmp/x.db", env[EnvSMTPURL], "/tmp/out", ":9999", "https://news.example.org"
	want.Feeds = []string{"https://a.example/feed", "b.xml"}
	want.Secret = env[EnvSecret]
	want.Schedule.Build, want.Schedule.Send, want.Schedule.TimeZone = "*/5 * * * *", "*/10 * * * *", "America/New_York"
	want.Editorial.RequireApproval = false
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("ApplyEnv:\n got %+v\nwant %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestApplyEnvRejectsBadBool(t *testing.T) {
	cfg := Defaults()
	err := cfg.ApplyEnv(func(k string) string {
		if k == "NEWSLETTER_REQUIRE_APPROVAL" {
			return "sometimes"
		}
		return ""
	})
	var cerr *Error
	if !errors.As(err, &cerr) || cerr.Key != "NEWSLETTER_REQUIRE_APPROVAL" {
		t.Fatalf("want an error naming %s, got %v", "NEWSLETTER_REQUIRE_APPROVAL", err)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte("feeds: [a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("want error naming %s, got %v", p, err)
	}
}

func TestDerived(t *testing.T) {
	cfg := Defaults()
	if got := cfg.MessageIDDomain(); got != "technerdo.com" {
		t.Fatalf("MessageIDDomain = %q", got)
	}
	if cfg.Location().String() != "Europe/Istanbul" {
		t.Fatalf("Location = %v", cfg.Location())
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "0": 0, "10": 10, "10/s": 10, "120/m": 2, "36000/h": 10, " 0.5/s ": 0.5} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"x", "-1/s", "5/d", "NaN"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

// TestSMTPNeedsPublicHTTPSLinks: over SMTP, a base_url that is not https or points at this
// machine is refused, naming base_url and the option that allows it; the outbox keeps the
// loopback default, and sender.allow_insecure_links (or its variable) lets a test relay through.
func TestSMTPNeedsPublicHTTPSLinks(t *testing.T) {
	tests := []struct {
		name, smtp, base string
		allow, ok        bool
	}{
		{"outbox with the default", "", "http://127.0.0.1:8080", false, true},
		{"smtp with the default", "smtp://mail.example.org:587", "http://127.0.0.1:8080", false, false},
		{"smtp over http", "smtp://mail.example.org:587", "http://news.example.org", false, false},
		{"smtp to localhost", "smtp://mail.example.org:587", "https://localhost:8443", false, false},
		{"smtp to a .localhost name", "smtp://mail.example.org:587", "https://news.localhost", false, false},
		{"smtp to ::1", "smtp://mail.example.org:587", "https://[::1]:8443", false, false},
		{"smtp to a mapped loopback", "smtp://mail.example.org:587", "https://[::ffff:127.0.0.2]/", false, false},
		{"smtp to 0.0.0.0", "smtp://mail.example.org:587", "https://0.0.0.0/", false, false},
		{"second relay counts too", "smtp://a.example.org:587,smtp://b.example.org:587", "http://127.0.0.1:8080", false, false},
		{"smtp to a public https URL", "smtp://mail.example.org:587", "https://news.example.org/", false, true},
		{"smtp to a private address over https", "smtp://mail.example.org:587", "https://10.0.0.5/", false, true},
		{"allowed explicitly", "smtp://127.0.0.1:2525?tls=none", "http://127.0.0.1:8080", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Defaults()
			cfg.SMTPURL, cfg.BaseURL, cfg.Sender.AllowInsecureLinks = tc.smtp, tc.base, tc.allow
			err := cfg.Validate()
			if tc.ok {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var cerr *Error
			if !errors.As(err, &cerr) || cerr.Key != "base_url" || !strings.Contains(cerr.Reason, "allow_insecure_links") {
				t.Fatalf("Validate() = %v, want a base_url error naming allow_insecure_links", err)
			}
		})
	}

	cfg := Defaults()
	cfg.SMTPURL = "smtp://127.0.0.1:2525?tls=none"
	if err := cfg.ApplyEnv(func(k string) string { return map[string]string{EnvAllowInsecure: "true"}[k] }); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("%s=true: %v", EnvAllowInsecure, err)
	}
	if err := cfg.ApplyEnv(func(k string) string { return map[string]string{EnvAllowInsecure: "perhaps"}[k] }); err == nil {
		t.Fatalf("%s=perhaps accepted", EnvAllowInsecure)
	}
}

// An explicit "grace: 0" is refused with the key's path rather than read as "no grace" (which
// would miss every send) or silently as the default; leaving the key out gives the default.
func TestScheduleGraceZeroIsRefused(t *testing.T) {
	cfg, err := Parse([]byte("schedule:\n  grace: 0s\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "schedule.grace") || !strings.Contains(err.Error(), "between 1m and 168h") {
		t.Fatalf("Validate() = %v, want schedule.grace refused", err)
	}
	cfg, err = Parse([]byte("schedule:\n  min_stories: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Schedule.Grace != Defaults().Schedule.Grace {
		t.Fatalf("grace left out: %s, want the default %s", cfg.Schedule.Grace, Defaults().Schedule.Grace)
	}
}
