package kv

import (
	"errors"
	"fmt"
	"strings"
)

// Reserved keys start with reservedPrefix: the '/' is a byte no row key
// holds (escape writes it as =2F), so no row can collide with them.
const (
	reservedPrefix = "tributary/"
	// CheckpointKey holds the model's sink.Checkpoint as JSON: the stream
	// sequence it has applied and the shapes of its tables.
	CheckpointKey = reservedPrefix + "checkpoint"
	// redoPrefix starts the keys of the writes a transaction too large for
	// one atomic batch stages before it commits (see Tx.Commit).
	redoPrefix = reservedPrefix + "redo."
)

// maxKeyLen bounds a key so that a write's subject stays well inside
// nats-server's default max_control_line (4 KiB), which also holds the
// bucket's prefix and the reply subject.
const maxKeyLen = 3000

// Key returns the key of the row of table whose key columns hold values (as
// text: strings unquoted, numbers as written), in the table's key order.
func Key(table string, values ...string) string {
	var b strings.Builder
	b.WriteString(escape(table))
	for _, v := range values {
		b.WriteByte('.')
		b.WriteString(escape(v))
	}
	return b.String()
}

// ParseKey reverses Key.
func ParseKey(key string) (table string, values []string, err error) {
	tokens := strings.Split(key, ".")
	if len(tokens) < 2 {
		return "", nil, fmt.Errorf("key %q: want table.value[.value…]", key)
	}
	out := make([]string, len(tokens))
	for i, tok := range tokens {
		if out[i], err = unescape(tok); err != nil {
			return "", nil, fmt.Errorf("key %q: %w", key, err)
		}
	}
	return out[0], out[1:], nil
}

// TablePrefix starts every key of a table's rows: a reader lists a table
// with the filter TablePrefix(table) + ">".
func TablePrefix(table string) string { return escape(table) + "." }

// escape writes s as one key token: the bytes A-Z, a-z, 0-9, '_' and '-'
// as they are, every other byte as '=' and two upper-case hex digits, and
// the empty string as "=" alone. A token is never empty and never holds
// '.', so tokens join with '.' into a key NATS accepts.
func escape(s string) string {
	if s == "" {
		return "="
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !plain(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plain(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '=', hex[c>>4], hex[c&15])
	}
	return string(b)
}

func plain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

var errToken = errors.New("not a token escape wrote")

// unescape reverses escape. It refuses any token escape cannot write, so
// that each value has exactly one token.
func unescape(tok string) (string, error) {
	if tok == "=" {
		return "", nil
	}
	if tok == "" {
		return "", fmt.Errorf("empty token: %w", errToken)
	}
	b := make([]byte, 0, len(tok))
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if plain(c) {
			b = append(b, c)
			continue
		}
		if c != '=' || i+2 >= len(tok) || unhex(tok[i+1]) < 0 || unhex(tok[i+2]) < 0 {
			return "", fmt.Errorf("token %q: %w", tok, errToken)
		}
		v := byte(unhex(tok[i+1])<<4 | unhex(tok[i+2]))
		if plain(v) {
			return "", fmt.Errorf("token %q escapes %q: %w", tok, v, errToken)
		}
		b = append(b, v)
		i += 2
	}
	return string(b), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
