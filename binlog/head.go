package binlog

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/tributary-cdc/tributary"
)

// Head reads the position the source's binlog ends at now: the next
// transaction to be committed will start there.
func Head(conn *client.Conn, srv Server) (tributary.Position, error) {
	p, r, err := headFileOffset(conn, srv)
	if err != nil || !srv.GTID {
		return p, err
	}
	if srv.Flavor == FlavorMariaDB {
		// BINLOG_GTID_POS gives the GTID state matching exactly this file
		// and offset, which a separate read of @@gtid_binlog_pos would not
		// under concurrent commits.
		g, err := conn.Execute("SELECT BINLOG_GTID_POS(?, ?)", p.File, p.Offset)
		if err != nil {
			return p, fmt.Errorf("read GTID position at %s: %w", p.FileOffset(), err)
		}
		p.GTIDSet, _ = g.GetString(0, 0)
		return p, nil
	}
	if r.ColumnNumber() >= 5 {
		p.GTIDSet, _ = r.GetString(0, 4)
		p.GTIDSet = strings.ReplaceAll(p.GTIDSet, "\n", "")
	}
	return p, nil
}

// headFileOffset reads the file and offset the binlog ends at now (no GTID
// set), and the status row that says so.
func headFileOffset(conn *client.Conn, srv Server) (tributary.Position, *mysql.Result, error) {
	stmt := "SHOW MASTER STATUS"
	if srv.Flavor == FlavorMySQL && srv.atLeast(8, 2) {
		stmt = "SHOW BINARY LOG STATUS" // new in MySQL 8.2; 8.4 removed SHOW MASTER STATUS
	}
	r, err := conn.Execute(stmt)
	if err != nil {
		return tributary.Position{}, nil, fmt.Errorf("read binlog head: %w", err)
	}
	if r.RowNumber() == 0 {
		return tributary.Position{}, nil, fmt.Errorf("read binlog head: %w: the binary log is off (start the server with --log-bin)", tributary.ErrPreflight)
	}
	var p tributary.Position
	p.File, _ = r.GetString(0, 0)
	p.Offset, _ = r.GetUint(0, 1)
	return p, r, nil
}

// BinlogFiles lists the binlog files the source still has, oldest first.
func BinlogFiles(conn *client.Conn) ([]string, error) {
	r, err := conn.Execute("SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("list binary logs: %w", err)
	}
	files := make([]string, 0, r.RowNumber())
	for i := range r.RowNumber() {
		f, _ := r.GetString(i, 0)
		files = append(files, f)
	}
	return files, nil
}
