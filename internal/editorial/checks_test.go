package editorial

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"newsletter/internal/newsletter"
	"newsletter/internal/render"
)

func TestCheckLinks(t *testing.T) {
	tests := []struct {
		name, href string
		ok         bool
	}{
		{"https", "https://technerdo.com/a", true},
		{"mailto", "mailto:editors@technerdo.com", true},
		{"mailto with subject", "MAILTO:editors@technerdo.com?subject=Hi%20there", true},
		{"mailto to two", "mailto:a@technerdo.com,b@technerdo.com", true},
		{"mailto without address", "mailto:", false},
		{"mailto garbage", "mailto:not an address", false},
		{"empty", "", false},
		{"relative", "/issues", false},
		{"javascript", "javascript:alert(1)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader(`<p><a href="` + tc.href + `">x</a></p>`))
			if err != nil {
				t.Fatal(err)
			}
			if c := checkLinks(elements(doc)); c.OK != tc.ok {
				t.Errorf("checkLinks(%q).OK = %v, want %v (%s)", tc.href, c.OK, tc.ok, c.Detail)
			}
		})
	}
}

func TestCheckLinksNamesEachBadLinkOnce(t *testing.T) {
	doc, err := html.Parse(strings.NewReader(`<p><a href="/a">x</a> <a href="/a">y</a> <a href="/b">z</a></p>`))
	if err != nil {
		t.Fatal(err)
	}
	c := checkLinks(elements(doc))
	if c.OK || strings.Count(c.Detail, `"/a"`) != 1 || !strings.Contains(c.Detail, `"/b"`) {
		t.Errorf("checkLinks detail = %q, want \"/a\" once and \"/b\"", c.Detail)
	}
}

func TestCheckAccessibility(t *testing.T) {
	const good = `<html lang="en" dir="ltr"><body><table role="presentation"><tr><td><img src="a" alt=""><h1>A</h1><h2>B</h2><h3>C</h3><h2>D</h2></td></tr></table></body></html>`
	tests := []struct {
		name, html, want string
	}{
		{"good", good, ""},
		{"no lang or dir", strings.Replace(good, ` lang="en" dir="ltr"`, "", 1), "no lang on <html>; no dir on <html>"},
		{"layout table", strings.Replace(good, ` role="presentation"`, "", 1), "1 layout table(s) without role=presentation"},
		{"image without alt", strings.Replace(good, ` alt=""`, "", 1), "1 image(s) without an alt attribute"},
		{"skipped level", strings.Replace(good, "<h2>B</h2>", "", 1), "<h3> after h1"},
		{"no h1 first", strings.Replace(good, "<h1>A</h1>", "", 1), "<h2> after h0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader(tc.html))
			if err != nil {
				t.Fatal(err)
			}
			c := checkAccessibility(elements(doc))
			if c.OK != (tc.want == "") || (tc.want != "" && c.Detail != tc.want) {
				t.Errorf("OK %v, detail %q; want %q", c.OK, c.Detail, tc.want)
			}
		})
	}
}

// TestRenderedEmailIsAccessible: what render produces passes the check the editors see.
func TestRenderedEmailIsAccessible(t *testing.T) {
	r, err := render.New(render.Publication{Publication: newsletter.Publication{Name: "The Weekly", WebsiteURL: "https://example.org", PostalAddress: "1 Main St", Language: "he"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	stories := []newsletter.Story{
		{URL: "https://example.org/a", Title: "Lead", Summary: "Dek.", ImageURL: "https://example.org/a.jpg", Section: "News"},
		{URL: "https://example.org/b", Title: "Second", ImageURL: "https://example.org/b.jpg", Section: "Tools"},
		{URL: "https://example.org/c", Title: "Third"},
	}
	e, err := r.Issue(newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, Stories: stories, GroupBySection: true, Intro: "# Hello\n\nA note."})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(e.HTML))
	if err != nil {
		t.Fatal(err)
	}
	if c := checkAccessibility(elements(doc)); !c.OK {
		t.Errorf("rendered email: %s", c.Detail)
	}
}
