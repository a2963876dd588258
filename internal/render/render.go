// Package render turns an issue into the email every subscriber receives: HTML with its CSS inlined
// and a plain-text alternative, rendered once per issue, with per-recipient placeholders filled in cheaply.
package render

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/vanng822/go-premailer/premailer"

	"newsletter/internal/newsletter"
	"newsletter/templates"
)

// Publication is the publication's identity (newsletter.Publication; an empty AccentColor
// takes DefaultAccentColor, an empty WhyText is derived from Name and WebsiteURL) with what
// rendering adds: the time zone of printed dates and the archive link.
type Publication struct {
	newsletter.Publication
	TimeZone *time.Location // for printed dates; nil = UTC
	// ArchiveURL is the public archive ("https://news.example.org/issues"); each issue links to
	// ARCHIVE_URL/WEEK as "View in browser". Empty: no link.
	ArchiveURL string
}

// DefaultAccentColor is the accent used when Publication.AccentColor is empty: an editorial red.
const DefaultAccentColor = "#c8102e"

// Placeholders substituted per recipient after inlining (characters HTML never escapes).
const (
	PlaceholderUnsubscribeURL = "__NL_UNSUBSCRIBE_URL__"
	PlaceholderEmail          = "__NL_RECIPIENT_EMAIL__"
)

// placeholderPrefix starts every placeholder; Personalize scans for it.
const placeholderPrefix = "__NL_"

// The entry points of the two template sets; every other file is a partial they call by file name.
const (
	htmlEntry = "digest.html.tmpl"
	textEntry = "digest.txt.tmpl"
)

// clipWarnBytes is where Issue starts warning: Gmail clips HTML over about 102 KB, which would hide
// the footer with the unsubscribe link and postal address.
const clipWarnBytes = 90 * 1024

// ErrNoStories is returned (wrapped) by Issue for an issue without stories.
var ErrNoStories = errors.New("issue has no stories")

var hexColor = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// Renderer renders issues for one publication. It is safe for concurrent use.
type Renderer struct {
	pub  Publication
	html *htmltemplate.Template
	text *texttemplate.Template
}

// New parses the embedded templates (templates.Email), each replaced by any same-named file in
// overrideDir (empty = none; other files there are ignored). A template that fails to parse is an error
// naming the file and line. New also renders a small built-in sample issue, so that execution errors
// (an unknown field, say) surface at start rather than at send time.
func New(pub Publication, overrideDir string) (*Renderer, error) {
	pub, err := normalize(pub)
	if err != nil {
		return nil, err
	}
	r := &Renderer{
		pub:  pub,
		html: htmltemplate.New("").Funcs(htmlFuncs()),
		text: texttemplate.New("").Funcs(textFuncs()),
	}
	if err := r.parse(overrideDir); err != nil {
		return nil, err
	}
	if r.html.Lookup(htmlEntry) == nil || r.text.Lookup(textEntry) == nil {
		return nil, fmt.Errorf("render: templates %s and %s are both required", htmlEntry, textEntry)
	}
	if _, err := r.render(sampleIssue()); err != nil {
		return nil, fmt.Errorf("render: templates fail on a sample issue: %w", err)
	}
	return r, nil
}

// normalize applies defaults and rejects a publication that cannot produce a lawful, working email.
func normalize(pub Publication) (Publication, error) {
	pub.Name = oneLine(pub.Name)
	if pub.Name == "" {
		return pub, errors.New("render: publication name is required")
	}
	if strings.TrimSpace(pub.PostalAddress) == "" {
		return pub, errors.New("render: publication postal address is required (CAN-SPAM)")
	}
	if !isHTTPURL(pub.WebsiteURL) {
		return pub, fmt.Errorf("render: publication website URL %q: want an absolute http(s) URL", pub.WebsiteURL)
	}
	if pub.LogoURL != "" && !isHTTPURL(pub.LogoURL) {
		return pub, fmt.Errorf("render: publication logo URL %q: want an absolute http(s) URL", pub.LogoURL)
	}
	pub.AccentColor = cmp.Or(pub.AccentColor, DefaultAccentColor)
	if !hexColor.MatchString(pub.AccentColor) {
		return pub, fmt.Errorf("render: publication accent colour %q: want #rgb or #rrggbb", pub.AccentColor)
	}
	pub.AccentColor = strings.ToLower(pub.AccentColor)
	pub.Language = cmp.Or(pub.Language, "en")
	if pub.WhyText == "" {
		pub.WhyText = fmt.Sprintf("You get this because you subscribed to %s at %s.", pub.Name, siteHost(pub.WebsiteURL))
	}
	pub.ArchiveURL = strings.TrimRight(pub.ArchiveURL, "/")
	if pub.ArchiveURL != "" && !isHTTPURL(pub.ArchiveURL) {
		return pub, fmt.Errorf("render: archive URL %q: want an absolute http(s) URL", pub.ArchiveURL)
	}
	pub.TimeZone = cmp.Or(pub.TimeZone, time.UTC)
	return pub, nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// siteHost is the website as people say it: "technerdo.com".
func siteHost(website string) string {
	u, err := url.Parse(website)
	if err != nil {
		return website
	}
	return strings.TrimPrefix(u.Hostname(), "www.")
}

// parse parses the embedded email templates in name order, each replaced by its override.
func (r *Renderer) parse(overrideDir string) error {
	if overrideDir != "" {
		st, err := os.Stat(overrideDir)
		if err != nil {
			return fmt.Errorf("render: template override directory: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("render: template override directory %s is not a directory", overrideDir)
		}
	}
	names, err := fs.Glob(templates.Email, "email/*.tmpl")
	if err != nil {
		return fmt.Errorf("render: embedded templates: %w", err)
	}
	for _, name := range names {
		source, base := path.Join("templates", name), path.Base(name)
		body, err := fs.ReadFile(templates.Email, name)
		if err != nil {
			return fmt.Errorf("render: embedded template %s: %w", base, err)
		}
		if overrideDir != "" {
			p := filepath.Join(overrideDir, base)
			switch b, err := os.ReadFile(p); {
			case err == nil:
				source, body = p, b
			case !errors.Is(err, fs.ErrNotExist):
				return fmt.Errorf("render: template override: %w", err)
			}
		}
		switch {
		case strings.HasSuffix(base, ".html.tmpl"):
			_, err = r.html.New(base).Parse(string(body))
		case strings.HasSuffix(base, ".txt.tmpl"):
			_, err = r.text.New(base).Parse(string(body))
		}
		if err != nil {
			// Parse errors read "template: NAME:LINE: ..."; the prefix says which copy, embedded or override.
			return fmt.Errorf("render: parse %s: %w", source, err)
		}
	}
	return nil
}

// Email is one rendered issue, shared by all recipients.
type Email struct {
	Subject   string   // no CR/LF
	Preheader string   // the inbox preview line, hidden at the top of the HTML
	HTML      string   // CSS inlined, with placeholders
	Text      string   // plain text, with placeholders
	Warnings  []string // e.g. "HTML is 93 KB after inlining; Gmail clips messages over 102 KB"
}

// Issue renders an issue. It is deterministic: the same issue gives byte-identical output.
// Subject is issue.Subject if set, else "<Name>: <top story title>" (the top story is the first).
// Preheader is issue.Preheader if set, else built from the titles of the stories after the top one.
func (r *Renderer) Issue(issue newsletter.Issue) (Email, error) {
	e, err := r.render(issue)
	if err != nil {
		return Email{}, fmt.Errorf("render: issue %s: %w", issueName(issue), err)
	}
	return e, nil
}

func (r *Renderer) render(issue newsletter.Issue) (Email, error) {
	if len(issue.Stories) == 0 {
		return Email{}, ErrNoStories
	}
	data, warnings, err := r.data(issue)
	if err != nil {
		return Email{}, err
	}

	var buf bytes.Buffer
	if err := r.html.ExecuteTemplate(&buf, htmlEntry, data); err != nil {
		return Email{}, err
	}
	// One Premailer per issue: it inlines the <style> rules and keeps @media rules in a new <style>.
	pm, err := premailer.NewPremailerFromString(buf.String(), premailer.NewOptions())
	if err != nil {
		return Email{}, fmt.Errorf("inline css: %w", err)
	}
	html, err := pm.Transform()
	if err != nil {
		return Email{}, fmt.Errorf("inline css: %w", err)
	}

	buf.Reset()
	if err := r.text.ExecuteTemplate(&buf, textEntry, data); err != nil {
		return Email{}, err
	}

	if n := len(html); n > clipWarnBytes {
		warnings = append(warnings, fmt.Sprintf("HTML is %d KB after inlining; Gmail clips messages over 102 KB", (n+1023)/1024))
	}
	return Email{
		Subject:   data.Subject,
		Preheader: data.Preheader,
		HTML:      html,
		Text:      buf.String(),
		Warnings:  warnings,
	}, nil
}

func issueName(issue newsletter.Issue) string {
	if !issue.Week.IsZero() {
		return issue.Week.String()
	}
	return fmt.Sprintf("#%d", issue.ID)
}
