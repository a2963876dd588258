package bounce

import "strings"

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
