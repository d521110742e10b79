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
	p := &ddlParser{t: ddlTokens{s: stmt}, defaultDB: defaultDB}
	var out []tableRef
	// one reads a table name into out, and reports whether there was one.
	one := func(read func() (tableRef, error)) bool {
		ref, err := read()
		if err == nil {
			out = append(out, ref)
		}
		return err == nil
	}
	switch {
	case p.word("CREATE"):
		p.word("OR", "REPLACE")
		if p.word("TEMPORARY") {
			return nil
		}
		if p.word("TABLE") {
			p.word("IF", "NOT", "EXISTS")
			one(p.table)
			return out
		}
		p.word("UNIQUE")
		p.word("FULLTEXT")
		p.word("SPATIAL")
		if p.word("INDEX") {
			p.word("IF", "NOT", "EXISTS")
			p.t.next() // the index name
			if p.word("ON") {
				one(p.lockedTable)
			}
		}
	case p.word("ALTER"):
		p.word("ONLINE")
		p.word("IGNORE")
		if p.word("TABLE") {
			p.word("IF", "EXISTS")
			if !one(p.lockedTable) {
				return out
			}
			// ALTER TABLE … RENAME [TO|AS] new names a second table.
			for {
				switch {
				case p.peek() == "":
					return out
				case p.peek() == "(":
					p.skipGroup()
				case p.word("RENAME"):
					if p.word("COLUMN") || p.word("INDEX") || p.word("KEY") {
						continue
					}
					if !p.word("TO") {
						p.word("AS")
					}
					one(p.table)
				default:
					p.t.next()
				}
			}
		}
	case p.word("DROP"):
		if p.word("TEMPORARY") {
			return nil
		}
		if p.word("TABLE") || p.word("TABLES") {
			p.word("IF", "EXISTS")
			for one(p.table) && p.word(",") {
			}
			return out
		}
		if p.word("INDEX") {
			p.word("IF", "EXISTS")
			p.t.next() // the index name
			if p.word("ON") {
				one(p.lockedTable)
			}
		}
	case p.word("RENAME"):
		if p.word("TABLE") || p.word("TABLES") {
			for one(p.lockedTable) && p.word("TO") && one(p.table) && p.word(",") {
			}
		}
	case p.word("TRUNCATE"):
		p.word("TABLE")
		one(p.lockedTable)
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
