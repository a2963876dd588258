package feed

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestSanitize(t *testing.T) {
	base := mustURL(t, "https://news.example.com/2026/04/story.html")
	tests := []struct {
		name, in, want string
	}{
		// Kept.
		{"paragraphs and emphasis", "<p>Hello <strong>bold</strong> <em>world</em> <b>b</b> <i>i</i></p>", "<p>Hello <strong>bold</strong> <em>world</em> <b>b</b> <i>i</i></p>"},
		{"lists", "<ul><li>one</li><li>two</li></ul><ol><li>three</li></ol>", "<ul><li>one</li><li>two</li></ul><ol><li>three</li></ol>"},
		{"quote and code", "<blockquote><p>Quoted</p></blockquote><pre><code>go test ./...</code></pre>", "<blockquote><p>Quoted</p></blockquote><pre><code>go test ./...</code></pre>"},
		{"headings", "<h2>Two</h2><h3>Three</h3><h4>Four</h4>", "<h2>Two</h2><h3>Three</h3><h4>Four</h4>"},
		{"headings folded", "<h1>One</h1><h5>Five</h5><h6>Six</h6>", "<h2>One</h2><h4>Five</h4><h4>Six</h4>"},
		{"figure", `<figure><img src="https://cdn.example.com/a.jpg" alt="A chart" width="640" height="360"><figcaption>Caption</figcaption></figure>`, `<figure><img src="https://cdn.example.com/a.jpg" alt="A chart" width="640" height="360"/><figcaption>Caption</figcaption></figure>`},
		{"line break", "one<br>two<br/>three", "one<br/>two<br/>three"},
		{"entities", "<p>AT&amp;T &lt;3 &eacute;</p>", "<p>AT&amp;T &lt;3 é</p>"},
		{"mailto link", `<a href="mailto:tips@example.com">Send a tip</a>`, `<a href="mailto:tips@example.com" rel="noopener">Send a tip</a>`},

		// Links and images made absolute.
		{"relative link", `<a href="/about">About</a>`, `<a href="https://news.example.com/about" rel="noopener">About</a>`},
		{"page-relative link", `<a href="other.html#x">Other</a>`, `<a href="https://news.example.com/2026/04/other.html#x" rel="noopener">Other</a>`},
		{"scheme-relative image", `<img src="//cdn.example.com/i.png" alt="">`, `<img src="https://cdn.example.com/i.png" alt=""/>`},
		{"relative image", `<img src="../../img/a.png" alt="A">`, `<img src="https://news.example.com/img/a.png" alt="A"/>`},
		{"rel replaced", `<a href="https://x.example/" rel="opener nofollow" target="_blank" title="t">x</a>`, `<a href="https://x.example/" rel="noopener">x</a>`},
		{"picture", `<picture><source srcset="/a.avif" type="image/avif"><img src="/a.jpg" alt="A"></picture>`, `<img src="https://news.example.com/a.jpg" alt="A"/>`},
		{"lazy image", `<img src="data:image/gif;base64,R0lGOD" data-src="/img/real.jpg" alt="Real">`, `<img src="https://news.example.com/img/real.jpg" alt="Real"/>`},

		// Hostile constructs removed.
		{"script", `<p>Hi</p><script>alert(1)</script>`, "<p>Hi</p>"},
		{"script upper case", `<SCRIPT SRC="https://evil.example/x.js"></SCRIPT>ok`, "ok"},
		{"style element", `<style>body{display:none}</style><p>Text</p>`, "<p>Text</p>"},
		{"style attribute", `<p style="position:fixed;top:0">Text</p>`, "<p>Text</p>"},
		{"event handlers", `<p onclick="x()" onmouseover="y()">Text</p><img src="https://cdn.example.com/a.png" onerror="alert(1)" onload="z()">`, `<p>Text</p><img src="https://cdn.example.com/a.png"/>`},
		{"javascript link", `<a href="javascript:alert(1)">click</a>`, "click"},
		{"javascript link mixed case", `<a href="  JaVaScRiPt:alert(1)">click</a>`, "click"},
		{"javascript link entity", `<a href="javascript&#58;alert(1)">click</a>`, "click"},
		{"javascript link tab", "<a href=\"java\tscript:alert(1)\">click</a>", "click"},
		{"vbscript link", `<a href="vbscript:msgbox(1)">click</a>`, "click"},
		{"data link", `<a href="data:text/html;base64,PHNjcmlwdD4=">click</a>`, "click"},
		{"javascript image", `<img src="javascript:alert(1)">`, ""},
		{"data image", `<img src="data:image/png;base64,iVBORw0KGgo=" alt="x">`, ""},
		{"iframe", `<iframe src="https://evil.example/">fallback text</iframe><p>After</p>`, "<p>After</p>"},
		{"object and embed", `<object data="x.swf"><param name="a" value="b"><embed src="x.swf"></object>ok`, "ok"},
		{"form", `<form action="https://evil.example/"><input name="pw" type="password"><button>Log in</button></form>ok`, "ok"},
		{"svg", `<svg onload="alert(1)"><script>alert(2)</script><a href="https://x.example/">x</a></svg>ok`, "ok"},
		{"math", `<math><mtext><img src=x onerror=alert(1)></mtext></math>ok`, "ok"},
		{"comment", `<!-- <script>alert(1)</script> -->ok`, "ok"},
		{"meta refresh", `<meta http-equiv="refresh" content="0;url=https://evil.example/">ok`, "ok"},
		{"base href", `<base href="https://evil.example/"><a href="/x">x</a>`, `<a href="https://news.example.com/x" rel="noopener">x</a>`},
		{"noscript", `<noscript><img src="https://cdn.example.com/a.png"></noscript>ok`, "ok"},
		{"video", `<video src="https://cdn.example.com/v.mp4" poster="https://cdn.example.com/p.jpg">Your browser…</video>ok`, "ok"},
		{"unclosed tag", `<p>Text<script`, "<p>Text</p>"},
		{"attribute breakout", `<img src="https://cdn.example.com/a.png" alt="x&quot; onerror=&quot;alert(1)">`, `<img src="https://cdn.example.com/a.png" alt="x&#34; onerror=&#34;alert(1)"/>`},

		// Tracking pixels removed.
		{"1x1 pixel", `<p>Text</p><img src="https://news.example.com/img/spacer.gif" width="1" height="1">`, "<p>Text</p>"},
		{"0 width", `<img src="https://news.example.com/a.gif" width="0">`, ""},
		{"2px height", `<img src="https://news.example.com/a.gif" height="2px">`, ""},
		{"feedburner", `<img src="https://feeds.feedburner.com/~r/Example/~4/abc" height="1" width="1" alt="">`, ""},
		{"feedburner any size", `<img src="https://feeds.feedburner.com/~ff/Example?d=yIl2AUoC8zA">`, ""},
		{"doubleclick", `<img src="https://ad.doubleclick.net/ddm/ad/x;ord=1">`, ""},
		{"pixel host", `<img src="https://pixel.wp.com/g.gif?blog=1">`, ""},
		{"track path", `<img src="https://mail.example.com/track/open/abc123.gif">`, ""},
		{"pixel file", `<img src="https://news.example.com/pixel.png?id=9">`, ""},
		{"ordinary image kept", `<img src="https://cdn.example.com/soundtracks/cover.jpg" width="300">`, `<img src="https://cdn.example.com/soundtracks/cover.jpg" width="300"/>`},

		// Unknown markup unwrapped, its text kept.
		{"div and span", `<div><span class="x">Inline</span> text</div><div>Next</div>`, " Inline text  Next"},
		{"table", `<table><tr><td>a</td><td>b</td></tr></table>`, "a  b"},
		{"font and u", `<font color="red">Red</font> <u>under</u>`, "Red under"},
		{"link with unwrapped child", `<a href="/x"><span>Go</span></a>`, `<a href="https://news.example.com/x" rel="noopener">Go</a>`},
		{"nested unwrap keeps links", `<div><section><a href="/deep">Deep</a></section></div>`, `<a href="https://news.example.com/deep" rel="noopener">Deep</a>`},

		{"scheme named in text", "<p>Never paste JavaScript: URLs, or vbscript:, into a link.</p>", "<p>Never paste JavaScript&#58; URLs, or vbscript&#58;, into a link.</p>"},
		{"scheme named in alt", `<img src="https://cdn.example.com/a.png" alt="javascript:alert(1)">`, `<img src="https://cdn.example.com/a.png" alt="javascript&#58;alert(1)"/>`},
		{"empty", "", ""},
		{"spaces", "  \n ", ""},
		{"plain text", "Just words & symbols < here", "Just words &amp; symbols &lt; here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.in, base)
			if got != strings.TrimSpace(tt.want) {
				t.Errorf("Sanitize(%q)\n got %q\nwant %q", tt.in, got, strings.TrimSpace(tt.want))
			}
			if again := Sanitize(tt.in, base); again != got {
				t.Errorf("not stable: %q then %q", got, again)
			}
		})
	}
}

func TestSanitizeWithoutBase(t *testing.T) {
	in := `<p><a href="/relative">rel</a> <a href="https://example.com/abs">abs</a> <img src="img/a.png"><img src="https://example.com/b.png"></p>`
	want := `<p>rel <a href="https://example.com/abs" rel="noopener">abs</a> <img src="https://example.com/b.png"/></p>`
	if got := Sanitize(in, nil); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestSanitizeConcurrent shares the package's policy between goroutines; run with -race.
func TestSanitizeConcurrent(t *testing.T) {
	base := mustURL(t, "https://example.com/")
	in := string(readTestdata(t, "hostile.xml"))
	want := Sanitize(in, base)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				if got := Sanitize(in, base); got != want {
					errs <- fmt.Sprintf("goroutine %d: output differs", i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func BenchmarkSanitize(b *testing.B) {
	base := mustURL(b, "https://stackpulse.example/2026/04/postgres-18-async-io")
	in := string(readTestdata(b, "rss.xml"))
	for b.Loop() {
		Sanitize(in, base)
	}
}
