package binlog

import (
	"fmt"
	"strconv"
)

// keyString is the canonical text of a key value, before subject escaping:
// what a person would type to name the row.
func keyString(c *column, v any) (string, error) {
	switch c.kind {
	case kindInt, kindYear:
		b, err := appendInteger(nil, v)
		return string(b), err
	case kindBit:
		if n, ok := v.(int64); ok {
			return strconv.FormatUint(uint64(n), 10), nil
		}
	case kindFloat:
		b, err := appendValue(nil, c, v)
		return string(b), err
	case kindDecimal:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kindTemporal:
		if s, ok := v.(string); ok {
			return padFraction(s, c.frac), nil
		}
	case kindTimestamp:
		if s, ok := v.(string); ok {
			b := appendTimestamp(nil, s)
			return string(b[1 : len(b)-1]), nil
		}
	case kindText:
		if b, ok := rawBytes(v); ok {
			if c.charset == charsetLatin1 {
				return latin1ToUTF8(b), nil
			}
			return string(b), nil
		}
	case kindBinary:
		if b, ok := rawBytes(v); ok {
			return string(padded(c, b)), nil
		}
	case kindUUID, kindInet4, kindInet6:
		if b, ok := rawBytes(v); ok {
			return string(appendSpecial(nil, c.kind, padded(c, b))), nil
		}
	case kindEnum:
		if i, ok := v.(int64); ok && i > 0 && int(i) <= len(c.labels) {
			return c.labels[i-1], nil
		}
	}
	return "", fmt.Errorf("a %T value of column %s cannot be part of a key", v, c.name)
}
