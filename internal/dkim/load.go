package dkim

import (
	"crypto/ed25519"
	"errors"
	"fmt"
)

// Files is the configuration's dkim section: the domain and each key's selector and PEM
// file. KeyFile holds an RSA or an Ed25519 key; Ed25519KeyFile, optional, an Ed25519 key
// that signs every message a second time (RFC 8463).
type Files struct {
	Domain          string
	Selector        string
	KeyFile         string
	Ed25519Selector string
	Ed25519KeyFile  string
}

// Enabled reports whether a key is configured: without one, nothing is signed.
func (f Files) Enabled() bool { return f.KeyFile != "" || f.Ed25519KeyFile != "" }

// Load reads the configured keys and returns the Signer that signs with all of them. Its
// errors name the configuration key at fault (dkim.key_file, dkim.ed25519_selector, …).
func Load(f Files) (*Signer, error) {
	if !f.Enabled() {
		return nil, errors.New("dkim.key_file: no key configured")
	}
	if f.KeyFile == "" {
		// Receivers that do not verify Ed25519 yet would find no signature they can check.
		return nil, errors.New("dkim.ed25519_key_file: needs dkim.key_file (an RSA key) beside it")
	}
	key, err := LoadKey(f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("dkim.key_file: %w", err)
	}
	keys := []Key{{Selector: f.Selector, Signer: key}}
	if f.Ed25519KeyFile != "" {
		if _, ok := key.(ed25519.PrivateKey); ok {
			return nil, errors.New("dkim.ed25519_key_file: dkim.key_file already holds an Ed25519 key; put an RSA key there")
		}
		ed, err := LoadKey(f.Ed25519KeyFile)
		if err != nil {
			return nil, fmt.Errorf("dkim.ed25519_key_file: %w", err)
		}
		if _, ok := ed.(ed25519.PrivateKey); !ok {
			return nil, fmt.Errorf("dkim.ed25519_key_file: %s holds a %T, want an Ed25519 key", f.Ed25519KeyFile, ed)
		}
		if f.Ed25519Selector == "" || f.Ed25519Selector == f.Selector {
			return nil, errors.New("dkim.ed25519_selector: needs a selector of its own beside dkim.selector")
		}
		keys = append(keys, Key{Selector: f.Ed25519Selector, Signer: ed})
	}
	return New(Options{Domain: f.Domain, Keys: keys})
}
