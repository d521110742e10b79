package binlog

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// appendValue appends v, as decoded by go-mysql for column c, in the JSON
// form docs/EVENTS.md documents.
func appendValue(dst []byte, c *column, v any) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	switch c.kind {
	case kindInt, kindYear:
		return appendInteger(dst, v)
	case kindBit:
		// go-mysql decodes BIT(n) into an int64; BIT(64) values with the top
		// bit set must not turn negative.
		if n, ok := v.(int64); ok {
			return strconv.AppendUint(dst, uint64(n), 10), nil
		}
	case kindDecimal:
		s, ok := v.(string)
		if !ok {
			return dst, fmt.Errorf("decimal decoded as %T", v)
		}
		return appendString(dst, s), nil
	case kindFloat:
		switch f := v.(type) {
		case float32:
			return appendFloat(dst, float64(f), 32)
		case float64:
			return appendFloat(dst, f, 64)
		}
	case kindTemporal:
		if s, ok := v.(string); ok {
			return appendString(dst, padFraction(s, c.frac)), nil
		}
	case kindTimestamp:
		if s, ok := v.(string); ok {
			return appendTimestamp(dst, s), nil
		}
	case kindText:
		// go-mysql gives VARCHAR/CHAR as string and TEXT as []byte: write
		// either as it is, without converting it.
		switch t := v.(type) {
		case string:
			return appendText(dst, c, t)
		case []byte:
			return appendText(dst, c, t)
		}
	case kindBinary, kindGeometry:
		if b, ok := rawBytes(v); ok {
			return appendBase64(dst, padded(c, b)), nil
		}
	case kindUUID, kindInet4, kindInet6:
		if b, ok := rawBytes(v); ok {
			dst = append(dst, '"')
			dst = appendSpecial(dst, c.kind, padded(c, b))
			return append(dst, '"'), nil
		}
	case kindEnum:
		i, ok := v.(int64)
		if !ok {
			break
		}
		switch {
		case i == 0:
			// MySQL's "invalid value" marker, stored as the empty string.
			return append(dst, `""`...), nil
		case int(i) <= len(c.labels):
			return appendString(dst, c.labels[i-1]), nil
		}
		return dst, fmt.Errorf("enum index %d but the column has %d labels", i, len(c.labels))
	case kindSet:
		n64, ok := v.(int64)
		if !ok {
			break
		}
		bits := uint64(n64) // a SET has up to 64 members: all 64 bits are flags
		dst = append(dst, '[')
		n := 0
		for i, l := range c.labels {
			if bits&(1<<uint(i)) == 0 {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, l)
			n++
		}
		if len(c.labels) < 64 && bits>>uint(len(c.labels)) != 0 {
			return dst, fmt.Errorf("set bits %b name members the column does not have (%d labels)", bits, len(c.labels))
		}
		return append(dst, ']'), nil
	case kindJSON:
		b, ok := rawBytes(v)
		if !ok {
			break
		}
		if len(b) == 0 {
			return append(dst, "null"...), nil // MySQL writes JSON null as an empty value
		}
		if !json.Valid(b) {
			return dst, fmt.Errorf("JSON column holds invalid JSON")
		}
		return append(dst, b...), nil
	}
	return dst, fmt.Errorf("unexpected %T value for a column of kind %d", v, c.kind)
}

func appendText[T string | []byte](dst []byte, c *column, s T) ([]byte, error) {
	if c.charset == charsetLatin1 {
		return appendString(dst, latin1ToUTF8(s)), nil
	}
	var valid bool
	switch t := any(s).(type) {
	case string:
		valid = utf8.ValidString(t)
	case []byte:
		valid = utf8.Valid(t)
	}
	if !valid {
		return dst, fmt.Errorf("text column holds bytes that are not valid UTF-8")
	}
	return appendString(dst, s), nil
}

// padFraction gives a TIME(n) value its n fractional digits.
func padFraction(s string, frac int) string {
	if frac == 0 || strings.IndexByte(s, '.') >= 0 {
		return s
	}
	return s + "." + strings.Repeat("0", frac)
}

// padded gives a BINARY(n) value back the trailing zero bytes the binlog
// drops.
func padded(c *column, b []byte) []byte {
	if len(b) >= c.width {
		return b
	}
	out := make([]byte, c.width)
	copy(out, b)
	return out
}

// appendSpecial appends the text of a MariaDB UUID, INET4 or INET6 value
// (of its full width) as the server itself writes it.
func appendSpecial(dst []byte, k kind, b []byte) []byte {
	switch k {
	case kindUUID:
		// The binlog carries the RFC 4122 byte order, whatever order the
		// server keeps on disk.
		for i, x := range b {
			if i == 4 || i == 6 || i == 8 || i == 10 {
				dst = append(dst, '-')
			}
			dst = append(dst, hexLower[x>>4], hexLower[x&0xF])
		}
		return dst
	case kindInet4:
		return appendIPv4(dst, b)
	}
	return appendIPv6(dst, b)
}

const hexLower = "0123456789abcdef"

func appendIPv4(dst, b []byte) []byte {
	for i, x := range b {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = strconv.AppendUint(dst, uint64(x), 10)
	}
	return dst
}

// appendIPv6 writes an address as MariaDB's INET6 does: IPv4-mapped and
// IPv4-compatible addresses (but :: and ::1) end in a dotted quad, and the
// longest run of two or more zero groups (the first of equals) becomes
// "::"; hex digits in lower case without leading zeros.
func appendIPv6(dst, b []byte) []byte {
	zero10 := true
	for _, x := range b[:10] {
		zero10 = zero10 && x == 0
	}
	switch {
	case zero10 && b[10] == 0xFF && b[11] == 0xFF:
		return appendIPv4(append(dst, "::ffff:"...), b[12:])
	case zero10 && b[10] == 0 && b[11] == 0 && (b[12] != 0 || b[13] != 0 || b[14] != 0 || b[15] > 1):
		return appendIPv4(append(dst, "::"...), b[12:])
	}
	var groups [8]uint64
	for i := range groups {
		groups[i] = uint64(b[2*i])<<8 | uint64(b[2*i+1])
	}
	runStart, runLen := -1, 1 // a single zero group is not compressed
	for i := 0; i < 8; {
		if groups[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && groups[j] == 0 {
			j++
		}
		if j-i > runLen {
			runStart, runLen = i, j-i
		}
		i = j
	}
	for i := 0; i < 8; i++ {
		if i == runStart {
			dst = append(dst, "::"...)
			i += runLen - 1
			continue
		}
		if i > 0 && i != runStart+runLen {
			dst = append(dst, ':')
		}
		dst = strconv.AppendUint(dst, groups[i], 16)
	}
	return dst
}

func rawBytes(v any) ([]byte, bool) {
	switch b := v.(type) {
	case []byte:
		return b, true
	case string:
		return []byte(b), true
	}
	return nil, false
}

func appendInteger(dst []byte, v any) ([]byte, error) {
	switch n := v.(type) {
	case int8:
		return strconv.AppendInt(dst, int64(n), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(n), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(n), 10), nil
	case int64:
		return strconv.AppendInt(dst, n, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(n), 10), nil
	case uint8:
		return strconv.AppendUint(dst, uint64(n), 10), nil
	case uint16:
		return strconv.AppendUint(dst, uint64(n), 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(n), 10), nil
	case uint64:
		return strconv.AppendUint(dst, n, 10), nil
	}
	return dst, fmt.Errorf("integer decoded as %T", v)
}

func appendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("float value %v has no JSON form", f)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits), nil
}

// appendTimestamp turns go-mysql's "YYYY-MM-DD HH:MM:SS[.ffffff]", already in
// UTC, into RFC 3339 with a Z. The zero timestamp stays as MySQL writes it:
// it is no instant at all.
func appendTimestamp(dst []byte, s string) []byte {
	if len(s) < 19 || s[:4] == "0000" {
		return appendString(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s[:10]...)
	dst = append(dst, 'T')
	dst = append(dst, s[11:]...)
	return append(dst, 'Z', '"')
}

func appendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

const hexDigit = "0123456789ABCDEF"

// appendString appends s as a JSON string. s must be valid UTF-8.
func appendString[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigit[c>>4], hexDigit[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// cp1252High maps bytes 0x80-0x9F as MySQL's latin1 (which is cp1252) does;
// the five bytes cp1252 leaves undefined map to the C1 controls, as in MySQL.
var cp1252High = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

func latin1ToUTF8[T string | []byte](b T) string {
	out := make([]byte, 0, len(b)+len(b)/4)
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c < 0x80:
			out = append(out, c)
		case c < 0xA0:
			out = utf8.AppendRune(out, cp1252High[c-0x80])
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return string(out)
}
