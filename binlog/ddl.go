package binlog

import (
	"strings"
)

// tableRef names a table a DDL statement changes.
type tableRef struct{ db, name string }

// ddlTables lists the tables a DDL statement creates, alters, renames,
// truncates or drops, in statement order, qualified with defaultDB where
// the statement does not name a database. Statements of other kinds
// (databases, views, routines, grants) and temporary tables give none.
func ddlTables(stmt, defaultDB string) []tableRef {
	t := &ddlTokens{s: stmt}
	word := func(ws ...string) bool {
		save := t.pos
		for _, w := range ws {
			if !strings.EqualFold(t.next(), w) {
				t.pos = save
				return false
			}
		}
		return true
	}
	name := func() (tableRef, bool) {
		first := t.next()
		if first == "" || first == "," || first == "." || first == "(" {
			return tableRef{}, false
		}
		save := t.pos
		if t.next() == "." {
			if second := t.next(); second != "" {
				return tableRef{unquoteIdent(first), unquoteIdent(second)}, true
			}
		}
		t.pos = save
		return tableRef{defaultDB, unquoteIdent(first)}, true
	}
	var out []tableRef
	one := func() []tableRef {
		if r, ok := name(); ok {
			out = append(out, r)
		}
		return out
	}
	switch {
	case word("CREATE"):
		word("OR", "REPLACE")
		if word("TEMPORARY") {
			return nil
		}
		if word("TABLE") {
			word("IF", "NOT", "EXISTS")
			return one()
		}
		word("UNIQUE")
		word("FULLTEXT")
		word("SPATIAL")
		if word("INDEX") {
			word("IF", "NOT", "EXISTS")
			t.next() // the index name
			if word("ON") {
				return one()
			}
		}
	case word("ALTER"):
		word("ONLINE")
		word("IGNORE")
		if word("TABLE") {
			word("IF", "EXISTS")
			one()
			// ALTER TABLE … RENAME [TO|AS] new names a second table.
			for depth := 0; ; {
				switch tok := t.next(); {
				case tok == "":
					return out
				case tok == "(":
					depth++
				case tok == ")":
					depth--
				case depth == 0 && strings.EqualFold(tok, "RENAME"):
					if word("COLUMN") || word("INDEX") || word("KEY") {
						continue
					}
					if !word("TO") {
						word("AS")
					}
					one()
				}
			}
		}
	case word("DROP"):
		if word("TEMPORARY") {
			return nil
		}
		if word("TABLE") {
			word("IF", "EXISTS")
			for {
				r, ok := name()
				if !ok {
					return out
				}
				out = append(out, r)
				if !word(",") {
					return out
				}
			}
		}
		if word("INDEX") {
			word("IF", "EXISTS")
			t.next()
			if word("ON") {
				return one()
			}
		}
	case word("RENAME"):
		if word("TABLE") {
			for {
				from, ok := name()
				if !ok || !word("TO") {
					return out
				}
				to, ok := name()
				if !ok {
					return out
				}
				out = append(out, from, to)
				if !word(",") {
					return out
				}
			}
		}
	case word("TRUNCATE"):
		word("TABLE")
		return one()
	}
	return out
}

// ddlTokens splits SQL into identifiers (quoted or not), keywords, string
// literals (quotes included) and single punctuation characters, skipping
// white space and comments.
type ddlTokens struct {
	s   string
	pos int
}

func (t *ddlTokens) next() string {
	for t.pos < len(t.s) {
		c := t.s[t.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			t.pos++
		case strings.HasPrefix(t.s[t.pos:], "/*"):
			end := strings.Index(t.s[t.pos+2:], "*/")
			if end < 0 {
				t.pos = len(t.s)
				return ""
			}
			t.pos += end + 4
		case strings.HasPrefix(t.s[t.pos:], "-- ") || c == '#':
			end := strings.IndexByte(t.s[t.pos:], '\n')
			if end < 0 {
				t.pos = len(t.s)
				return ""
			}
			t.pos += end
		case c == '`':
			start := t.pos
			t.pos++
			for t.pos < len(t.s) {
				if t.s[t.pos] == '`' {
					if t.pos+1 < len(t.s) && t.s[t.pos+1] == '`' {
						t.pos += 2
						continue
					}
					t.pos++
					return t.s[start:t.pos]
				}
				t.pos++
			}
			return t.s[start:]
		case c == '\'' || c == '"':
			// A string literal, quotes included: ENUM labels, COMMENT and
			// DEFAULT values may hold commas, parentheses and keywords.
			start := t.pos
			t.pos++
			for t.pos < len(t.s) {
				switch t.s[t.pos] {
				case '\\':
					t.pos += 2
					continue
				case c:
					if t.pos+1 < len(t.s) && t.s[t.pos+1] == c {
						t.pos += 2
						continue
					}
					t.pos++
					return t.s[start:t.pos]
				}
				t.pos++
			}
			t.pos = len(t.s)
			return t.s[start:]
		case identByte(c):
			start := t.pos
			for t.pos < len(t.s) && identByte(t.s[t.pos]) {
				t.pos++
			}
			return t.s[start:t.pos]
		default:
			t.pos++
			return string(c)
		}
	}
	return ""
}

func identByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}
