package kv

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Order_42-a", "Order_42-a"},
		{"empty", "", "="},
		{"dot", "a.b", "a=2Eb"},
		{"escape byte", "=", "=3D"},
		{"slash", "a/b", "a=2Fb"},
		{"space and wildcards", "* >", "=2A=20=3E"},
		{"utf-8", "Zoë", "Zo=C3=AB"},
		{"bytes", "\x00\xff", "=00=FF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escape(tt.in); got != tt.want {
				t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
			back, err := unescape(tt.want)
			if err != nil || back != tt.in {
				t.Errorf("unescape(%q) = %q, %v, want %q", tt.want, back, err, tt.in)
			}
		})
	}
}

// TestUnescapeRefuses: a token escape would not write has no value, so no
// two tokens mean the same value.
func TestUnescapeRefuses(t *testing.T) {
	for _, tok := range []string{"", "a.b", "=4", "=zz", "=2e", "=41", "a=", "==", "a b", "é", "%", "%41", "a%2E"} {
		if got, err := unescape(tok); err == nil {
			t.Errorf("unescape(%q) = %q, want an error", tok, got)
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		name   string
		table  string
		values []string
		want   string
	}{
		{"one column", "orders", []string{"42"}, "orders.42"},
		{"two columns", "order_lines", []string{"42", "3"}, "order_lines.42.3"},
		{"text", "users", []string{"ann@example.com"}, "users.ann=40example=2Ecom"},
		{"empty and negative", "t", []string{"", "-1.5"}, "t.=.-1=2E5"},
		{"table needing escapes", "my table", []string{"1"}, "my=20table.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Key(tt.table, tt.values...)
			if got != tt.want {
				t.Fatalf("Key(%q, %q) = %q, want %q", tt.table, tt.values, got, tt.want)
			}
			table, values, err := ParseKey(got)
			if err != nil || table != tt.table || !slices.Equal(values, tt.values) {
				t.Errorf("ParseKey(%q) = %q, %q, %v, want %q, %q", got, table, values, err, tt.table, tt.values)
			}
		})
	}
}

// validKey is what NATS KV accepts as a key (nats.go's own check), less
// the leading '.' and the empty tokens it refuses elsewhere.
var validKey = regexp.MustCompile(`^[-/_=a-zA-Z0-9]+(\.[-/_=a-zA-Z0-9]+)*$`)

func FuzzEscape(f *testing.F) {
	f.Add("orders", "42", "")
	f.Add("a.b", "Zoë", "*")
	f.Add("=", "=3D", ">")
	f.Add("\x00\xff", "-_", "tributary/checkpoint")
	f.Fuzz(func(t *testing.T, table, a, b string) {
		for n := 1; n <= 2; n++ {
			values := []string{a, b}[:n]
			key := Key(table, values...)
			if !validKey.MatchString(key) {
				t.Fatalf("Key(%q, %q) = %q: not a valid KV key", table, values, key)
			}
			if strings.HasPrefix(key, reservedPrefix) {
				t.Fatalf("Key(%q, %q) = %q: a reserved key", table, values, key)
			}
			gotTable, got, err := ParseKey(key)
			if err != nil || gotTable != table || !slices.Equal(got, values) {
				t.Fatalf("ParseKey(Key(%q, %q)) = %q, %q, %v", table, values, gotTable, got, err)
			}
		}
	})
}
