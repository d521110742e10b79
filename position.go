package tributary

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is a point between two transactions in a source's binlog.
//
// File and Offset locate it physically. GTIDSet, when the source uses
// GTIDs, is the set of transactions executed before it, in the flavour's
// own syntax ("0-1-42" for MariaDB, "uuid:1-42" for MySQL); with a GTID set
// a position survives binlog renames and failover, so it is preferred.
type Position struct {
	File    string
	Offset  uint64
	GTIDSet string
}

// IsZero reports whether p names no position at all.
func (p Position) IsZero() bool {
	return p.File == "" && p.Offset == 0 && p.GTIDSet == ""
}

// FileOffset formats the physical part as "file:offset".
func (p Position) FileOffset() string {
	if p.File == "" {
		return ""
	}
	return p.File + ":" + strconv.FormatUint(p.Offset, 10)
}

// String formats p for people: "binlog.000003:1234" and the GTID set if any.
func (p Position) String() string {
	switch {
	case p.File == "" && p.GTIDSet == "":
		return "(none)"
	case p.GTIDSet == "":
		return p.FileOffset()
	case p.File == "":
		return "gtid " + p.GTIDSet
	default:
		return p.FileOffset() + " (gtid " + p.GTIDSet + ")"
	}
}

// ParseFileOffset parses "file:offset" as written by FileOffset.
func ParseFileOffset(s string) (file string, offset uint64, err error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return "", 0, fmt.Errorf("parse binlog position %q: want FILE:OFFSET", s)
	}
	offset, err = strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("parse binlog position %q: offset: %w", s, err)
	}
	return s[:i], offset, nil
}
