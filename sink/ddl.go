package sink

import (
	"fmt"
	"strings"
)

// A DDL event gives a table's definition before and after the statement,
// which says every column added, dropped or changed, except a rename: a
// renamed column looks like one dropped and one added. That would lose its
// values, so renames are read from the statement itself.

// renamedColumns returns the columns the statement renamed, new name to old,
// checked against the definitions before and after it.
func renamedColumns(stmt string, from, to Table) (map[string]string, error) {
	toks := sqlTokens(stmt)
	out := map[string]string{}
	add := func(oldName, newName string) error {
		o, ok := columnNamed(from, oldName)
		if !ok {
			return nil // a column of another statement part, or IF EXISTS that did nothing
		}
		n, ok := columnNamed(to, newName)
		if !ok {
			return fmt.Errorf("statement renames column %s to %s, but the definition after it has no %s", oldName, newName, newName)
		}
		if o != n {
			out[n] = o
		}
		return nil
	}
	for i := 0; i < len(toks); i++ {
		switch {
		case toks[i].word("RENAME") && i+1 < len(toks) && toks[i+1].word("COLUMN"):
			j := i + 2
			if j+1 < len(toks) && toks[j].word("IF") && toks[j+1].word("EXISTS") {
				j += 2
			}
			if j+2 < len(toks) && toks[j+1].word("TO") {
				if err := add(toks[j].text, toks[j+2].text); err != nil {
					return nil, err
				}
				i = j + 2
			}
		case toks[i].word("CHANGE"):
			j := i + 1
			if j < len(toks) && toks[j].word("COLUMN") {
				j++
			}
			if j+1 < len(toks) && toks[j].word("IF") && toks[j+1].word("EXISTS") {
				j += 2
			}
			if j+1 < len(toks) {
				if err := add(toks[j].text, toks[j+1].text); err != nil {
					return nil, err
				}
				i = j + 1
			}
		}
	}
	return out, nil
}

// columnNamed finds a column by name as MySQL does, ignoring case.
func columnNamed(t Table, name string) (string, bool) {
	for _, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return c.Name, true
		}
	}
	return "", false
}

// isRename says whether a DDL statement renames tables: RENAME TABLE(S),
// or ALTER TABLE … RENAME [TO|AS] (not RENAME COLUMN, INDEX, KEY or
// CONSTRAINT).
func isRename(stmt string) bool {
	toks := sqlTokens(stmt)
	if len(toks) == 0 {
		return false
	}
	if toks[0].word("RENAME") {
		return true
	}
	if !toks[0].word("ALTER") {
		return false
	}
	for i := 1; i < len(toks); i++ {
		if !toks[i].word("RENAME") {
			continue
		}
		if i+1 >= len(toks) {
			return false
		}
		next := toks[i+1]
		if !(next.word("COLUMN") || next.word("INDEX") || next.word("KEY") || next.word("CONSTRAINT")) {
			return true
		}
	}
	return false
}

// isTruncate says whether a DDL statement is TRUNCATE [TABLE].
func isTruncate(stmt string) bool {
	toks := sqlTokens(stmt)
	return len(toks) > 0 && toks[0].word("TRUNCATE")
}

// isCreateOrReplace says whether a DDL statement is CREATE OR REPLACE
// [TABLE], which drops a table that exists and creates it again, empty.
func isCreateOrReplace(stmt string) bool {
	toks := sqlTokens(stmt)
	return len(toks) > 2 && toks[0].word("CREATE") && toks[1].word("OR") && toks[2].word("REPLACE")
}

type sqlToken struct {
	text   string
	quoted bool
}

func (t sqlToken) word(w string) bool { return !t.quoted && strings.EqualFold(t.text, w) }

// sqlTokens splits a statement into identifiers and words (backquoted
// identifiers unquoted), leaving out comments, string literals and
// punctuation, which the readers above do not need.
func sqlTokens(s string) []sqlToken {
	var out []sqlToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '`' || c == '\'' || c == '"':
			text, end := quoted(s, i)
			if c == '`' {
				out = append(out, sqlToken{text: text, quoted: true})
			}
			if end < 0 {
				return out
			}
			i = end
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '#' || (c == '-' && strings.HasPrefix(s[i:], "-- ")):
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return out
			}
			i += end + 1
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, sqlToken{text: s[i:j]})
			i = j
		default:
			i++
		}
	}
	return out
}

// quoted reads the quoted text that begins at s[i] (a ', " or `): its
// content, a doubled quote standing for one and, in a string (not a
// backquoted identifier), a backslash escaping the byte after it; and the
// index past its closing quote, or -1 if it has none.
func quoted(s string, i int) (string, int) {
	q := s[i]
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			j++
		case s[j] == q:
			return b.String(), j + 1
		case s[j] == '\\' && q != '`' && j+1 < len(s):
			j++
		}
		b.WriteByte(s[j])
	}
	return b.String(), -1
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
