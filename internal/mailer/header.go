package mailer

import (
	"crypto/rand"
	"encoding/hex"
	"mime"
	netmail "net/mail"
	"slices"
	"strings"
	"time"
)

// Every message's header block is written here rather than by go-mail, whose writer
// allocates far more per message than the rest of a message with a prepared Body. The bytes
// are go-mail v0.8.1's (msgWriter.writeMsg), so that messages stay what they were when
// go-mail wrote them: TestHeaderMatchesGoMail and FuzzWriteToMatchesGoMail hold the two
// together, byte for byte.
//
// go-mail's layout, copied here:
//   - the generic fields sorted by name (byte order): Date, MIME-Version, Message-ID, Subject
//     and the extra Headers; values RFC 2047 Q-encoded (UTF-8) when they hold non-ASCII;
//   - From, To, Reply-To as net/mail's Address.String writes them;
//   - each field folded by writeHeader below;
//   - then either "Content-Type: multipart/alternative;\r\n boundary=B" and the parts as
//     mime/multipart writes them, or a single part's Content-Transfer-Encoding and Content-Type.

// maxHeaderLength is go-mail's MaxHeaderLength, the budget its folding counts against.
const maxHeaderLength = 76

// appendField appends "name: value" and CRLF, folded as go-mail's msgWriter.writeHeader folds:
// split at every space, a line break before a word once the running budget (76 less the name,
// ": " and the words so far) would fall to 1 or below, and the space before a break dropped.
// It is not the 78-character rule of RFC 5322 §2.1.1 exactly, but it is what go-mail writes,
// and a line never exceeds 998 characters because Validate bounds a word at 900.
func appendField(dst []byte, name string, value []byte) []byte {
	budget := maxHeaderLength - 2 - len(name) - 2
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	for {
		word, more := value, false
		for i, c := range value {
			if c == ' ' {
				word, value, more = value[:i], value[i+1:], true
				break
			}
		}
		if budget-len(word) <= 1 {
			if dst[len(dst)-1] == ' ' {
				dst = dst[:len(dst)-1]
			}
			dst = append(dst, "\r\n "...)
			budget = maxHeaderLength - 3
		}
		dst = append(dst, word...)
		budget -= len(word)
		if !more {
			return append(dst, "\r\n"...)
		}
		dst = append(dst, ' ')
		budget--
	}
}

// needsEncoding is mime's test for a value that WordEncoder.Encode changes.
func needsEncoding(s string) bool {
	for _, r := range s {
		if (r < ' ' || r > '~') && r != '\t' {
			return true
		}
	}
	return false
}

// appendAddress appends a as net/mail's Address.String formats it ("Name" <local@domain>,
// <local@domain> without a name). Display names that need RFC 2047 encoding go through
// Address.String itself; printable ASCII names and addresses, the usual case, are written
// without allocating.
func appendAddress(dst []byte, a Address) []byte {
	local, domain := a.Email, ""
	if at := strings.LastIndexByte(a.Email, '@'); at >= 0 {
		local, domain = a.Email[:at], a.Email[at+1:]
	}
	if a.Name != "" {
		for i := 0; i < len(a.Name); i++ {
			if c := a.Name[i]; c < ' ' || c > '~' {
				return append(dst, (&netmail.Address{Name: a.Name, Address: a.Email}).String()...)
			}
		}
		dst = appendQuoted(dst, a.Name)
		dst = append(dst, ' ')
	}
	dst = append(dst, '<')
	if localNeedsQuotes(local) {
		dst = appendQuoted(dst, local)
	} else {
		dst = append(dst, local...)
	}
	dst = append(dst, '@')
	dst = append(dst, domain...)
	return append(dst, '>')
}

// localNeedsQuotes is Address.String's test: anything but atext, and dots between atext.
func localNeedsQuotes(local string) bool {
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case c >= 0x80:
			continue // isAtext accepts any multibyte rune (RFC 6532)
		case c == '.':
			if i > 0 && local[i-1] != '.' && i < len(local)-1 {
				continue
			}
			return true
		case !isASCIIAtext(c):
			return true
		}
	}
	return false
}

// isASCIIAtext reports an RFC 5322 atext byte: a visible character other than the specials.
func isASCIIAtext(c byte) bool {
	if c < '!' || c > '~' {
		return false
	}
	return strings.IndexByte(`()<>[]:;@\,".`, c) < 0
}

// appendQuoted is net/mail's quoteString: a quoted-string with '\' and '"' escaped; other
// bytes are kept (valid UTF-8 and no controls, as Validate ensures).
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '"' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// headerScratch is the per-message working memory of the header block, reused through a pool.
type headerScratch struct {
	val    []byte
	fields []genField
}

type genField struct {
	name  string
	value string // for Date, empty: the value is the formatted date
}

// partHeader is the header of a quoted-printable UTF-8 part, as mime/multipart writes it for
// go-mail (fields sorted) and as go-mail writes a single part's, neither long enough to fold.
func partHeader(html bool) string {
	if html {
		return "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n"
	}
	return "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
}

// randomBoundary is mime/multipart's: 30 random bytes in hex.
func randomBoundary(dst []byte) []byte {
	var rnd [30]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read does not fail (Go 1.24+)
	return hex.AppendEncode(dst, rnd[:])
}

// appendLayout appends a validated message's header block and the framing around its
// prepared parts to dst: head (the header block and the first part's header), mid (between
// the text and the HTML part, empty for a single part) and tail (the closing delimiter,
// empty for a single part), returned as the offsets where mid and tail start.
func (m *Message) appendLayout(dst []byte, sc *headerScratch) (out []byte, midAt, tailAt int) {
	fields := append(sc.fields[:0],
		genField{name: "Date"}, genField{name: "MIME-Version", value: "1.0"}, genField{name: "Message-ID"})
	if m.Subject != "" {
		fields = append(fields, genField{name: "Subject", value: m.Subject})
	}
	for _, h := range m.Headers {
		fields = append(fields, genField{name: h.Name, value: h.Value})
	}
	// Byte order of the names, as go-mail's sort.Strings of its map keys (Validate makes them unique).
	slices.SortFunc(fields, func(a, b genField) int { return strings.Compare(a.name, b.name) })
	sc.fields = fields
	for _, f := range fields {
		v := sc.val[:0]
		switch {
		case f.name == "Date" && f.value == "":
			v = m.Date.AppendFormat(v, time.RFC1123Z)
		case f.name == "Message-ID" && f.value == "":
			v = append(append(append(v, '<'), m.MessageID...), '>')
		case needsEncoding(f.value):
			v = append(v, mime.QEncoding.Encode("UTF-8", f.value)...)
		default:
			v = append(v, f.value...)
		}
		sc.val = v
		dst = appendField(dst, f.name, v)
	}
	sc.val = appendAddress(sc.val[:0], m.From)
	dst = appendField(dst, "From", sc.val)
	sc.val = appendAddress(sc.val[:0], m.To)
	dst = appendField(dst, "To", sc.val)
	if m.ReplyTo != "" {
		sc.val = appendAddress(sc.val[:0], Address{Email: m.ReplyTo})
		dst = appendField(dst, "Reply-To", sc.val)
	}
	b := m.Body
	if b.text == nil || b.html == nil {
		dst = append(dst, partHeader(b.text == nil)...)
		return dst, len(dst), len(dst)
	}
	// The boundary is written out from the message, so as not to depend on where dst's
	// bytes end up; go-mail and mime/multipart write it unquoted.
	bStart := len(dst) + len("Content-Type: multipart/alternative;\r\n boundary=")
	dst = append(dst, "Content-Type: multipart/alternative;\r\n boundary="...)
	if m.Boundary != "" {
		dst = append(dst, m.Boundary...)
	} else {
		dst = randomBoundary(dst)
	}
	bEnd := len(dst)
	dst = append(dst, "\r\n\r\n--"...)
	dst = append(dst, dst[bStart:bEnd]...)
	dst = append(dst, "\r\n"...)
	dst = append(dst, partHeader(false)...)
	midAt = len(dst)
	dst = append(dst, "\r\n--"...)
	dst = append(dst, dst[bStart:bEnd]...)
	dst = append(dst, "\r\n"...)
	dst = append(dst, partHeader(true)...)
	tailAt = len(dst)
	dst = append(dst, "\r\n--"...)
	dst = append(dst, dst[bStart:bEnd]...)
	dst = append(dst, "--\r\n"...)
	return dst, midAt, tailAt
}
