package token

import (
	"crypto/hmac"
	"encoding/base32"
	"encoding/binary"
	"strings"
)

// VERP is the purpose of envelope-sender tokens (bounces+TOKEN@example.com).
const VERP Purpose = "verp"

// verpTagSize is shorter than tagSize to keep the address short (local parts stop at 64
// octets): a forged bounce needs an online guess of 80 bits per try.
const verpTagSize = 10

// verpEncoding is lower-case base32 without padding: a local part's case may not survive
// the trip through the mail system, and base32 decodes whatever case comes back.
var verpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// MakeVERP returns the envelope-sender token for the message of one issue to one
// subscriber: both ids as varints, then a tag over them and the address.
func (s *Signer) MakeVERP(issueID, subscriberID int64, email string) string {
	buf := binary.AppendUvarint(nil, uint64(issueID))
	buf = binary.AppendUvarint(buf, uint64(subscriberID))
	buf = append(buf, s.tag(verpTagSize, VERP, email, issueID, subscriberID)...)
	return strings.ToLower(verpEncoding.EncodeToString(buf))
}

// ParseVERP returns the issue and subscriber a VERP token claims, without checking its
// signature; a malformed token is ErrInvalid.
func ParseVERP(tok string) (issueID, subscriberID int64, err error) {
	if len(tok) == 0 || len(tok) > 48 {
		return 0, 0, ErrInvalid
	}
	up := strings.ToUpper(tok)
	raw, err := verpEncoding.DecodeString(up)
	// The encoding must be the canonical one, so that one message has one token.
	if err != nil || verpEncoding.EncodeToString(raw) != up {
		return 0, 0, ErrInvalid
	}
	issue, n := binary.Uvarint(raw)
	if n <= 0 {
		return 0, 0, ErrInvalid
	}
	sub, m := binary.Uvarint(raw[n:])
	if m <= 0 || len(raw) != n+m+verpTagSize || issue == 0 || sub == 0 || issue > 1<<62 || sub > 1<<62 {
		return 0, 0, ErrInvalid
	}
	return int64(issue), int64(sub), nil
}

// CheckVERP reports whether tok was made for this issue, subscriber and address
// (constant time).
func (s *Signer) CheckVERP(tok string, issueID, subscriberID int64, email string) bool {
	is, sub, err := ParseVERP(tok)
	if err != nil || is != issueID || sub != subscriberID {
		return false
	}
	raw, _ := verpEncoding.DecodeString(strings.ToUpper(tok))
	return hmac.Equal(raw[len(raw)-verpTagSize:], s.tag(verpTagSize, VERP, email, issueID, subscriberID))
}
