package mailparse

// DecodeWords decodes the RFC 2047 encoded words in s
// ("=?utf-8?q?J=C3=BCrgen?= <j@x>" → "Jürgen <j@x>"), with the charsets
// the parser knows; s is returned unchanged when it has none or they
// cannot be decoded.
func DecodeWords(s string) string {
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}
