// Package dkim signs rendered messages with DKIM (RFC 6376), RSA-SHA256 or Ed25519-SHA256
// (RFC 8463), relaxed/relaxed, over the headers a newsletter needs signed, oversigned.
package dkim

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// signedHeaders are always signed: the identity of the message plus List-Id,
// List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 §4 asks for the last two, so that
// the one-click URL cannot be swapped in transit). MIME-Version and Content-Type are signed
// so the body cannot be re-interpreted.
var signedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
}

// optionalHeaders are signed, oversigned, when the message has them; a message without them
// does not name them in h=, so a list that later adds a Reply-To keeps the signature valid.
var optionalHeaders = []string{"Reply-To", "Feedback-ID"}

// Key is one signing key and the selector its public key is published under.
type Key struct {
	Selector string        // s=, the DNS record is SELECTOR._domainkey.DOMAIN
	Signer   crypto.Signer // *rsa.PrivateKey or ed25519.PrivateKey
}

// Options configure a Signer.
type Options struct {
	Domain string // d=, e.g. technerdo.com
	// Keys each sign every message, in this order: one key, or an RSA and an Ed25519 key
	// (RFC 8463 §4: verifiers that do not know Ed25519 yet still find the RSA signature).
	Keys []Key
	Now  func() time.Time // t=; nil means time.Now
}

// Signer signs messages; safe for concurrent use.
type Signer struct {
	domain string
	keys   []signingKey
	now    func() time.Time
}

type signingKey struct {
	Key
	algo string // a=
}

// New checks opt and returns a Signer.
func New(opt Options) (*Signer, error) {
	if opt.Domain == "" {
		return nil, errors.New("dkim: domain is required")
	}
	if len(opt.Keys) == 0 {
		return nil, errors.New("dkim: no key")
	}
	s := &Signer{domain: opt.Domain, now: opt.Now}
	for i, k := range opt.Keys {
		if k.Selector == "" || strings.ContainsAny(k.Selector, " ;=:\t\r\n") {
			return nil, fmt.Errorf("dkim: key %d: selector %q is not a DNS label", i+1, k.Selector)
		}
		algo, err := algorithm(k.Signer)
		if err != nil {
			return nil, fmt.Errorf("dkim: key %d: %w", i+1, err)
		}
		s.keys = append(s.keys, signingKey{Key: k, algo: algo})
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

func algorithm(key crypto.Signer) (string, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return "", fmt.Errorf("RSA key of %d bits is too short (RFC 8301 wants at least 1024, better 2048)", k.N.BitLen())
		}
		return "rsa-sha256", nil
	case ed25519.PrivateKey:
		return "ed25519-sha256", nil
	}
	return "", fmt.Errorf("key type %T not supported, want RSA or Ed25519", key)
}

// Sign returns msg with its DKIM-Signature header fields in front.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	sig, err := s.Signature(msg)
	if err != nil {
		return nil, err
	}
	return append(sig, msg...), nil
}

// Signature returns the DKIM-Signature header fields of msg, one per key, each ending in
// CRLF, to be written in front of it. The body is canonicalised and hashed once for all keys.
func (s *Signer) Signature(msg []byte) ([]byte, error) {
	head, body := splitMessage(msg)
	fields := headerFields(head)
	bh := bodyHash(body)
	// The signed header fields, canonicalised: the same for every key.
	var canon []byte
	var keys []string
	picked := make([]bool, len(fields))
	add := func(name string, n int) {
		for range n + 1 {
			keys = append(keys, name)
		}
		// RFC 6376 §5.4.2: instances are signed from the bottom up.
		for i := len(fields) - 1; i >= 0 && n > 0; i-- {
			if !picked[i] && strings.EqualFold(fields[i].name, name) {
				picked[i] = true
				canon = relaxedHeader(canon, fields[i].raw)
				n--
			}
		}
	}
	for _, h := range signedHeaders {
		add(h, count(fields, h))
	}
	for _, h := range optionalHeaders {
		if n := count(fields, h); n > 0 {
			add(h, n)
		}
	}
	t := strconv.FormatInt(s.now().Unix(), 10)
	h := strings.Join(keys, ":")
	var out []byte
	for _, k := range s.keys {
		tags := [][2]string{{"a", k.algo}, {"bh", bh}, {"c", "relaxed/relaxed"}, {"d", s.domain}, {"h", h},
			{"s", k.Selector}, {"t", t}, {"v", "1"}}
		field := formatField(tags, "")
		sum := sha256.New()
		sum.Write(canon)
		sum.Write(bytes.TrimSuffix(relaxedHeader(nil, field), []byte("\r\n")))
		digest := sum.Sum(nil)
		var sig []byte
		var err error
		switch key := k.Signer.(type) {
		case ed25519.PrivateKey:
			// RFC 8463 §3: PureEdDSA over the SHA-256 hash of the signed data.
			sig = ed25519.Sign(key, digest)
		default:
			sig, err = k.Signer.Sign(rand.Reader, digest, crypto.SHA256)
		}
		if err != nil {
			return nil, fmt.Errorf("dkim: sign with %s: %w", k.Selector, err)
		}
		out = append(out, formatField(tags, base64.StdEncoding.EncodeToString(sig))...)
	}
	return out, nil
}

// formatField writes the DKIM-Signature field as go-msgauth did when it signed for us, so
// that recipients get the same bytes: the tags in order, a line break before a tag that would
// pass 75 characters, and b= on lines of its own, cut every 75 characters.
func formatField(tags [][2]string, b string) []byte {
	out := []byte("DKIM-Signature:")
	line := 0
	for _, t := range tags {
		if 3+line+len(t[0])+len(t[1]) > 75 {
			out = append(out, "\r\n"...)
			line = 0
		}
		out = append(out, ' ')
		out = append(out, t[0]...)
		out = append(out, '=')
		out = append(out, t[1]...)
		out = append(out, ';')
		line += 3 + len(t[0]) + len(t[1])
	}
	out = append(out, "\r\n"...)
	v := " b=" + b
	for len(v) > 75 {
		out = append(out, v[:75]...)
		out = append(out, "\r\n "...)
		v = v[75:]
	}
	out = append(out, v...)
	return append(out, "\r\n"...)
}

// field is one header field of a message: its name and its raw bytes, continuation lines
// and the final line break included.
type field struct {
	name string
	raw  []byte
}

// splitMessage cuts msg at the blank line ending the header.
func splitMessage(msg []byte) (head, body []byte) {
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		return msg[:i+2], msg[i+4:]
	}
	if i := bytes.Index(msg, []byte("\n\n")); i >= 0 {
		return msg[:i+1], msg[i+2:]
	}
	return msg, nil
}

// headerFields splits a header block into its fields.
func headerFields(head []byte) []field {
	fields := make([]field, 0, 24)
	for len(head) > 0 {
		end := 0
		for {
			i := bytes.IndexByte(head[end:], '\n')
			if i < 0 {
				end = len(head)
				break
			}
			end += i + 1
			if end >= len(head) || (head[end] != ' ' && head[end] != '\t') {
				break
			}
		}
		raw := head[:end]
		head = head[end:]
		if name, _, ok := bytes.Cut(raw, []byte(":")); ok {
			fields = append(fields, field{name: string(bytes.TrimSpace(name)), raw: raw})
		}
	}
	return fields
}

func count(fields []field, name string) int {
	n := 0
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			n++
		}
	}
	return n
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// relaxedHeader appends the relaxed canonical form of one header field (RFC 6376 §3.4.2):
// the name lower-cased, the value unfolded, runs of white space made one space, white space
// around the colon and at the end removed, and CRLF.
func relaxedHeader(dst, raw []byte) []byte {
	name, value, _ := bytes.Cut(raw, []byte(":"))
	dst = append(dst, bytes.ToLower(bytes.TrimSpace(name))...)
	dst = append(dst, ':')
	space := false
	start := len(dst)
	for _, c := range value {
		if isWSP(c) {
			space = true
			continue
		}
		if space && len(dst) > start {
			dst = append(dst, ' ')
		}
		space = false
		dst = append(dst, c)
	}
	return append(dst, "\r\n"...)
}

// bodyHash is the base64 SHA-256 of the relaxed canonical body (RFC 6376 §3.4.4): white
// space at line ends removed, other runs of it made one space, empty lines at the end
// removed, and a non-empty body ending in CRLF. Lines that need no change, nearly all of a
// quoted-printable body, go to the hash in runs as they are.
func bodyHash(body []byte) string {
	h := sha256.New()
	var scratch []byte
	empty := 0 // empty lines not yet written: they count only if a non-empty one follows
	run := 0   // start of the unchanged lines not yet hashed
	for i := 0; i < len(body); {
		end := len(body)
		next := end
		if j := bytes.IndexByte(body[i:], '\n'); j >= 0 {
			end, next = i+j, i+j+1
		}
		crlf := end > i && body[end-1] == '\r' && next > end
		line := body[i:end]
		if crlf {
			line = body[i : end-1]
		}
		clean := crlf && len(line) > 0 && empty == 0 && !needsRelaxing(line)
		if clean {
			i = next
			continue
		}
		h.Write(body[run:i])
		scratch = relaxLine(scratch[:0], line)
		if len(scratch) == 0 {
			empty++
		} else {
			for ; empty > 0; empty-- {
				h.Write([]byte("\r\n"))
			}
			h.Write(scratch)
			h.Write([]byte("\r\n"))
		}
		i = next
		run = i
	}
	if empty == 0 {
		h.Write(body[run:])
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// needsRelaxing reports a line the relaxed body form may change: one holding a tab, a CR
// or two spaces in a row, or ending in a space.
func needsRelaxing(line []byte) bool {
	if line[len(line)-1] == ' ' {
		return true
	}
	if bytes.IndexByte(line, '\t') >= 0 || bytes.IndexByte(line, '\r') >= 0 {
		return true
	}
	return bytes.Contains(line, []byte("  "))
}

// relaxLine appends line with white space at its end removed and other runs of it made one
// space; a line of white space only becomes empty. A lone CR stays.
func relaxLine(dst, line []byte) []byte {
	space := false
	for _, c := range line {
		switch c {
		case ' ', '\t':
			space = true
			continue
		case '\r':
			space = false // a lone CR ends a run of white space unwritten, as go-msgauth has it
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// LoadKey reads a PEM private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY", RSA
// or Ed25519) from path.
func LoadKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	key, err := ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("dkim: %s: %w", path, err)
	}
	return key, nil
}

// ParseKey parses a PEM private key, RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8).
func ParseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case ed25519.PrivateKey:
			return k, nil
		}
		return nil, fmt.Errorf("key type %T not supported, want RSA or Ed25519", k)
	}
	return nil, fmt.Errorf("PEM block %q, want RSA PRIVATE KEY or PRIVATE KEY", block.Type)
}

// TXTRecord returns the DNS TXT value to publish at SELECTOR._domainkey.DOMAIN for key.
func TXTRecord(key crypto.Signer) (string, error) {
	switch k := key.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k), nil
	}
	return "", fmt.Errorf("dkim: key type %T not supported", key)
}
