package tributary

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEscapeKey(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{"integer", []string{"42"}, "42"},
		{"composite", []string{"1", "2"}, "1,2"},
		{"dot", []string{"a.b"}, "a%2Eb"},
		{"wildcards and space", []string{"* > x"}, "%2A%20%3E%20x"},
		{"separator and percent", []string{"a,b%"}, "a%2Cb%25"},
		{"empty value", []string{""}, "%"},
		{"empty among others", []string{"", "x", ""}, "%,x,%"},
		{"non-ASCII", []string{"Zoë"}, "Zo%C3%AB"},
		{"tilde", []string{"~"}, "%7E"},
		{"no key", nil, NoKeyToken},
		{"negative decimal", []string{"-12.50"}, "-12%2E50"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := EscapeKey(tc.values)
			if got != tc.want {
				t.Fatalf("EscapeKey(%q) = %q, want %q", tc.values, got, tc.want)
			}
			back, ok := UnescapeKey(got)
			if !ok || !cmp.Equal(back, tc.values) {
				t.Fatalf("UnescapeKey(%q) = %q, %v, want %q", got, back, ok, tc.values)
			}
		})
	}
}

func TestUnescapeKeyRejects(t *testing.T) {
	for _, token := range []string{"", "a.b", "%2", "%zz", "%41", "a b", "%2e", "a,,b", ",", "~x"} {
		if got, ok := UnescapeKey(token); ok {
			t.Errorf("UnescapeKey(%q) = %q, true; want false: EscapeKey never produces it", token, got)
		}
	}
}

// FuzzEscapeKey: escaping is reversible, and a token is always one valid,
// wildcard-free NATS subject token.
func FuzzEscapeKey(f *testing.F) {
	f.Add("42", "", "a.b c")
	f.Add("Zoë", "*", ">")
	f.Add("%", ",", "~")
	f.Add("\x00\xff", "-_", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for n := 1; n <= 3; n++ {
			values := []string{a, b, c}[:n]
			token := EscapeKey(values)
			if token == "" || strings.ContainsAny(token, ". *>\t\r\n") {
				t.Fatalf("EscapeKey(%q) = %q: not a single wildcard-free subject token", values, token)
			}
			back, ok := UnescapeKey(token)
			if !ok || !slices.Equal(back, values) {
				t.Fatalf("UnescapeKey(EscapeKey(%q)) = %q, %v", values, back, ok)
			}
		}
	})
}
