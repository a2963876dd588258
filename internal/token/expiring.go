package token

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// ErrExpired is returned for a well-signed token whose time is up.
var ErrExpired = errors.New("token: expired")

// Confirm is the purpose of double opt-in confirmation links.
const Confirm Purpose = "confirm"

// MakeExpiring returns a token for one subscriber that stops working at expires.
func (s *Signer) MakeExpiring(p Purpose, id int64, email string, expires time.Time) string {
	body := binary.BigEndian.AppendUint64(nil, uint64(id))
	body = binary.BigEndian.AppendUint64(body, uint64(expires.Unix()))
	return seal(body, s.tag(tagSize, p, email, id, expires.Unix()))
}

// ParseExpiring returns the subscriber id and expiry a token claims, without checking
// its signature; a malformed token is ErrInvalid.
func ParseExpiring(tok string) (id int64, expires time.Time, err error) {
	raw := open(tok, 16)
	if raw == nil {
		return 0, time.Time{}, ErrInvalid
	}
	id = int64(binary.BigEndian.Uint64(raw[:8]))
	exp := int64(binary.BigEndian.Uint64(raw[8:16]))
	if id <= 0 || exp <= 0 {
		return 0, time.Time{}, ErrInvalid
	}
	return id, time.Unix(exp, 0).UTC(), nil
}

// CheckExpiring verifies that tok was made for this purpose, id and address (constant
// time) and has not expired at now: nil, ErrInvalid or ErrExpired. The signature is
// checked first, so a forged token is never reported as merely expired.
func (s *Signer) CheckExpiring(p Purpose, tok string, id int64, email string, now time.Time) error {
	got, exp, err := ParseExpiring(tok)
	if err != nil || got != id || !hmac.Equal(open(tok, 16)[16:], s.tag(tagSize, p, email, id, exp.Unix())) {
		return ErrInvalid
	}
	if !now.Before(exp) {
		return ErrExpired
	}
	return nil
}

// MakeForm returns a token for a form served at now: the signed double-submit value
// that proves a POST comes from a page this server rendered, without a cookie. Its body
// is the time and a 16-byte nonce.
func (s *Signer) MakeForm(p Purpose, now time.Time) string {
	body := make([]byte, 24)
	binary.BigEndian.PutUint64(body, uint64(now.Unix()))
	_, _ = rand.Read(body[8:]) // crypto/rand.Read never fails (Go 1.24+)
	return seal(body, s.formTag(p, body))
}

// CheckForm verifies a form token for purpose p made at most maxAge before now (and not in
// the future).
func (s *Signer) CheckForm(p Purpose, tok string, now time.Time, maxAge time.Duration) error {
	raw := open(tok, 24)
	if raw == nil || !hmac.Equal(raw[24:], s.formTag(p, raw[:24])) {
		return ErrInvalid
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
	if issued.After(now.Add(time.Minute)) {
		return ErrInvalid
	}
	if now.Sub(issued) > maxAge {
		return ErrExpired
	}
	return nil
}

func (s *Signer) formTag(p Purpose, body []byte) []byte {
	return s.mac(append([]byte("form\x00"+string(p)+"\x00"), body...))[:tagSize]
}

// Digest is a keyed hash (HMAC-SHA256) of an address, lower-cased, for the suppression
// list: it identifies an address without storing it, and without the key nobody can
// test guesses against it.
func (s *Signer) Digest(address string) []byte {
	return s.mac([]byte("suppression\x00" + strings.ToLower(strings.TrimSpace(address))))
}

// InstallTag is a short lower-case tag fixed for this key: the per-install part of
// Message-IDs, so that two installs (or one whose data was reset with a new key) that
// number issues and subscribers alike never send the same Message-ID, which Gmail drops as
// a repeat. It reveals nothing of the key.
func (s *Signer) InstallTag() string {
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(s.mac([]byte("message-id\x00"))[:5]))
}
