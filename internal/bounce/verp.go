package bounce

import "strings"

// VERPToken returns TOKEN when addr is bounceAddress's local+TOKEN@domain form (a VERP
// envelope sender a provider's webhook reports back), else "".
func VERPToken(bounceAddress, addr string) string {
	tok, _ := plusToken(bounceAddress, addr)
	return tok
}

// VERPAddress is the envelope sender that carries tok back in a bounce: tok after a "+"
// in the local part of the bounce address (bounces+TOKEN@example.org), the form Parse
// finds again with Options.BounceAddress.
func VERPAddress(bounceAddress, tok string) string {
	i := strings.LastIndexByte(bounceAddress, '@')
	if i < 0 {
		return bounceAddress + "+" + tok
	}
	return bounceAddress[:i] + "+" + tok + bounceAddress[i:]
}
