package token

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrExpired is returned for a well-signed token whose time is up.
var ErrExpired = errors.New("token: expired")

// Confirm is the purpose of double opt-in confirmation links.
const Confirm Purpose = "confirm"

// expiringLen is the length of an encoded expiring token: 8 id bytes, 8 expiry bytes
// (unix seconds) and the tag. It differs from an unsubscribe token's length, so
// neither kind parses as the other even before the purpose in the tag is checked.
var expiringLen = base64.RawURLEncoding.EncodedLen(16 + tagSize)

// MakeExpiring returns a token for one subscriber that stops working at expires.
func (s *Signer) MakeExpiring(p Purpose, id int64, email string, expires time.Time) string {
	buf := make([]byte, 16, 16+tagSize)
	binary.BigEndian.PutUint64(buf, uint64(id))
	binary.BigEndian.PutUint64(buf[8:], uint64(expires.Unix()))
	buf = append(buf, s.expiringTag(p, id, email, expires.Unix())...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// ParseExpiring returns the subscriber id and expiry a token claims, without checking
// its signature; a malformed token is ErrInvalid.
func ParseExpiring(tok string) (id int64, expires time.Time, err error) {
	if len(tok) != expiringLen {
		return 0, time.Time{}, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 16+tagSize {
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
	if err != nil || got != id {
		return ErrInvalid
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	if !hmac.Equal(raw[16:], s.expiringTag(p, id, email, exp.Unix())) {
		return ErrInvalid
	}
	if !now.Before(exp) {
		return ErrExpired
	}
	return nil
}

func (s *Signer) expiringTag(p Purpose, id int64, email string, exp int64) []byte {
	return s.mac(fmt.Appendf(nil, "%s\x00%d\x00%d\x00%s", p, id, exp, strings.ToLower(email)))[:tagSize]
}

// formLen is the length of an encoded form token: 8 bytes of issue time, a 16-byte nonce, the tag.
var formLen = base64.RawURLEncoding.EncodedLen(24 + tagSize)

// MakeForm returns a token for a form served at now: the signed double-submit value
// that proves a POST comes from a page this server rendered, without a cookie.
func (s *Signer) MakeForm(p Purpose, now time.Time) string {
	buf := make([]byte, 24, 24+tagSize)
	binary.BigEndian.PutUint64(buf, uint64(now.Unix()))
	_, _ = rand.Read(buf[8:24]) // crypto/rand.Read never fails (Go 1.24+)
	buf = append(buf, s.formTag(p, buf[:24])...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// CheckForm verifies a form token for purpose p made at most maxAge before now (and not in
// the future).
func (s *Signer) CheckForm(p Purpose, tok string, now time.Time, maxAge time.Duration) error {
	if len(tok) != formLen {
		return ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 24+tagSize || !hmac.Equal(raw[24:], s.formTag(p, raw[:24])) {
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
