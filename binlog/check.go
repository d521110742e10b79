package binlog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// Finding is the outcome of one preflight check.
type Finding struct {
	Check string // what was checked, e.g. "binlog_format"
	OK    bool
	Warn  bool   // OK, but with a caveat worth reading
	Got   string // what was found
	Fix   string // the statement or setting that fixes a failure
}

// Check verifies that the source can give Tributary's guarantees: binlog
// on, row format with full images and full metadata, GTIDs, privileges and
// a server id no other replica uses. It reports every check, passing or
// not; an error means the checks could not run at all.
func Check(ctx context.Context, conn *client.Conn, srv Server, user string, serverID uint32) ([]Finding, error) {
	vars := map[string]string{}
	for _, name := range []string{"log_bin", "binlog_format", "binlog_row_image", "binlog_row_metadata", "binlog_row_value_options", "gtid_mode", "gtid_strict_mode"} {
		v, err := variable(conn, name)
		if err != nil {
			return nil, err
		}
		vars[name] = v
	}
	var out []Finding
	want := func(check, got, wantValue, fix string) {
		out = append(out, Finding{Check: check, OK: strings.EqualFold(got, wantValue), Got: orNone(got), Fix: fix})
	}
	want("log_bin", vars["log_bin"], "ON",
		"start the server with log_bin enabled: add log_bin=mysql-bin (and a server_id) under [mysqld] in its config and restart it")
	want("binlog_format", vars["binlog_format"], "ROW",
		"SET GLOBAL binlog_format='ROW'; and binlog_format=ROW under [mysqld] so it survives a restart (sessions already open keep their format until they reconnect)")
	want("binlog_row_image", vars["binlog_row_image"], "FULL",
		"SET GLOBAL binlog_row_image='FULL'; and binlog_row_image=FULL under [mysqld] so it survives a restart")
	want("binlog_row_metadata", vars["binlog_row_metadata"], "FULL",
		"SET GLOBAL binlog_row_metadata='FULL'; and binlog_row_metadata=FULL under [mysqld] (MySQL 8.0.1+, MariaDB 10.5+): without it the binlog carries no column names")
	if srv.Flavor == FlavorMySQL {
		opts := vars["binlog_row_value_options"]
		out = append(out, Finding{Check: "binlog_row_value_options", OK: !strings.Contains(strings.ToUpper(opts), "PARTIAL_JSON"), Got: orNone(opts),
			Fix: "SET GLOBAL binlog_row_value_options=''; partial JSON updates carry diffs, not the full row image"})
	}
	switch {
	case srv.Flavor == FlavorMariaDB:
		strict := strings.EqualFold(vars["gtid_strict_mode"], "ON")
		f := Finding{Check: "gtid", OK: true, Got: "MariaDB GTIDs, gtid_strict_mode=" + orNone(vars["gtid_strict_mode"])}
		if !strict {
			f.Warn = true
			f.Fix = "SET GLOBAL gtid_strict_mode=ON; recommended, so that a GTID position always names one place in the binlog"
		}
		out = append(out, f)
	default:
		f := Finding{Check: "gtid", OK: true, Got: "gtid_mode=" + orNone(vars["gtid_mode"])}
		if !srv.GTID {
			f.Warn = true
			f.Fix = "positions will be binlog file:offset and will not survive a failover; to use GTIDs: SET GLOBAL enforce_gtid_consistency=ON; then step gtid_mode OFF_PERMISSIVE, ON_PERMISSIVE, ON"
		}
		out = append(out, f)
	}
	out = append(out, checkGrants(conn, srv, user))
	sid, err := checkServerID(ctx, conn, srv, serverID)
	if err != nil {
		return nil, err
	}
	return append(out, sid), nil
}

func orNone(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}

func checkGrants(conn *client.Conn, srv Server, user string) Finding {
	f := Finding{Check: "privileges"}
	r, err := conn.Execute("SHOW GRANTS FOR CURRENT_USER()")
	if err != nil {
		f.Got = "cannot read grants: " + err.Error()
		f.Fix = "let the user read its own grants"
		return f
	}
	var all strings.Builder
	for i := range r.RowNumber() {
		g, _ := r.GetString(i, 0)
		all.WriteString(strings.ToUpper(g))
		all.WriteByte('\n')
	}
	grants := all.String()
	global := func(priv string) bool {
		for _, line := range strings.Split(grants, "\n") {
			if !strings.Contains(line, " ON *.* ") {
				continue
			}
			if strings.Contains(line, "ALL PRIVILEGES") || strings.Contains(line, priv) {
				return true
			}
		}
		return false
	}
	var missing []string
	if !global("REPLICATION SLAVE") {
		missing = append(missing, "REPLICATION SLAVE")
	}
	if !global("REPLICATION CLIENT") && !global("BINLOG MONITOR") && !global("SUPER") {
		missing = append(missing, "REPLICATION CLIENT")
	}
	if !global("SELECT") {
		missing = append(missing, "SELECT")
	}
	if len(missing) == 0 {
		f.OK = true
		f.Got = "REPLICATION SLAVE, REPLICATION CLIENT, SELECT"
		return f
	}
	f.Got = "missing " + strings.Join(missing, ", ")
	f.Fix = fmt.Sprintf("GRANT %s ON *.* TO '%s'@'<host>'; (as an administrator)", strings.Join(missing, ", "), user)
	return f
}

// checkServerID fails if the source has the same server id, or a replica
// registered with it. A replica that just died may stay registered for a
// heartbeat or two, so a clash is looked at again for a few seconds before
// it counts.
func checkServerID(ctx context.Context, conn *client.Conn, srv Server, serverID uint32) (Finding, error) {
	f := Finding{Check: "server_id", Got: fmt.Sprintf("tributary %d, source %d", serverID, srv.ServerID)}
	if serverID == 0 {
		f.Fix = "set --server-id to a number no server or replica of this source uses"
		return f, nil
	}
	if serverID == srv.ServerID {
		f.Fix = "set --server-id to a number no server or replica of this source uses (the source itself is " + fmt.Sprint(srv.ServerID) + ")"
		return f, nil
	}
	stmt := "SHOW SLAVE HOSTS"
	if srv.Flavor == FlavorMySQL && srv.atLeast(8, 0) {
		stmt = "SHOW REPLICAS" // MySQL 8.0.22+; 8.4 removed SHOW SLAVE HOSTS
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := conn.Execute(stmt)
		if err != nil {
			f.OK, f.Warn = true, true
			f.Got += "; replicas not listed: " + err.Error()
			f.Fix = "could not verify that no replica uses this id (needs REPLICATION MASTER ADMIN on MariaDB)"
			return f, nil
		}
		clash := false
		for i := range r.RowNumber() {
			id, _ := r.GetUint(i, 0)
			if uint32(id) == serverID {
				clash = true
			}
		}
		if !clash {
			f.OK = true
			return f, nil
		}
		if time.Now().After(deadline) {
			f.Got += "; a replica with this server id is connected"
			f.Fix = "another replica (perhaps another tributary) uses --server-id " + fmt.Sprint(serverID) + ": stop it or choose another id"
			return f, nil
		}
		select {
		case <-ctx.Done():
			return f, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// CheckKeys verifies that every table with a configured key exists and has
// the columns named for it.
func CheckKeys(conn *client.Conn, keys map[string][]string) (Finding, error) {
	f := Finding{Check: "keys", OK: true}
	tables := make([]string, 0, len(keys))
	for t := range keys {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	var got, problems []string
	for _, t := range tables {
		db, name, _ := strings.Cut(t, ".")
		r, err := conn.Execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", db, name)
		if err != nil {
			return f, fmt.Errorf("read the columns of %s: %w", t, err)
		}
		have := map[string]bool{}
		for i := range r.RowNumber() {
			c, _ := r.GetString(i, 0)
			have[c] = true
		}
		got = append(got, t+"="+strings.Join(keys[t], "+"))
		if len(have) == 0 {
			problems = append(problems, "table "+t+" does not exist")
			continue
		}
		for _, c := range keys[t] {
			if !have[c] {
				problems = append(problems, "table "+t+" has no column "+c)
			}
		}
	}
	f.Got = strings.Join(got, ",")
	if len(problems) > 0 {
		f.OK = false
		f.Got = strings.Join(problems, "; ")
		f.Fix = "name existing tables and columns in --keys (db.table=column+column)"
	}
	return f, nil
}
