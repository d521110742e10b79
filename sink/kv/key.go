package kv

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tributary-cdc/tributary"
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
	b := appendEscaped(nil, table)
	for _, v := range values {
		b = appendEscaped(append(b, '.'), v)
	}
	return string(b)
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

// A key token is a subject token (tributary.EscapeToken) with '=' for its
// escape byte, since a KV key cannot hold '%': the bytes A-Z, a-z, 0-9, '_'
// and '-' as they are, every other byte as '=' and two upper-case hex
// digits, and the empty string as "=" alone. A token is never empty and
// never holds '.', so tokens join with '.' into a key NATS accepts.
const (
	escapeByte        = '='
	subjectEscapeByte = '%'
)

// appendEscaped appends the key token of s.
func appendEscaped(dst []byte, s string) []byte {
	n := len(dst)
	dst = tributary.AppendEscaped(dst, s)
	// The subject form holds '%' only as its escape byte.
	for i := n; i < len(dst); i++ {
		if dst[i] == subjectEscapeByte {
			dst[i] = escapeByte
		}
	}
	return dst
}

func escape(s string) string { return string(appendEscaped(nil, s)) }

var errToken = errors.New("not a token escape wrote")

// unescape reverses escape. It refuses any token escape cannot write, so
// that each value has exactly one token.
func unescape(tok string) (string, error) {
	if strings.IndexByte(tok, subjectEscapeByte) >= 0 {
		return "", fmt.Errorf("token %q: %w", tok, errToken)
	}
	v, ok := tributary.UnescapeToken(strings.ReplaceAll(tok, string(escapeByte), string(subjectEscapeByte)))
	if !ok {
		return "", fmt.Errorf("token %q: %w", tok, errToken)
	}
	return v, nil
}
