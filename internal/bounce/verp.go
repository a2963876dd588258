package bounce

// VERPToken returns TOKEN when addr is bounceAddress's local+TOKEN@domain form (a VERP
// envelope sender a provider's webhook reports back), else "".
func VERPToken(bounceAddress, addr string) string {
	tok, _ := plusToken(bounceAddress, addr)
	return tok
}
