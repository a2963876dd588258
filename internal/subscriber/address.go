// Package subscriber validates subscriber addresses and names and reads and writes the CSV files used to import and export the list.
package subscriber

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits from RFC 5321 section 4.5.3.1: a local part of at most 64 octets and a
// path of at most 256 octets including the angle brackets, so 254 for the address.
const (
	maxLocalLen   = 64
	maxAddressLen = 254
	maxLabelLen   = 63
	maxNameRunes  = 200
)

// NormalizeAddress validates and normalises one email address. It trims
// surrounding spaces, rejects display names, angle brackets, comments, quoted
// local parts, line breaks and other control characters, converts an
// internationalised domain to its ASCII (punycode) form and lower-cases the
// domain. The local part keeps its case. The error says what is wrong.
func NormalizeAddress(s string) (string, error) {
	addr, err := normalizeAddress(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("address %q: %w", Clip(s), err)
	}
	return addr, nil
}

// Clip shortens hostile input quoted in an error message to its first 100 bytes.
func Clip(s string) string {
	const keep = 100
	if len(s) <= keep {
		return s
	}
	return strings.ToValidUTF8(s[:keep], "") + "..."
}

func normalizeAddress(s string) (string, error) {
	switch {
	case s == "":
		return "", errors.New("empty")
	// Far past any real address even in Unicode form; checked first so that
	// huge input is not parsed.
	case len(s) > 4*maxAddressLen:
		return "", fmt.Errorf("%d bytes long, the limit is %d", len(s), maxAddressLen)
	case !utf8.ValidString(s):
		return "", errors.New("not valid UTF-8")
	case strings.ContainsAny(s, "\r\n"):
		return "", errors.New("contains a line break")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", errors.New("contains a control character")
	case strings.ContainsAny(s, "<>"):
		return "", errors.New("display names and angle brackets are not allowed, give the bare address")
	case strings.ContainsAny(s, `"()`):
		return "", errors.New("quoted local parts and comments are not supported")
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return "", errors.New("contains a space")
	}
	local, domain, ok := strings.Cut(s, "@")
	switch {
	case !ok:
		return "", errors.New("missing @")
	case strings.Contains(domain, "@"):
		return "", errors.New("more than one @")
	case local == "":
		return "", errors.New("missing the part before @")
	case domain == "":
		return "", errors.New("missing the domain after @")
	case strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, ".."):
		return "", fmt.Errorf("local part %q has a misplaced dot", local)
	case strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "", fmt.Errorf("domain %q has an empty label", domain)
	case strings.HasPrefix(domain, "["):
		return "", errors.New("domain literals are not supported")
	}

	// net/mail checks the local part's characters (RFC 5322 dot-atom, RFC 6532
	// UTF-8). Anything it would rewrite is something the checks above missed,
	// so a changed result is refused rather than silently accepted.
	parsed, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("not a valid address: %s", strings.TrimPrefix(err.Error(), "mail: "))
	}
	if parsed.Name != "" || parsed.Address != s {
		return "", errors.New("not a plain local@domain address")
	}

	ascii, err := asciiDomain(domain)
	if err != nil {
		return "", err
	}
	if len(local) > maxLocalLen {
		return "", fmt.Errorf("local part is %d bytes long, the limit is %d", len(local), maxLocalLen)
	}
	addr := local + "@" + ascii
	if len(addr) > maxAddressLen {
		return "", fmt.Errorf("address is %d bytes long, the limit is %d", len(addr), maxAddressLen)
	}
	return addr, nil
}

// asciiDomain converts domain to lower-case ASCII with the IDNA lookup profile
// and checks the DNS rules that profile leaves out (label lengths, empty labels).
func asciiDomain(domain string) (string, error) {
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", fmt.Errorf("domain %q is not valid: %s", domain, strings.TrimPrefix(err.Error(), "idna: "))
	}
	ascii = strings.ToLower(ascii)
	if !strings.Contains(ascii, ".") {
		return "", fmt.Errorf("domain %q has no dot", domain)
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return "", fmt.Errorf("domain %q has an empty label", domain)
		case len(l) > maxLabelLen:
			return "", fmt.Errorf("domain %q has a label longer than %d bytes", domain, maxLabelLen)
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", fmt.Errorf("domain %q ends in a numeric label", domain)
	}
	return ascii, nil
}

// CleanName makes a display name safe to store and to put in a header: it
// drops invalid UTF-8 and control characters, turns line breaks and other
// white space into single spaces, trims, and caps the result at 200 runes.
func CleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxNameRunes {
		s = strings.TrimRight(string(r[:maxNameRunes]), " ")
	}
	return s
}
