package feed

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{"rss.xml", "atom.xml", "feed.json", "latin1.xml", "cp1252.xml", "broken.xml", "not-a-feed.html", "hostile.xml"}

func FuzzParse(f *testing.F) {
	for _, name := range fuzzSeeds {
		f.Add(readTestdata(f, name))
	}
	base := mustURL(f, "https://fuzz.example/feed.xml")
	f.Fuzz(func(t *testing.T, doc []byte) {
		res, err := Parse(bytes.NewReader(doc), base)
		stories := res.Stories
		if err != nil {
			return
		}
		for _, s := range stories {
			if !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
				t.Errorf("story URL %q is not http(s)", s.URL)
			}
			for _, v := range []string{s.Title, s.Author, s.Summary, s.Section, s.ImageAlt} {
				if strings.ContainsAny(v, "\r\n") || !utf8.ValidString(v) {
					t.Errorf("plain-text field %q has a line break or invalid UTF-8", v)
				}
			}
			checkSafe(t, s.ContentHTML)
		}
	})
}

func FuzzSanitize(f *testing.F) {
	for _, name := range fuzzSeeds {
		f.Add(string(readTestdata(f, name)))
	}
	for _, s := range []string{
		`<a href="javascript:alert(1)">x</a>`,
		`<img src=x onerror=alert(1)>`,
		`<scr<script>ipt>alert(1)</script>`,
		`<svg><style><img src=x onerror=alert(1)></style></svg>`,
		`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
		`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
		`<a href="&#106;avascript:alert(1)">x</a>`,
		`<a href="java&#x09;script:alert(1)">x</a>`,
	} {
		f.Add(s)
	}
	base := mustURL(f, "https://fuzz.example/posts/1")
	f.Fuzz(func(t *testing.T, in string) {
		out := Sanitize(in, base)
		checkSafe(t, out)
		if again := Sanitize(in, base); again != out {
			t.Errorf("not stable:\n%q\n%q", out, again)
		}
	})
}

// checkSafe fails on markup that could run code in a mail client or web view.
func checkSafe(t *testing.T, html string) {
	t.Helper()
	lower := strings.ToLower(html)
	for _, bad := range []string{"<script", "javascript:", "vbscript:", "<iframe", "<style", " on"} {
		if bad == " on" {
			// An event handler would be an attribute: " on…=" inside a tag.
			if strings.Contains(lower, "<") && containsHandler(lower) {
				t.Errorf("event handler in %q", html)
			}
			continue
		}
		if strings.Contains(lower, bad) {
			t.Errorf("%q in sanitised output %q", bad, html)
		}
	}
}

// containsHandler reports an attribute whose name starts with "on" inside any tag.
func containsHandler(lower string) bool {
	for rest := lower; ; {
		start := strings.IndexByte(rest, '<')
		if start < 0 {
			return false
		}
		end := strings.IndexByte(rest[start:], '>')
		if end < 0 {
			return false
		}
		tag := rest[start : start+end]
		for _, field := range strings.Fields(tag)[1:] {
			if strings.HasPrefix(field, "on") && strings.Contains(field, "=") {
				return true
			}
		}
		rest = rest[start+end+1:]
	}
}

func FuzzStripForbiddenXML(f *testing.F) {
	for _, s := range []string{"<t>a&#7;b\x01c&#x1F600;&#xD800;&#9;</t>", "&#0;", "&#99999999;", "\xfe\xff\x00\x07"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, n := stripForbiddenXML(doc)
		if n == 0 && !bytes.Equal(out, doc) {
			t.Fatalf("nothing counted but the document changed")
		}
		if n > 0 && len(out) >= len(doc) {
			t.Fatalf("%d removed but the document did not shrink", n)
		}
		if bytes.HasPrefix(doc, []byte{0xfe, 0xff}) || bytes.HasPrefix(doc, []byte{0xff, 0xfe}) {
			return
		}
		for _, c := range out {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				t.Fatalf("control byte %#x left in %q", c, out)
			}
		}
		for _, m := range charRef.FindAll(out, -1) {
			if again, k := stripForbiddenXML(m); k != 0 || !bytes.Equal(again, m) {
				t.Fatalf("forbidden reference %q left", m)
			}
		}
	})
}
