// Package token signs and checks the opaque tokens in unsubscribe, confirmation and VERP
// addresses and forms: an HMAC-SHA256 tag over the subscriber's id and address, so a token
// acts for one subscriber only and cannot be forged without the key.
package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrInvalid is returned for a token that is malformed or whose signature does not match.
var ErrInvalid = errors.New("token: invalid")

// tagSize is the truncated HMAC length: 128 bits, as RFC 8058 §3 asks for a hard-to-forge component.
const tagSize = 16

// Purpose separates token kinds so that one kind can never be replayed as another.
type Purpose string

// Token purposes.
const (
	Unsubscribe Purpose = "unsubscribe"
	// PublicForm is the sign-up forms' token, handed to any visitor.
	PublicForm Purpose = "public-form"
	// AdminForm is the admin pages' token: a public form's token is no good there.
	AdminForm Purpose = "admin-form"
)

// Signer makes and checks tokens with one key.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer; the key must be at least 32 bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("token: key is %d bytes, need at least 32", len(key))
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Make returns the token for one subscriber.
func (s *Signer) Make(p Purpose, id int64, email string) string {
	return seal(binary.BigEndian.AppendUint64(nil, uint64(id)), s.tag(tagSize, p, email, id))
}

// ID extracts the subscriber id a token claims, without checking it. Callers look the
// subscriber up and then call Check; a malformed token is ErrInvalid.
func (s *Signer) ID(tok string) (int64, error) {
	raw := open(tok, 8)
	if raw == nil {
		return 0, ErrInvalid
	}
	id := int64(binary.BigEndian.Uint64(raw))
	if id <= 0 {
		return 0, ErrInvalid
	}
	return id, nil
}

// Check reports whether tok was made for this purpose, id and address (constant time).
func (s *Signer) Check(p Purpose, tok string, id int64, email string) bool {
	got, err := s.ID(tok)
	return err == nil && got == id && hmac.Equal(open(tok, 8)[8:], s.tag(tagSize, p, email, id))
}

// seal encodes a token: its body, then its tag, in unpadded base64url.
func seal(body, tag []byte) string {
	return base64.RawURLEncoding.EncodeToString(append(body, tag...))
}

// open decodes a token that seal made of a body of n bytes; nil when it is malformed. Each
// kind of token has its own body length, so that none parses as another even before the
// purpose in the tag is checked.
func open(tok string, n int) []byte {
	if len(tok) != base64.RawURLEncoding.EncodedLen(n+tagSize) {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != n+tagSize {
		return nil
	}
	return raw
}

// tag is the first size bytes of the MAC over the purpose, the numbers and the address
// (lower-cased), NUL-separated.
func (s *Signer) tag(size int, p Purpose, email string, nums ...int64) []byte {
	msg := []byte(p)
	for _, n := range nums {
		msg = strconv.AppendInt(append(msg, 0), n, 10)
	}
	return s.mac(append(append(msg, 0), strings.ToLower(email)...))[:size]
}

// mac is the HMAC-SHA256 of msg under the key: every token's tag and every digest.
func (s *Signer) mac(msg []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(msg)
	return m.Sum(nil)
}

// LoadOrCreateKey reads a hex key from path, or creates one of 32 random bytes (mode 0600)
// when the file does not exist.
func LoadOrCreateKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(data)))
		if derr != nil || len(key) < 32 {
			return nil, fmt.Errorf("token: %s does not hold a hex key of at least 32 bytes", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("token: %w", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	// O_EXCL: if two processes race, one loses and reads the winner's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("token: %w", err)
	}
	return key, nil
}
