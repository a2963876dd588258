package render

import (
	"bytes"
	htmltemplate "html/template"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// intro is the Markdown converter of editors' notes. goldmark's defaults are the sanitiser:
// without html.WithUnsafe raw HTML is dropped ("<!-- raw HTML omitted -->") and links with
// javascript:, vbscript:, file: or data: (other than images) URLs are emptied.
var intro = goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough))

// introHTML converts an editor's Markdown note to safe HTML; empty in, empty out.
func introHTML(md string) (htmltemplate.HTML, error) {
	md = strings.TrimSpace(defuseText(md))
	if md == "" {
		return "", nil
	}
	var buf bytes.Buffer
	if err := intro.Convert([]byte(md), &buf); err != nil {
		return "", err
	}
	// goldmark's output is built from escaped text and its own tags only (see above), which is
	// what makes this conversion to template.HTML sound.
	return htmltemplate.HTML(strings.ReplaceAll(buf.String(), "<!-- raw HTML omitted -->", "")), nil
}
