package tributary

import "strings"

// Subject tokens. NATS subjects split on '.', and '*', '>' and white space
// have meanings of their own, so every database, table and key value is
// escaped into a token made only of [A-Za-z0-9_-] and '%'.
//
// The escaping is reversible:
//   - a byte in [A-Za-z0-9_-] stands for itself;
//   - any other byte b is written %HH, two upper-case hex digits;
//   - an empty value is written % alone (a token is never empty);
//   - the values of a composite key are joined with ',';
//   - a row with no key at all gets the token NoKeyToken, '~', which no
//     escaped value can produce.
const (
	keySeparator = ','
	// NoKeyToken is the subject token for rows of a table with no key.
	NoKeyToken = "~"
)

const hexDigits = "0123456789ABCDEF"

func safeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// AppendEscaped appends the subject-token form of one value.
func AppendEscaped(dst []byte, v string) []byte {
	if v == "" {
		return append(dst, '%')
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if safeByte(c) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&0xF])
	}
	return dst
}

// EscapeToken returns the subject-token form of one value.
func EscapeToken(v string) string {
	return string(AppendEscaped(nil, v))
}

// EscapeKey returns the subject token for a key made of the given values.
func EscapeKey(values []string) string {
	if len(values) == 0 {
		return NoKeyToken
	}
	var b []byte
	for i, v := range values {
		if i > 0 {
			b = append(b, keySeparator)
		}
		b = AppendEscaped(b, v)
	}
	return string(b)
}

// UnescapeKey reverses EscapeKey. It reports false for a token EscapeKey
// cannot have produced.
func UnescapeKey(token string) ([]string, bool) {
	if token == NoKeyToken {
		return nil, true
	}
	if token == "" {
		return nil, false
	}
	parts := strings.Split(token, string(keySeparator))
	values := make([]string, len(parts))
	for i, p := range parts {
		v, ok := UnescapeToken(p)
		if !ok {
			return nil, false
		}
		values[i] = v
	}
	return values, true
}

// UnescapeToken reverses EscapeToken (one value; no separators). It
// reports false for a token EscapeToken cannot have produced.
func UnescapeToken(p string) (string, bool) {
	if p == "%" {
		return "", true
	}
	if p == "" {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case safeByte(c):
			b.WriteByte(c)
		case c == '%' && i+2 < len(p):
			hi, ok1 := unhex(p[i+1])
			lo, ok2 := unhex(p[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			v := hi<<4 | lo
			if safeByte(v) {
				return "", false // EscapeKey never escapes a safe byte
			}
			b.WriteByte(v)
			i += 2
		default:
			return "", false
		}
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
