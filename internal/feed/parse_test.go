package feed

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"newsletter/internal/newsletter"
)

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// compareStories reports every field that differs, so a failure reads as a list of
// small differences rather than two walls of struct.
func compareStories(t *testing.T, got, want []newsletter.Story) {
	t.Helper()
	if len(got) != len(want) {
		titles := make([]string, len(got))
		for i, s := range got {
			titles[i] = s.Title
		}
		t.Fatalf("got %d stories %q, want %d", len(got), titles, len(want))
	}
	for i := range want {
		g, w := reflect.ValueOf(got[i]), reflect.ValueOf(want[i])
		for f := 0; f < g.NumField(); f++ {
			if !reflect.DeepEqual(g.Field(f).Interface(), w.Field(f).Interface()) {
				t.Errorf("story %d %s:\n got %#v\nwant %#v", i, g.Type().Field(f).Name, g.Field(f).Interface(), w.Field(f).Interface())
			}
		}
	}
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParse(t *testing.T) {
	hugeTitle := "Breaking:" + strings.Repeat(" Everything You Know About Passkeys Is Wrong", 4) + " Everything…"

	tests := []struct {
		file      string
		base      string
		wantTitle string
		want      []newsletter.Story
	}{
		{
			file:      "rss.xml",
			wantTitle: "StackPulse & Friends",
			want: []newsletter.Story{{
				GUID:    "stackpulse-4512",
				URL:     "https://stackpulse.example/2026/04/postgres-18-async-io?ref=home",
				Title:   "Postgres 18 Ships Async I/O: What It Means for Your Queries",
				Summary: "The new io_method setting lets sequential scans and vacuum overlap reads with work. Our benchmarks show where it helps — and where it doesn’t.",
				ContentHTML: "<p>PostgreSQL 18 is out, and the headline feature is an asynchronous I/O subsystem that finally lets the database issue reads ahead of the executor instead of waiting on each block.</p>\n" +
					`<figure><img src="https://stackpulse.example/images/pg18-bench.png" alt="Benchmark chart: seq scan throughput" width="800" height="450"/><figcaption>Sequential scans on a 200 GB table, io_uring vs. sync.</figcaption></figure>` + "\n" +
					"<p>On our test box, cold sequential scans finished 2.1× faster with <code>io_method = io_uring</code>. Index lookups barely moved, which is what you would expect: they were never limited by read-ahead.</p>\n" +
					`<p>Read the <a href="https://stackpulse.example/docs/pg18-upgrade-notes" rel="noopener">upgrade notes</a> before you flip the switch in production.</p>`,
				Author:      "Dana Whitfield",
				Section:     "Databases",
				Categories:  []string{"Databases", "Open Source"},
				ImageURL:    "https://cdn.stackpulse.example/img/pg18-hero.jpg",
				ImageAlt:    "An elephant made of server racks",
				ReadMinutes: 1,
				Published:   date("2026-04-28T14:30:00Z"),
			}, {
				GUID:        "https://stackpulse.example/2026/04/k8s-1-36?page=2",
				URL:         "https://stackpulse.example/2026/04/k8s-1-36?page=2",
				Title:       "Kubernetes 1.36 Drops the Last In-Tree Cloud Provider",
				Summary:     "The migration that started in 2019 is done. If you still run the in-tree AWS or Azure code, 1.36 is where upgrades stop working.",
				ContentHTML: "The migration that started in 2019 is done. If you still run the in-tree AWS or Azure code, 1.36 is where upgrades stop working.",
				Author:      "Priya Raman",
				Section:     "Cloud",
				Categories:  []string{"Cloud"},
				ImageURL:    "https://cdn.stackpulse.example/img/k8s-136.jpg",
				ImageAlt:    "Kubernetes 1.36 Drops the Last In-Tree Cloud Provider",
				ReadMinutes: 0, // a teaser only: no reading time
				Published:   date("2026-04-27T13:00:00Z"),
			}, {
				GUID:        "https://stackpulse.example/?p=4490",
				URL:         "https://stackpulse.example/2026/04/sqlite-26-features",
				Title:       "SQLite Turns 26: Five Features You Probably Missed",
				Summary:     "STRICT tables, generated columns, RETURNING, JSONB and the unixepoch() function all arrived quietly.",
				ContentHTML: `<p>STRICT tables, generated columns, <code>RETURNING</code>, JSONB and the <em>unixepoch()</em> function all arrived quietly.</p><p><img src="https://cdn.stackpulse.example/img/sqlite-feather.png" alt="The SQLite feather logo"/></p>`,
				Author:      "Marco Bellini",
				Section:     "Databases",
				Categories:  []string{"Databases"},
				ImageURL:    "https://cdn.stackpulse.example/img/sqlite-feather.png",
				ImageAlt:    "The SQLite feather logo",
				ReadMinutes: 1,
				Published:   date("2026-04-25T18:45:00Z"),
			}},
		},
		{
			file:      "atom.xml",
			wantTitle: "Latency Lab",
			want: []newsletter.Story{{
				GUID:        "tag:blog.latencylab.example,2026:post-118",
				URL:         "https://blog.latencylab.example/posts/coordinated-omission",
				Title:       "Why Your p99 Lies: Coordinated Omission in Load Tests",
				Summary:     "Most load generators wait for a slow response before sending the next request, and quietly hide the very latency you are trying to measure.",
				ContentHTML: `<p>If your load tester sends request <em>n+1</em> only after request <em>n</em> returns, a 2-second stall counts as one slow sample instead of hundreds.</p><p>See <a href="https://blog.latencylab.example/posts/hdrhistogram-primer" rel="noopener">our HdrHistogram primer</a>.</p>`,
				Author:      "Hana Kobayashi, Leo Marsh",
				Section:     "Performance",
				Categories:  []string{"Performance", "testing"},
				ImageURL:    "https://blog.latencylab.example/img/co-histogram.png",
				ImageAlt:    "Why Your p99 Lies: Coordinated Omission in Load Tests",
				ReadMinutes: 1,
				Published:   date("2026-04-29T14:20:00Z"),
			}, {
				GUID:        "tag:blog.latencylab.example,2026:post-117",
				URL:         "https://blog.latencylab.example/posts/continuous-pprof",
				Title:       "Profiling Go Services With Continuous pprof",
				Summary:     "Sampling profiles every minute costs under 1% CPU and answers what changed? after every deploy.",
				ContentHTML: "<p>Sampling profiles every minute costs under 1% CPU and answers what changed? after every deploy.</p>",
				Author:      "Latency Lab Team",           // inherited from the feed
				ReadMinutes: 0,                            // a teaser only: no reading time
				Published:   date("2026-04-27T08:00:00Z"), // only <updated>
			}},
		},
		{
			file:      "feed.json",
			wantTitle: "Pocket Silicon",
			want: []newsletter.Story{{
				GUID:        "https://pocketsilicon.example/reviews/pixel-11-pro",
				URL:         "https://pocketsilicon.example/reviews/pixel-11-pro",
				Title:       "Pixel 11 Pro Review: The Best Camera Is the One That Stopped Overthinking",
				Summary:     "Google toned down its HDR processing, and the photos finally look like what you saw.",
				ContentHTML: `<p>Google&#39;s Tensor G6 is cooler and quicker than last year&#39;s chip, but the story here is restraint: skies stay blue, shadows stay dark.</p><p><img src="https://pocketsilicon.example/media/pixel11-sample.jpg" alt="Night shot of a harbour"/></p>`,
				Author:      "Jordan Ellis",
				Section:     "Phones",
				Categories:  []string{"Phones", "Reviews", "Google"},
				ImageURL:    "https://pocketsilicon.example/media/pixel11-hero.jpg",
				ImageAlt:    "Pixel 11 Pro Review: The Best Camera Is the One That Stopped Overthinking",
				ReadMinutes: 1,
				Published:   date("2026-04-30T14:00:00Z"),
			}, {
				GUID:        "ps-2026-0412",
				URL:         "https://arstechnica.example/gadgets/2026/04/usb-c-eu-deadline/",
				Title:       "Link: The EU's USB-C Deadline Reaches Laptops",
				Summary:     "From Monday every new laptop sold in the EU must charge over USB-C. Apple, Dell and Lenovo were already there; the stragglers are gaming machines with 330 W bricks.",
				ContentHTML: "<p>From Monday every new laptop sold in the EU must charge over USB-C.</p><p>Apple, Dell and Lenovo were already there; the stragglers are gaming machines with 330 W bricks.</p>",
				Author:      "Pocket Silicon Staff",
				Section:     "Laptops",
				Categories:  []string{"Laptops"},
				ImageURL:    "https://pocketsilicon.example/media/usb-c-banner.jpg",
				ImageAlt:    "Link: The EU's USB-C Deadline Reaches Laptops",
				ReadMinutes: 1,
				Published:   date("2026-04-28T12:00:00Z"), // only date_modified
			}},
		},
		{
			file:      "latin1.xml",
			wantTitle: "Le Café Numérique",
			want: []newsletter.Story{{
				GUID:        "cafe-2201",
				URL:         "https://cafenumerique.example/guides/portables-ete-2026",
				Title:       "Été 2026 : les ordinateurs portables à moins de 800 euros",
				Summary:     "Notre sélection naïve mais éprouvée : écrans mats, claviers rétroéclairés et autonomie réelle mesurée à Zürich comme à Paris.",
				ContentHTML: "Notre sélection naïve mais éprouvée : écrans mats, claviers rétroéclairés et autonomie réelle mesurée à Zürich comme à Paris.",
				Author:      "Renée Lefèvre",
				Section:     "Ordinateurs portables",
				Categories:  []string{"Ordinateurs portables"},
				ReadMinutes: 0, // a teaser only: no reading time
				Published:   date("2026-04-30T06:00:00Z"),
			}},
		},
		{
			file:      "cp1252.xml",
			wantTitle: "Byte “Buyer’s” Guide",
			want: []newsletter.Story{{
				GUID:        "https://bytebuyer.example/audio/budget-earbuds-2026",
				URL:         "https://bytebuyer.example/audio/budget-earbuds-2026",
				Title:       "The €199 Earbuds That Beat the €279 Ones — Mostly",
				Summary:     "Noise cancelling that’s “good enough”… and a case that doesn’t scratch.",
				ContentHTML: "Noise cancelling that’s “good enough”… and a case that doesn’t scratch.",
				ReadMinutes: 0, // a teaser only: no reading time
				Published:   date("2026-05-01T10:00:00Z"),
			}},
		},
		{
			file:      "hostile.xml",
			wantTitle: "Totally Legit Tech News",
			want: []newsletter.Story{{
				GUID:    "legit-9001",
				URL:     "https://legit-tech.example/security/patch-tuesday-april-2026",
				Title:   "Patch Tuesday: 74 Fixes, Bcc: victim@example.com Subject: You won",
				Summary: "Microsoft fixed two zero-days this month.",
				ContentHTML: "<p>Microsoft fixed <strong>74</strong> vulnerabilities, two of them under active attack.</p>\n\n\n\n" +
					`<img src="https://legit-tech.example/security/x"/>` + "\n\n" +
					`<p>Details in the advisory, the mirror, the old mirror and the <a href="https://legit-tech.example/security/cve-2026-1234" rel="noopener">CVE write-up</a>.</p>` + "\n\n\n\n" +
					`<p><img src="https://legit-tech.example/img/patch-tuesday-chart.png" alt="Chart of CVEs by severity"/></p>`,
				Author:      "Eve X-Injected: yes Mallory",
				Section:     "Security",
				Categories:  []string{"Security", "Exploits"},
				ImageURL:    "https://legit-tech.example/img/patch-tuesday-thumb.jpg", // the javascript: media:content is passed over
				ImageAlt:    "Patch Tuesday Bcc: thumb@example.com",
				ReadMinutes: 1,
				Published:   date("2026-04-14T17:00:00Z"),
			}, {
				GUID:        "https://legit-tech.example/passkeys",
				URL:         "https://legit-tech.example/passkeys",
				Title:       hugeTitle,
				Summary:     "Short dek.",
				ContentHTML: "Short dek.",
				ReadMinutes: 0, // a teaser only: no reading time
				Published:   date("2026-04-15T09:00:00Z"),
			}},
		},
		{
			// An explicit base wins over the feed's own link for relative item links;
			// content still resolves against the item.
			file:      "rss.xml",
			base:      "https://mirror.example/feeds/stackpulse.xml",
			wantTitle: "StackPulse & Friends",
		},
	}
	for _, tt := range tests {
		name := tt.file
		if tt.base != "" {
			name += " with base"
		}
		t.Run(name, func(t *testing.T) {
			var base *url.URL
			if tt.base != "" {
				base = mustURL(t, tt.base)
			}
			res, err := Parse(bytes.NewReader(readTestdata(t, tt.file)), base)
			title, stories := res.Title, res.Stories
			if err != nil {
				t.Fatal(err)
			}
			if title != tt.wantTitle {
				t.Errorf("title = %q, want %q", title, tt.wantTitle)
			}
			if tt.base != "" {
				if got, want := stories[0].URL, "https://mirror.example/2026/04/postgres-18-async-io?ref=home"; got != want {
					t.Errorf("URL = %q, want %q", got, want)
				}
				if !strings.Contains(stories[0].ContentHTML, `href="https://mirror.example/docs/pg18-upgrade-notes"`) {
					t.Errorf("content link not resolved against the item: %s", stories[0].ContentHTML)
				}
				return
			}
			compareStories(t, stories, tt.want)
		})
	}
}

func TestParseHostileInvariants(t *testing.T) {
	res, err := Parse(bytes.NewReader(readTestdata(t, "hostile.xml")), nil)
	stories := res.Stories
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stories {
		for name, v := range map[string]string{"Title": s.Title, "Author": s.Author, "Summary": s.Summary, "ImageAlt": s.ImageAlt, "Section": s.Section} {
			if strings.ContainsAny(v, "\r\n\x00<>") {
				t.Errorf("%s of %q holds a control character or markup: %q", name, s.URL, v)
			}
		}
		if n := utf8.RuneCountInString(s.Title); n > maxTitle {
			t.Errorf("title has %d characters, limit %d", n, maxTitle)
		}
		lower := strings.ToLower(s.ContentHTML)
		for _, bad := range []string{"<script", "javascript:", "vbscript:", "data:", "onerror", "onclick", "onload", "onmouseover", "style", "<iframe", "<object", "<embed", "<form", "<input", "<svg", "feedburner", "pixel.gif"} {
			if strings.Contains(lower, bad) {
				t.Errorf("content of %q still holds %q", s.URL, bad)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     []byte
		notFeed bool   // errors.Is(err, ErrNotFeed)
		msg     string // in the message
	}{
		{"truncated XML", readTestdata(t, "broken.xml"), false, "malformed RSS feed: XML syntax error"},
		{"HTML page", readTestdata(t, "not-a-feed.html"), true, "got an HTML page"},
		{"empty", nil, true, "empty document"},
		{"white space", []byte(" \n\t "), true, "empty document"},
		{"other XML", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`), true, "XML without an rss, rdf or feed root"},
		{"JSON that is not a feed", []byte(`{"name": "not a feed", "items": []}`), true, "JSON without a jsonfeed.org version"},
		{"broken JSON feed", []byte(`{"version": "https://jsonfeed.org/version/1.1", "items": [`), false, "malformed JSON feed"},
		{"truncated Atom", []byte(`<feed xmlns="http://www.w3.org/2005/Atom"><title>Cut</title><entry><title>Half`), false, "malformed Atom feed"},
		{"plain text", []byte("HTTP/1.1 200 OK, but this is not a feed"), true, "unrecognised document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(bytes.NewReader(tt.doc), nil)
			stories := res.Stories
			if err == nil {
				t.Fatalf("no error; %d stories", len(stories))
			}
			if errors.Is(err, ErrNotFeed) != tt.notFeed {
				t.Errorf("errors.Is(err, ErrNotFeed) = %v, want %v (%v)", !tt.notFeed, tt.notFeed, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestParseWithoutBase(t *testing.T) {
	// No base and no feed link: relative item links cannot be made absolute, so the
	// items are skipped rather than given a wrong URL.
	doc := `<rss version="2.0"><channel><title>T</title>
<item><title>Relative</title><link>/a</link></item>
<item><title>Absolute</title><link>https://example.com/b</link></item>
<item><title>Permalink GUID</title><guid>https://example.com/c</guid></item>
<item><title>Opaque GUID only</title><guid isPermaLink="false">id-4</guid></item>
<item><link>https://example.com/untitled</link><description>An untitled post that opens with its own first words.</description></item>
</channel></rss>`
	res, err := Parse(strings.NewReader(doc), nil)
	stories := res.Stories
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range stories {
		got = append(got, s.Title+" <"+s.URL+">")
	}
	want := []string{
		"Absolute <https://example.com/b>",
		"Permalink GUID <https://example.com/c>",
		"An untitled post that opens with its own first words. <https://example.com/untitled>",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestParseItemDetails(t *testing.T) {
	const head = `<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title><link>https://example.com/</link><item><title>Item</title><link>/item</link>`
	const tail = `</item></channel></rss>`
	tests := []struct {
		name  string
		item  string
		check func(newsletter.Story) bool
	}{
		{"unparseable date is zero", `<pubDate>sometime last week</pubDate>`,
			func(s newsletter.Story) bool { return s.Published.IsZero() }},
		{"no date is zero", ``,
			func(s newsletter.Story) bool { return s.Published.IsZero() }},
		{"dc:date", `<dc:date>2026-04-29T10:00:00+03:00</dc:date>`,
			func(s newsletter.Story) bool {
				return s.Published.Equal(date("2026-04-29T07:00:00Z")) && s.Published.Location() == time.UTC
			}},
		{"dc:creator over author", `<author>desk@example.com (News Desk)</author><dc:creator>Omer YLD</dc:creator>`,
			func(s newsletter.Story) bool { return s.Author == "Omer YLD" }},
		{"several creators", `<dc:creator>Ada</dc:creator><dc:creator>Grace</dc:creator><dc:creator>ada</dc:creator>`,
			func(s newsletter.Story) bool { return s.Author == "Ada, Grace" }},
		{"author e-mail only", `<author>desk@example.com</author>`,
			func(s newsletter.Story) bool { return s.Author == "" }},
		{"media:group", `<media:group><media:content url="https://v.example.com/clip.mp4" type="video/mp4"/><media:content url="/img/still.jpg" medium="image"><media:title>A still</media:title></media:content></media:group>`,
			func(s newsletter.Story) bool {
				return s.ImageURL == "https://example.com/img/still.jpg" && s.ImageAlt == "A still"
			}},
		{"media:content by extension", `<media:content url="https://cdn.example.com/a.webp"/>`,
			func(s newsletter.Story) bool {
				return s.ImageURL == "https://cdn.example.com/a.webp" && s.ImageAlt == "Item"
			}},
		{"video is not an image", `<media:content url="https://cdn.example.com/a.mp4"/><media:thumbnail url="https://cdn.example.com/a.jpg"/><media:description>Thumb</media:description>`,
			func(s newsletter.Story) bool {
				return s.ImageURL == "https://cdn.example.com/a.jpg" && s.ImageAlt == "Thumb"
			}},
		{"tracking pixel is not the image", `<description>&lt;img src="https://example.com/t.gif" width="1" height="1"&gt;&lt;img src="/real.png" alt="Real"&gt;</description>`,
			func(s newsletter.Story) bool {
				return s.ImageURL == "https://example.com/real.png" && s.ImageAlt == "Real"
			}},
		{"categories cleaned", `<category>  AI &amp; ML </category><category></category><category>ai &amp; ml</category><category>Cloud</category>`,
			func(s newsletter.Story) bool {
				return s.Section == "AI & ML" && reflect.DeepEqual(s.Categories, []string{"AI & ML", "Cloud"})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(strings.NewReader(head+tt.item+tail), nil)
			stories := res.Stories
			if err != nil {
				t.Fatal(err)
			}
			if len(stories) != 1 || !tt.check(stories[0]) {
				t.Errorf("got %+v", stories)
			}
		})
	}
}

func TestSampleFeed(t *testing.T) {
	f, err := os.Open("../../data/sample-feed.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Parse(f, nil)
	title, stories := res.Title, res.Stories
	if err != nil {
		t.Fatal(err)
	}
	if title != "Technerdo" {
		t.Errorf("title = %q", title)
	}
	if len(stories) != 14 {
		t.Fatalf("got %d stories, want 14 (nine up to issue 2026-W19, five for 2026-W20)", len(stories))
	}
	istanbul := time.FixedZone("+0300", 3*60*60)
	weekStart := time.Date(2026, 4, 27, 0, 0, 0, 0, istanbul)
	weekEnd := time.Date(2026, 5, 4, 0, 0, 0, 0, istanbul)
	inWeek := 0
	for _, s := range stories {
		if !strings.HasPrefix(s.URL, "https://technerdo.com/") || s.GUID == "" || s.Author == "" || s.Section == "" || s.Summary == "" || s.ContentHTML == "" {
			t.Errorf("incomplete story: %+v", s)
		}
		if !strings.HasPrefix(s.ImageURL, "https://images.technerdo.com/") || !strings.HasSuffix(s.ImageURL, ".jpg") || s.ImageAlt == "" || s.ImageAlt == s.Title {
			t.Errorf("%q: image %q alt %q", s.Title, s.ImageURL, s.ImageAlt)
		}
		if !s.Published.Before(weekStart) && s.Published.Before(weekEnd) {
			inWeek++
		}
	}
	if inWeek != 8 {
		t.Errorf("%d stories in the week of 27 April 2026, want 8", inWeek)
	}

	var ms *newsletter.Story
	for i := range stories {
		if stories[i].Title == "Microsoft and OpenAI End Exclusive Cloud Partnership: What Changes Next" {
			ms = &stories[i]
		}
	}
	if ms == nil {
		t.Fatal("the Microsoft and OpenAI story is missing")
	}
	if ms.Author != "Omer YLD" || ms.Section != "AI" || !ms.Published.Equal(time.Date(2026, 4, 28, 9, 0, 0, 0, istanbul)) {
		t.Errorf("Microsoft and OpenAI story: author %q, section %q, published %v", ms.Author, ms.Section, ms.Published)
	}
	if want := "Microsoft and OpenAI have ended the exclusivity around their revenue-sharing and cloud relationship. The practical result: OpenAI can use more clouds, Amazon can come in, and the AI infrastructure race gets messier."; ms.Summary != want {
		t.Errorf("dek = %q", ms.Summary)
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Hello, world", "Hello, world"},
		{"entities", "AT&amp;T &#8217;s &lt;b&gt; plan &eacute;", "AT&T ’s <b> plan é"},
		{"tags", "<b>Bold</b> <i>move</i>", "Bold move"},
		{"blocks end sentences", "<p>One</p><p>Two</p>line<br>break", "One. Two. line break"},
		{"punctuation kept", "<p>Why?</p><p>Because: </p><p>yes.</p>", "Why? Because: yes."},
		{"table cells and rows", "<table><tr><th>Model</th><th>Params</th></tr><tr><td>Qwen 3</td><td>8B</td></tr></table><p>Fast.</p>", "Model · Params. Qwen 3 · 8B. Fast."},
		{"list items", "<ul><li>Back up</li><li>Read the notes</li></ul>Then upgrade", "Back up. Read the notes. Then upgrade"},
		{"code block", "<p>The fix:</p><pre><code>os.Exit(1)</code></pre><p>Done</p>", "The fix: os.Exit(1) Done"},
		{"CJK full stop", "<p>東京の新しい</p><p>次へ</p>", "東京の新しい。次へ"},
		{"inline tags join", "Java<em>Script</em>", "JavaScript"},
		{"script and style hidden", "A<script>alert(1)</script>B<style>p{}</style>C", "ABC"},
		{"CR LF", "Subject\r\nBcc: x@example.com", "Subject Bcc: x@example.com"},
		{"control characters", "a\x00b\x07c\x1bd\u0085e", "abcd e"},
		{"bidi override", "invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"white space runs", "  lots \t of\u00a0\u2028space  ", "lots of space"},
		{"invalid UTF-8", "caf\xe9", "caf\uFFFD"},
		{"lone less-than", "a < b", "a < b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plainText(tt.in); got != tt.want {
				t.Errorf("plainText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short", "Fits fine.", 20, "Fits fine."},
		{"exact", "0123456789", 10, "0123456789"},
		{"word boundary", "The quick brown fox jumps over", 20, "The quick brown fox…"},
		{"trailing punctuation", "One, two, three, four", 15, "One, two…"},
		{"no space", strings.Repeat("x", 30), 10, "xxxxxxxxx…"},
		{"runes not bytes", "éééé éééé éééé", 10, "éééé éééé…"},
		{"never inside a URL", "Read the source at https://example.org/a/very/long/path/that/goes/on before it moves", 40, "Read the source at…"},
		{"a long word goes whole", "A word " + strings.Repeat("z", 30) + " ends", 20, "A word…"},
		{"CJK cuts between ideographs", "日本最大級のデータセンターが東京湾岸に完成する", 10, "日本最大級のデータ…"},
		{"the space after the cut", "The quick brown fox jumps", 20, "The quick brown fox…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := truncate(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.max {
				t.Errorf("%d runes, max %d", n, tt.max)
			}
		})
	}
}

func TestSummaryLength(t *testing.T) {
	long := strings.Repeat("Benchmarks are only as honest as the workload behind them. ", 20)
	doc := `<rss version="2.0"><channel><title>T</title><link>https://example.com/</link>
<item><title>Long</title><link>/long</link><description>` + long + `</description></item></channel></rss>`
	res, err := Parse(strings.NewReader(doc), nil)
	stories := res.Stories
	if err != nil {
		t.Fatal(err)
	}
	s := stories[0].Summary
	if n := utf8.RuneCountInString(s); n > maxSummary || n < maxSummary-40 {
		t.Errorf("summary has %d characters: %q", n, s)
	}
	if !strings.HasSuffix(s, "…") || strings.HasSuffix(s, " …") {
		t.Errorf("summary is not cut at a word with an ellipsis: %q", s)
	}
	if !strings.HasPrefix(long, strings.TrimSuffix(s, "…")) {
		t.Errorf("summary is not a prefix of the description: %q", s)
	}
}

func TestReadMinutes(t *testing.T) {
	tests := []struct{ words, want int }{{0, 0}, {1, 1}, {230, 1}, {231, 2}, {1150, 5}}
	for _, tt := range tests {
		if got := readMinutes(tt.words); got != tt.want {
			t.Errorf("readMinutes(%d) = %d, want %d", tt.words, got, tt.want)
		}
	}

	body := strings.Repeat("word ", 700)
	doc := `<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>
<item><title>A</title><link>https://example.com/a</link><description>Short dek.</description><content:encoded>&lt;p&gt;` + body + `&lt;/p&gt;</content:encoded></item>
<item><title>B</title><link>https://example.com/b</link><description>` + strings.Repeat("word ", 300) + `</description></item>
</channel></rss>`
	res, err := Parse(strings.NewReader(doc), nil)
	stories := res.Stories
	if err != nil {
		t.Fatal(err)
	}
	if got := stories[0].ReadMinutes; got != 4 { // 700 words of content
		t.Errorf("from content: %d minutes, want 4", got)
	}
	if got := stories[1].ReadMinutes; got != 0 { // 300 words of description, no content
		t.Errorf("from description: %d minutes, want 0 (unknown: the description is a teaser)", got)
	}
}

func TestCanonicalURL(t *testing.T) {
	base := mustURL(t, "https://Example.com/blog/feed.xml")
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"absolute", "https://example.com/a", "https://example.com/a", true},
		{"relative path", "post-1", "https://example.com/blog/post-1", true},
		{"root relative", "/2026/04/x", "https://example.com/2026/04/x", true},
		{"scheme relative", "//cdn.example.net/x", "https://cdn.example.net/x", true},
		{"case", "HTTP://WWW.Example.COM/Path", "http://www.example.com/Path", true},
		{"fragment", "https://example.com/a#comments", "https://example.com/a", true},
		{"tracking params", "https://example.com/a?utm_source=rss&id=7&UTM_Medium=x&fbclid=1&gclid=2&mc_cid=3&mc_eid=4&b=2", "https://example.com/a?id=7&b=2", true},
		{"only tracking", "https://example.com/a?utm_source=rss", "https://example.com/a", true},
		{"default port", "https://example.com:443/a", "https://example.com/a", true},
		{"other port", "http://example.com:8080/a", "http://example.com:8080/a", true},
		{"empty path", "https://example.com", "https://example.com/", true},
		{"user info", "https://user:pw@example.com/a", "https://example.com/a", true},
		{"white space", "  https://example.com/a \n", "https://example.com/a", true},
		{"javascript", "javascript:alert(1)", "", false},
		{"data", "data:text/html,hi", "", false},
		{"mailto", "mailto:a@example.com", "", false},
		{"ftp", "ftp://example.com/file", "", false},
		{"no host", "https:///path", "", false},
		{"unparseable", "https://exa mple.com/%zz", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			u, ok := absoluteURL(tt.in, base)
			if ok {
				got = canonicalURL(u)
			}
			if got != tt.want || ok != tt.ok {
				t.Errorf("canonicalURL(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
	if _, ok := absoluteURL("/relative", nil); ok {
		t.Error("a relative URL without a base was accepted")
	}
}
