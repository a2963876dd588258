package editorial

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"

	"newsletter/internal/newsletter"
)

// Check is one pre-send test shown red or green on the preview.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// CheckInput is what the checks look at: the issue and the message a sample subscriber gets.
type CheckInput struct {
	Issue         newsletter.Issue
	Message       Message
	PostalAddress string
	Previous      *newsletter.Issue // last week's issue, nil when there is none
}

// Limits of the checks (see notes/email-standards.md §2).
const gmailClipBytes = 102 * 1024 // Gmail clips HTML above about 102 KB, hiding the footer

// Run runs every check.
func Run(in CheckInput) []Check {
	doc, err := html.Parse(strings.NewReader(in.Message.HTML))
	if err != nil {
		return []Check{{Name: "HTML parses", Detail: err.Error()}}
	}
	els := elements(doc)
	return []Check{
		checkSize(in.Message.HTML),
		checkCSS(els),
		checkAlt(els),
		checkAccessibility(els),
		checkLinks(els),
		checkUnsubscribe(els, in.Message),
		checkAddress(in),
		checkSections(els, in.Issue),
		checkSubject(in.Message.Subject),
		diffPrevious(in.Issue, in.Previous),
	}
}

func checkSize(h string) Check {
	n := len(h)
	return Check{Name: "HTML size after inlining", OK: n <= gmailClipBytes,
		Detail: fmt.Sprintf("%.1f KB of Gmail's 102 KB clip limit", float64(n)/1024)}
}

var mediaBlock = regexp.MustCompile(`(?s)@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}`)

// checkCSS finds style rules that were not inlined: anything in <style> outside @media
// (which must stay there) is lost in Gmail apps for non-Google accounts and Outlook.
func checkCSS(els []*html.Node) Check {
	var left []string
	var links int
	for _, n := range els {
		switch {
		case n.Data == "style" && n.FirstChild != nil:
			if rest := strings.TrimSpace(mediaBlock.ReplaceAllString(n.FirstChild.Data, "")); strings.Contains(rest, "{") {
				left = append(left, truncate(rest, 80))
			}
		case n.Data == "link" && strings.EqualFold(attr(n, "rel"), "stylesheet"):
			links++
		}
	}
	return verdict("No leftover non-inlined CSS", len(left) == 0 && links == 0, "only @media rules remain in <style>",
		fmt.Sprintf("%d rule block(s) outside @media, %d stylesheet link(s): %s", len(left), links, strings.Join(left, "; ")))
}

func checkAlt(els []*html.Node) Check {
	var missing []string
	for _, n := range els {
		if n.Data == "img" && strings.TrimSpace(attr(n, "alt")) == "" {
			missing = append(missing, attr(n, "src"))
		}
	}
	return verdict("Every image has alt text", len(missing) == 0, "all images described", "no alt: "+strings.Join(missing, ", "))
}

// checkAccessibility applies the rules the Email Markup Consortium finds broken in most
// newsletters: lang and dir on <html>, layout tables marked role="presentation", an alt
// attribute on every image (empty for decoration), headings from h1 without skipped levels.
func checkAccessibility(els []*html.Node) Check {
	var problems []string
	tables, images, level := 0, 0, 0
	for _, n := range els {
		switch n.Data {
		case "html":
			for _, a := range []string{"lang", "dir"} {
				if strings.TrimSpace(attr(n, a)) == "" {
					problems = append(problems, "no "+a+" on <html>")
				}
			}
		case "table":
			if attr(n, "role") != "presentation" {
				tables++
			}
		case "img":
			if !slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == "alt" }) {
				images++
			}
		case "h1", "h2", "h3", "h4", "h5", "h6":
			l := int(n.Data[1] - '0')
			if l > level+1 {
				problems = append(problems, fmt.Sprintf("<%s> after h%d", n.Data, level))
			}
			level = l
		}
	}
	if tables > 0 {
		problems = append(problems, fmt.Sprintf("%d layout table(s) without role=presentation", tables))
	}
	if images > 0 {
		problems = append(problems, fmt.Sprintf("%d image(s) without an alt attribute", images))
	}
	return verdict("Accessible markup", len(problems) == 0, "lang and dir, layout tables, alt attributes, heading order", strings.Join(problems, "; "))
}

func checkLinks(els []*html.Node) Check {
	var bad []string
	for _, n := range els {
		if h := attr(n, "href"); n.Data == "a" && !httpURL(h) && !mailtoURL(h) && !slices.Contains(bad, fmt.Sprintf("%q", h)) {
			bad = append(bad, fmt.Sprintf("%q", h))
		}
	}
	return verdict("Links are absolute http(s) or mailto:", len(bad) == 0, "every link is absolute",
		"not absolute http(s) or mailto: with an address: "+strings.Join(bad, ", "))
}

// mailtoURL accepts mailto: with one or more addresses (RFC 6068), query or not.
func mailtoURL(s string) bool {
	if len(s) < 7 || !strings.EqualFold(s[:7], "mailto:") {
		return false
	}
	to, _, _ := strings.Cut(s[7:], "?")
	to, err := url.PathUnescape(to)
	if err != nil || to == "" {
		return false
	}
	_, err = mail.ParseAddressList(to)
	return err == nil
}

func checkUnsubscribe(els []*html.Node, m Message) Check {
	found := m.UnsubscribeURL != "" && slices.ContainsFunc(els, func(n *html.Node) bool {
		return n.Data == "a" && attr(n, "href") == m.UnsubscribeURL
	})
	inText := m.UnsubscribeURL != "" && strings.Contains(m.Text, m.UnsubscribeURL)
	return verdict("Unsubscribe link", found && inText, "in the HTML and the plain text", fmt.Sprintf("working unsubscribe link: HTML %v, text %v", found, inText))
}

func checkAddress(in CheckInput) Check {
	var missing []string
	for _, line := range strings.Split(in.PostalAddress, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if !strings.Contains(html.UnescapeString(in.Message.HTML), line) || !strings.Contains(in.Message.Text, line) {
			missing = append(missing, line)
		}
	}
	return verdict("Postal address", in.PostalAddress != "" && len(missing) == 0, "in the HTML and the plain text", "missing: "+strings.Join(missing, " / "))
}

// checkSections counts the stories under each section heading of the rendered HTML.
func checkSections(els []*html.Node, is newsletter.Issue) Check {
	var empty []string
	current, count := "", 0
	flush := func() {
		if current != "" && count == 0 {
			empty = append(empty, current)
		}
	}
	for _, n := range els {
		cls := " " + attr(n, "class") + " "
		switch {
		case n.Data != "td":
		case strings.Contains(cls, " section-head "):
			flush()
			current, count = strings.TrimSpace(text(n)), 0
		case strings.Contains(cls, " story "):
			count++
		}
	}
	flush()
	return verdict("No empty sections", len(empty) == 0 && len(is.Stories) > 0, fmt.Sprintf("%d stories", len(is.Stories)),
		fmt.Sprintf("%d stories; empty: %s", len(is.Stories), strings.Join(empty, ", ")))
}

func checkSubject(s string) Check {
	n := utf8.RuneCountInString(s)
	return Check{Name: "Subject length", OK: n > 0 && n <= newsletter.SubjectShown,
		Detail: fmt.Sprintf("%d characters (inboxes show about %d)", n, newsletter.SubjectShown)}
}

// diffPrevious compares with last week's issue; it informs and never fails.
func diffPrevious(is newsletter.Issue, prev *newsletter.Issue) Check {
	c := Check{Name: "Compared with last week", OK: true}
	if prev == nil {
		c.Detail = "no earlier issue"
		return c
	}
	var parts []string
	if prev.Subject != is.Subject {
		parts = append(parts, fmt.Sprintf("subject %q → %q", prev.Subject, is.Subject))
	}
	was := map[string]bool{}
	for _, s := range prev.Stories {
		was[s.URL] = true
	}
	added, kept := 0, 0
	for _, s := range is.Stories {
		if was[s.URL] {
			kept++
		} else {
			added++
		}
	}
	parts = append(parts, fmt.Sprintf("issue %s had %d stories; this one has %d (%d new, %d removed)",
		prev.Week, len(prev.Stories), len(is.Stories), added, len(prev.Stories)-kept))
	c.Detail = strings.Join(parts, "; ")
	return c
}

// verdict is a check that passed with pass as its detail, or failed with fail.
func verdict(name string, ok bool, pass, fail string) Check {
	if ok {
		return Check{Name: name, OK: true, Detail: pass}
	}
	return Check{Name: name, Detail: fail}
}

// elements lists doc's elements in document order, so that the checks walk the tree once.
func elements(doc *html.Node) []*html.Node {
	var els []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode {
			els = append(els, n)
		}
	})
	return els
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
