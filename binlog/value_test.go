package binlog

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendValue(t *testing.T) {
	enum := &column{name: "e", kind: kindEnum, labels: []string{"new", "gold"}}
	set := &column{name: "s", kind: kindSet, labels: []string{"a", "b", "c"}}
	tests := []struct {
		name string
		col  *column
		v    any
		want string
	}{
		{"null", &column{kind: kindInt}, nil, "null"},
		{"int8 min", &column{kind: kindInt}, int8(-128), "-128"},
		{"int64 min", &column{kind: kindInt}, int64(math.MinInt64), "-9223372036854775808"},
		{"uint64 max", &column{kind: kindInt}, uint64(math.MaxUint64), "18446744073709551615"},
		{"uint32 max", &column{kind: kindInt}, uint32(math.MaxUint32), "4294967295"},
		{"year", &column{kind: kindYear}, 2155, "2155"},
		{"bit 64 all ones", &column{kind: kindBit}, int64(-1), "18446744073709551615"},
		{"bit small", &column{kind: kindBit}, int64(5), "5"},
		{"decimal trailing zeros", &column{kind: kindDecimal}, "-0.000100", `"-0.000100"`},
		{"decimal 65 digits", &column{kind: kindDecimal}, strings.Repeat("9", 35) + "." + strings.Repeat("9", 30), `"` + strings.Repeat("9", 35) + "." + strings.Repeat("9", 30) + `"`},
		{"float32 shortest", &column{kind: kindFloat}, float32(1.1), "1.1"},
		{"float64 shortest", &column{kind: kindFloat}, 0.1, "0.1"},
		{"double large", &column{kind: kindFloat}, -1e300, "-1e+300"},
		{"date", &column{kind: kindTemporal}, "2024-02-29", `"2024-02-29"`},
		{"zero date", &column{kind: kindTemporal}, "0000-00-00", `"0000-00-00"`},
		{"time padded", &column{kind: kindTemporal, frac: 2}, "-838:59:59", `"-838:59:59.00"`},
		{"time with fraction", &column{kind: kindTemporal, frac: 3}, "12:00:00.500", `"12:00:00.500"`},
		{"timestamp", &column{kind: kindTimestamp}, "2038-01-19 03:14:07.999999", `"2038-01-19T03:14:07.999999Z"`},
		{"zero timestamp", &column{kind: kindTimestamp}, "0000-00-00 00:00:00", `"0000-00-00 00:00:00"`},
		{"utf8 text", &column{kind: kindText}, "Ann \"A\" 😀\n\t\x01", `"Ann \"A\" 😀\n\t\u0001"`},
		{"text as bytes", &column{kind: kindText}, []byte("blob text"), `"blob text"`},
		{"latin1 high", &column{kind: kindText, charset: charsetLatin1}, "caf\xe9 \x80 \x81", `"café € ` + "\u0081" + `"`},
		{"binary", &column{kind: kindBinary}, []byte{0, 0xff}, `"AP8="`},
		{"empty binary", &column{kind: kindBinary}, "", `""`},
		{"enum label", enum, int64(2), `"gold"`},
		{"enum invalid marker", enum, int64(0), `""`},
		{"set", set, int64(0b101), `["a","c"]`},
		{"empty set", set, int64(0), `[]`},
		{"json", &column{kind: kindJSON}, []byte(`{"k":[1,"x",null]}`), `{"k":[1,"x",null]}`},
		{"json scalar", &column{kind: kindJSON}, `"str"`, `"str"`},
		{"json empty is null", &column{kind: kindJSON}, []byte{}, "null"},
		{"binary padded to its width", &column{kind: kindBinary, width: 4}, []byte{1}, `"AQAAAA=="`},
		{"binary all zeros", &column{kind: kindBinary, width: 2}, "", `"AAA="`},
		{"varbinary not padded", &column{kind: kindBinary}, []byte{1}, `"AQ=="`},
		{"set of 64, all", &column{kind: kindSet, labels: labels(64)}, int64(-1), quotedList(labels(64))},
		{"set of 64, top bit", &column{kind: kindSet, labels: labels(64)}, int64(math.MinInt64), `["l64"]`},
		{"uuid", &column{kind: kindUUID, width: 16}, []byte{0x6c, 0xcd, 0x78, 0x0c, 0xba, 0xba, 0x10, 0x26, 0x95, 0x64, 0x5b, 0x8c, 0x65, 0x60, 0x24, 0xdb}, `"6ccd780c-baba-1026-9564-5b8c656024db"`},
		{"uuid zero, trailing zeros dropped", &column{kind: kindUUID, width: 16}, []byte{}, `"00000000-0000-0000-0000-000000000000"`},
		{"inet4", &column{kind: kindInet4, width: 4}, []byte{192, 168, 1, 10}, `"192.168.1.10"`},
		{"inet4 trailing zeros dropped", &column{kind: kindInet4, width: 4}, []byte{10}, `"10.0.0.0"`},
		{"inet6 any", &column{kind: kindInet6, width: 16}, []byte{}, `"::"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := appendValue(nil, tc.col, tc.v)
			if err != nil {
				t.Fatalf("appendValue(%v) error: %v", tc.v, err)
			}
			if string(got) != tc.want {
				t.Fatalf("appendValue(%#v) = %s, want %s", tc.v, got, tc.want)
			}
			if !json.Valid(got) {
				t.Fatalf("appendValue(%#v) = %s: not valid JSON", tc.v, got)
			}
		})
	}
}

func labels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "l" + strconv.Itoa(i+1)
	}
	return out
}

func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// TestAppendIPv6 checks the text of INET6 values against what MariaDB 10.11
// itself writes for them (SELECT CAST(a AS CHAR)).
func TestAppendIPv6(t *testing.T) {
	tests := []struct{ hex, want string }{
		{"00000000000000000000000000000000", "::"},
		{"00000000000000000000000000000001", "::1"},
		{"00000000000000000000000000000002", "::0.0.0.2"},
		{"000000000000000000000000c0000201", "::192.0.2.1"},
		{"00000000000000000000ffffc0000201", "::ffff:192.0.2.1"},
		{"ffffffffffffffffffffffffffffffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"20010db8000000000000ff0000428329", "2001:db8::ff00:42:8329"},
		{"20010db8000000000001000000000001", "2001:db8::1:0:0:1"},
		{"fe800000000000000001000000000000", "fe80::1:0:0:0"},
		{"20010db8000100010001000100010000", "2001:db8:1:1:1:1:1:0"},
		{"00010000000000000000000000000000", "1::"},
	}
	for _, tc := range tests {
		b, err := hex.DecodeString(tc.hex)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(appendIPv6(nil, b)); got != tc.want {
			t.Errorf("appendIPv6(%s) = %s, want %s", tc.hex, got, tc.want)
		}
	}
}

func TestAppendValueRefuses(t *testing.T) {
	enum := &column{kind: kindEnum, labels: []string{"a"}}
	set := &column{kind: kindSet, labels: []string{"a"}}
	tests := []struct {
		name string
		col  *column
		v    any
	}{
		{"NaN", &column{kind: kindFloat}, math.NaN()},
		{"invalid UTF-8 in utf8 column", &column{kind: kindText}, "\xff"},
		{"enum index past labels", enum, int64(2)},
		{"set bit past labels", set, int64(0b10)},
		{"invalid JSON", &column{kind: kindJSON}, []byte("{")},
		{"wrong Go type", &column{kind: kindDecimal}, 1.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := appendValue(nil, tc.col, tc.v); err == nil {
				t.Fatalf("appendValue(%#v) = %s, nil; want an error", tc.v, got)
			}
		})
	}
}

// FuzzAppendString: every valid UTF-8 string is written as a JSON string
// that decodes back to itself.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote \" and \\", "ctl \x00\x1f\x7f", "emoji 😀", "</script>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		b := appendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, b, err)
		}
		if back != s {
			t.Fatalf("appendString(%q) decodes to %q", s, back)
		}
	})
}

// TestStringWidth decodes the length of MYSQL_TYPE_STRING columns from
// table-map metadata as the server writes it: the real type in the high
// byte, with bits 8-9 of lengths over 255 folded into it.
func TestStringWidth(t *testing.T) {
	tests := []struct {
		meta uint16
		want int
	}{
		{0xfe04, 4},   // BINARY(4)
		{0xfe10, 16},  // BINARY(16), UUID, INET6
		{0xfeff, 255}, // BINARY(255)
		{0xee2c, 300}, // CHAR(100) in utf8mb3: 300 bytes
		{0xee90, 400}, // CHAR(100) in utf8mb4: 400 bytes
	}
	for _, tc := range tests {
		if got := stringWidth(tc.meta); got != tc.want {
			t.Errorf("stringWidth(%#x) = %d, want %d", tc.meta, got, tc.want)
		}
	}
}
