// Package templates carries the email and web templates inside the binary; it lives beside the
// template folders because go:embed cannot reach upward.
package templates

import "embed"

// The embedded template trees, one per folder. Files are read as email/NAME, web/NAME, and so on.
var (
	// Email holds the email templates: email/digest.html.tmpl, email/digest.txt.tmpl and the partials
	// they call. Package render parses them; an operator may override any of them file by file.
	//go:embed email
	Email embed.FS

	// Web holds the pages `newsletter serve` renders: web/unsubscribe.html.tmpl.
	//go:embed web
	Web embed.FS

	// Confirm holds the double opt-in message: confirm/confirm.txt.tmpl and confirm/confirm.html.tmpl.
	//go:embed confirm
	Confirm embed.FS
)
