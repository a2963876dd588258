package render

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"newsletter/internal/browsertest"
	"newsletter/internal/feed"
	"newsletter/internal/newsletter"
)

// inboxIssues are the two issues the inbox tests render: the sample feed the product ships
// with, and testdata/harsh-feed.xml (long words and URLs, CJK, emoji, RTL, tables, code,
// lists; 12 stories).
func inboxIssues(t testing.TB) map[string]newsletter.Issue {
	t.Helper()
	return map[string]newsletter.Issue{
		"sample": feedIssue(t, filepath.Join("..", "..", "data", "sample-feed.xml")),
		"harsh":  feedIssue(t, filepath.Join("testdata", "harsh-feed.xml")),
	}
}

// inboxPublication is the golden publication with an archive, so that the email carries
// its "View in browser" line.
func inboxPublication() Publication {
	pub := technerdo()
	pub.ArchiveURL = "https://news.technerdo.com/issues"
	return pub
}

// feedIssue parses a feed file with the real parser and makes an issue of its first 12 stories.
func feedIssue(t testing.TB, path string) newsletter.Issue {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := feed.Parse(f, nil)
	stories := res.Stories
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(stories) > 12 {
		stories = stories[:12]
	}
	return newsletter.Issue{
		ID:        1,
		Week:      newsletter.Week{Year: 2026, Num: 19},
		Stories:   stories,
		Intro:     "A note with a link to [the archive](https://technerdo.com/archive) and a very long address: https://technerdo.com/" + strings.Repeat("long-path-segment/", 12),
		CreatedAt: day(time.May, 4, 6),
	}
}

// writeArtifact keeps a rendered file under $TEST_ARTIFACTS/inbox when set (CI keeps it).
func writeArtifact(t *testing.T, name string, data []byte) {
	t.Helper()
	dir := os.Getenv("TEST_ARTIFACTS")
	if dir == "" {
		return
	}
	dir = filepath.Join(dir, "inbox")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAccessibleMarkup checks the rules of the Email Markup Consortium's report on the sample
// and the harsh issue: lang and dir on <html>, every layout table role="presentation", every
// image an alt attribute, headings that never skip a level and start at h1.
func TestAccessibleMarkup(t *testing.T) {
	rtl := technerdo()
	rtl.Language = "ar"
	for name, issue := range inboxIssues(t) {
		for _, pub := range []Publication{technerdo(), rtl} {
			t.Run(name+"-"+pub.Language, func(t *testing.T) {
				if pub.Language == "" {
					pub.Language = "en"
				}
				e := mustIssue(t, mustNew(t, pub, ""), issue)
				doc, err := html.Parse(strings.NewReader(e.HTML))
				if err != nil {
					t.Fatal(err)
				}
				wantDir := map[string]string{"en": "ltr", "ar": "rtl"}[pub.Language]
				level, images := 0, 0
				for n := range doc.Descendants() {
					if n.Type != html.ElementNode {
						continue
					}
					attrs := map[string]string{}
					for _, a := range n.Attr {
						attrs[a.Key] = a.Val
					}
					_, hasAlt := attrs["alt"]
					switch n.Data {
					case "html":
						if attrs["lang"] != pub.Language || attrs["dir"] != wantDir {
							t.Errorf("<html lang=%q dir=%q>, want lang=%q dir=%q", attrs["lang"], attrs["dir"], pub.Language, wantDir)
						}
					case "table":
						if attrs["role"] != "presentation" {
							t.Errorf("layout table without role=presentation: %v", n.Attr)
						}
					case "img":
						images++
						if !hasAlt {
							t.Errorf("img %q has no alt attribute", attrs["src"])
						}
					case "h1", "h2", "h3", "h4", "h5", "h6":
						l := int(n.Data[1] - '0')
						if l > level+1 {
							t.Errorf("<%s> follows h%d: heading levels skip", n.Data, level)
						}
						level = l
					}
				}
				if level == 0 {
					t.Error("no headings at all")
				}
				t.Logf("%s: %d images, HTML %d bytes", name, images, len(e.HTML))
			})
		}
	}
}

// chromium finds Debian's chromium (.ci/run installs it).
// inspectJS measures the page: its width, and every piece of visible text (an element's own
// text, or the alt text of an image that did not load) whose contrast with the background
// behind it is under 4.5:1 (WCAG 2 AA for body text).
const inspectJS = `(() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => { for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0) return c; }
    return parse(getComputedStyle(document.documentElement).backgroundColor) || {r: 255, g: 255, b: 255, a: 1}; };
  const low = [];
  for (const el of document.body.querySelectorAll('*')) {
    const st = getComputedStyle(el);
    if (el.getClientRects().length === 0 || st.visibility === 'hidden' || parseFloat(st.opacity) === 0 || el.closest('.preheader')) continue;
    let text = '';
    if (el.tagName === 'IMG') { if (el.naturalWidth > 0 || !el.alt) continue; text = 'alt: ' + el.alt; }
    else for (const n of el.childNodes) if (n.nodeType === 3) text += n.textContent;
    text = text.trim(); if (!text) continue;
    const fg = parse(st.color), bg = background(el);
    const l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    if (ratio < 4.5) low.push(el.tagName.toLowerCase() + '.' + el.className + ' "' + text.slice(0, 40) + '" ' + st.color + ' on rgb(' + bg.r + ', ' + bg.g + ', ' + bg.b + ') ' + ratio.toFixed(2) + ':1');
  }
  // When the page is too wide, name the cells (below the wrapper) whose hiding brings it back.
  const wide = [];
  if (document.documentElement.scrollWidth > window.innerWidth)
    for (const td of document.body.querySelectorAll('td')) {
      const d = td.style.display; td.style.display = 'none';
      const fits = document.documentElement.scrollWidth <= window.innerWidth;
      td.style.display = d;
      if (fits && !td.querySelector('td.footer')) wide.push('td.' + td.className + ' "' + td.textContent.trim().slice(0, 50) + '"');
    }
  return JSON.stringify({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, low: low, wide: wide});
})()`

// TestInboxInBrowser opens the sample and the harsh issue in headless chromium at a phone's
// width (375 px) and the email's (600 px), in light and dark mode, with every image blocked
// (as a client that does not load images shows it): nothing may widen the page past the
// viewport, and every text and alt text must keep 4.5:1 contrast.
func TestInboxInBrowser(t *testing.T) {
	bctx := browsertest.Start(t)
	axe := browsertest.AxeScript(t)
	pages := map[string]string{}
	for name, issue := range inboxIssues(t) {
		e := mustIssue(t, mustNew(t, inboxPublication(), ""), issue)
		pages["/"+name] = e.HTML
		writeArtifact(t, name+".html", []byte(e.HTML))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	defer srv.Close()

	// Only the test server answers: images and anything else elsewhere are blocked, which is
	// also how a client with images off shows the email.
	if _, err := chromedp.Call(bctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{
		{URLPattern: srv.URL + "/*", Block: false},
		{URLPattern: "*://*:*/*", Block: true},
	}}); err != nil {
		t.Fatalf("block URLs: %v", err)
	}

	for _, name := range []string{"sample", "harsh"} {
		for _, width := range []int64{375, 600} {
			for _, scheme := range []string{"light", "dark"} {
				t.Run(fmt.Sprintf("%s-%d-%s", name, width, scheme), func(t *testing.T) {
					tctx, cancel := context.WithTimeout(bctx, 30*time.Second)
					defer cancel()
					if _, err := chromedp.Call(tctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
						Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
						t.Fatal(err)
					}
					if err := chromedp.Do(tctx, chromedp.EmulateViewport(width, 800), chromedp.Navigate(srv.URL+"/"+name),
						chromedp.WaitVisible(chromedp.CSS("td.footer"))); err != nil {
						t.Fatalf("load: %v", err)
					}
					raw, err := chromedp.Run(tctx, chromedp.Evaluate[string](inspectJS))
					if err != nil {
						t.Fatal(err)
					}
					var got struct {
						ScrollWidth, InnerWidth int
						Low, Wide               []string
					}
					if err := json.Unmarshal([]byte(raw), &got); err != nil {
						t.Fatal(err)
					}
					t.Logf("%s at %d px, %s: scrollWidth %d, innerWidth %d", name, width, scheme, got.ScrollWidth, got.InnerWidth)
					if got.ScrollWidth > got.InnerWidth {
						t.Errorf("the email is %d px wide in a %d px viewport; widened by %q", got.ScrollWidth, got.InnerWidth, got.Wide)
					}
					for _, l := range got.Low {
						t.Errorf("contrast under 4.5:1: %s", l)
					}
					if axe != "" {
						browsertest.CheckAxe(t, tctx, axe)
					}
					if shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(100)); err == nil {
						writeArtifact(t, fmt.Sprintf("%s-%d-%s.png", name, width, scheme), shot)
					}
				})
			}
		}
	}
}

func TestSoft(t *testing.T) {
	const zw = "\u200b"
	tests := []struct{ name, in, want string }{
		{"short words untouched", "GPT-5.5 is out, e.g. today.", "GPT-5.5 is out, e.g. today."},
		{"long word every 20 letters", strings.Repeat("a", 45), strings.Repeat("a", 20) + zw + strings.Repeat("a", 20) + zw + "aaaaa"},
		{"URL after punctuation", "see https://example.org/a-long/path now", "see https:" + zw + "//" + zw + "example." + zw + "org/" + zw + "a-" + zw + "long/" + zw + "path now"},
		{"emoji sequences never split", strings.Repeat("👨‍👩‍👧‍👦", 8), strings.Repeat("👨‍👩‍👧‍👦", 8)},
		{"combining marks stay on their letter", strings.Repeat("ي\u0651", 30), strings.Repeat("ي\u0651", 30)},
		{"spacing kept", "a  b\tc", "a  b\tc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := soft(tc.in); got != tc.want {
				t.Errorf("soft(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := strings.ReplaceAll(soft(tc.in), zw, ""); got != tc.in {
				t.Errorf("soft changed the visible text: %q", got)
			}
		})
	}
}

func TestTextDirection(t *testing.T) {
	for lang, want := range map[string]string{"en": "ltr", "ar": "rtl", "he-IL": "rtl", "FA": "rtl", "tr": "ltr", "zh-Hant": "ltr", "": "ltr"} {
		if got := textDirection(lang); got != want {
			t.Errorf("textDirection(%q) = %q, want %q", lang, got, want)
		}
	}
	for text, want := range map[string]string{"الذكاء الاصطناعي": "rtl", "2026: מודל": "rtl", "GPT-5.5 في": "ltr", "🚀 123": "", "東京": "ltr"} {
		if got := strongDirection(text); got != want {
			t.Errorf("strongDirection(%q) = %q, want %q", text, got, want)
		}
	}
	// In an English issue only the right-to-left stories carry dir.
	e := mustIssue(t, mustNew(t, technerdo(), ""), feedIssue(t, filepath.Join("testdata", "harsh-feed.xml")))
	if n := strings.Count(e.HTML, `dir="rtl"`); n != 2 {
		t.Errorf(`%d elements with dir="rtl" in the harsh issue, want its 2 right-to-left stories`, n)
	}
}

// TestAccentOnDarkIsReadable: whatever accent the operator picks, links and kickers in dark
// mode keep 4.5:1 on the dark surface.
func TestAccentOnDarkIsReadable(t *testing.T) {
	for _, accent := range []string{"#c8102e", "#00008b", "#000000", "#1a73e8", "#ffcc00", "#7b1fa2"} {
		got := onDark(accent)
		if c := contrast(got, darkSurface); c < 4.5 {
			t.Errorf("accent %s on dark: %s has contrast %.2f:1", accent, got, c)
		}
	}
}

func TestIntroHeadingsDoNotOutrankTheLead(t *testing.T) {
	issue := goldenIssue()
	issue.Intro = "# A big heading\n\nText.\n\n### A small one\n\nMore."
	e := mustIssue(t, mustNew(t, technerdo(), ""), issue)
	if n := strings.Count(e.HTML, "<h1"); n != 1 {
		t.Errorf("%d h1 elements, want only the lead's", n)
	}
	if !strings.Contains(e.HTML, "<strong>A big heading</strong>") || strings.Contains(e.HTML, "<h3>A small one") {
		t.Error("the intro's headings are not bold paragraphs")
	}
}

func FuzzSoft(f *testing.F) {
	for _, s := range []string{"https://example.org/" + strings.Repeat("a-b/", 20), strings.Repeat("👨‍👩‍👧‍👦", 9), "東京の新しいデータセンター、年内に稼働へ人工知能の需要に対応", "a  b\t" + strings.Repeat("x", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, '\u200b') || !utf8.ValidString(s) {
			return
		}
		got := soft(s)
		if strings.ReplaceAll(got, "\u200b", "") != s {
			t.Fatalf("soft(%q) changed the text: %q", s, got)
		}
		run := 0
		for _, r := range got {
			switch {
			case r == '\u200b' || unicode.IsSpace(r):
				run = 0
			case isLetterOrDigit(r):
				run++
			default:
				run = 0 // symbols and marks may hold a run together; only letters are bounded
			}
			if run > 2*softRun {
				t.Fatalf("soft(%q) leaves %d letters without a break", s, run)
			}
		}
	})
}
