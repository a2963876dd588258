// Package dkim signs rendered messages with DKIM (RFC 6376) using emersion/go-msgauth,
// RSA or Ed25519, relaxed/relaxed, over the headers a newsletter needs signed, oversigned.
package dkim

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	msgauth "github.com/emersion/go-msgauth/dkim"
)

// DefaultHeaders are signed when Options.Headers is empty: the identity of the message
// plus List-Id, List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 §4 asks for the last
// two, so that the one-click URL cannot be swapped in transit). MIME-Version and
// Content-Type are signed so the body cannot be re-interpreted.
var DefaultHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
}

// DefaultOptionalHeaders are signed, oversigned, when the message has them; a message
// without them does not name them in h=, so a list that later adds a Reply-To keeps the
// signature valid.
var DefaultOptionalHeaders = []string{"Reply-To", "Feedback-ID"}

// Options configure a Signer.
type Options struct {
	Domain   string        // d=, e.g. technerdo.com
	Selector string        // s=, the DNS record is SELECTOR._domainkey.DOMAIN
	Key      crypto.Signer // *rsa.PrivateKey or ed25519.PrivateKey
	Headers  []string      // always signed; empty means DefaultHeaders
	// Optional are signed only when present; nil means DefaultOptionalHeaders.
	Optional []string
}

// Signer signs messages; safe for concurrent use.
type Signer struct {
	opt Options
}

// New checks opt and returns a Signer.
func New(opt Options) (*Signer, error) {
	if opt.Domain == "" || opt.Selector == "" {
		return nil, errors.New("dkim: domain and selector are required")
	}
	switch k := opt.Key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return nil, fmt.Errorf("dkim: RSA key of %d bits is too short (RFC 8301 wants at least 1024, better 2048)", k.N.BitLen())
		}
	case ed25519.PrivateKey:
	default:
		return nil, fmt.Errorf("dkim: key type %T not supported, want RSA or Ed25519", opt.Key)
	}
	if len(opt.Headers) == 0 {
		opt.Headers = DefaultHeaders
	}
	if opt.Optional == nil {
		opt.Optional = DefaultOptionalHeaders
	}
	return &Signer{opt: opt}, nil
}

// Sign returns msg with a DKIM-Signature header field in front.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	so := &msgauth.SignOptions{
		Domain:                 s.opt.Domain,
		Selector:               s.opt.Selector,
		Signer:                 s.opt.Key,
		HeaderKeys:             s.headerKeys(msg),
		HeaderCanonicalization: msgauth.CanonicalizationRelaxed,
		BodyCanonicalization:   msgauth.CanonicalizationRelaxed,
	}
	ds, err := msgauth.NewSigner(so)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	if _, err := ds.Write(msg); err != nil {
		ds.Close()
		return nil, fmt.Errorf("dkim: %w", err)
	}
	if err := ds.Close(); err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	sig := ds.Signature()
	out := make([]byte, 0, len(sig)+len(msg))
	out = append(out, sig...)
	return append(out, msg...), nil
}

// headerKeys is the h= list for msg, oversigned: each header named once more than msg has
// it (RFC 6376 §8.15), so that a copy prepended in transit (a second Subject or
// List-Unsubscribe, which most clients would show instead) breaks the signature; the
// verifier matches the extra name against a field that must not exist.
func (s *Signer) headerKeys(msg []byte) []string {
	count := fieldCounts(msg)
	keys := make([]string, 0, 2*(len(s.opt.Headers)+len(s.opt.Optional)))
	add := func(name string, n int) {
		for range n + 1 {
			keys = append(keys, name)
		}
	}
	for _, h := range s.opt.Headers {
		add(h, count[strings.ToLower(h)])
	}
	for _, h := range s.opt.Optional {
		if n := count[strings.ToLower(h)]; n > 0 {
			add(h, n)
		}
	}
	return keys
}

// fieldCounts counts the header fields of msg by lower-case name, up to the blank line.
func fieldCounts(msg []byte) map[string]int {
	count := map[string]int{}
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			msg = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // a folded continuation
		}
		if name, _, ok := bytes.Cut(line, []byte(":")); ok {
			count[strings.ToLower(string(bytes.TrimSpace(name)))]++
		}
	}
	return count
}

// String describes the signer for the plan printed before a send.
func (s *Signer) String() string {
	kind := "rsa"
	if _, ok := s.opt.Key.(ed25519.PrivateKey); ok {
		kind = "ed25519"
	}
	return fmt.Sprintf("DKIM %s d=%s s=%s", kind, s.opt.Domain, s.opt.Selector)
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
