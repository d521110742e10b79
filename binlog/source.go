package binlog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// Flavors, as detected from the server's version string.
const (
	FlavorMySQL   = mysql.MySQLFlavor
	FlavorMariaDB = mysql.MariaDBFlavor
)

// Source says how to reach a MySQL or MariaDB server.
type Source struct {
	Host     string
	Port     uint16
	User     string
	Password string
}

// ParseSource parses a source URL: mysql://USER:PASSWORD@HOST:PORT or
// mariadb://…; the scheme does not decide the flavour, the server does.
func ParseSource(raw string) (Source, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Source{}, fmt.Errorf("parse source URL: %w (want mysql://USER:PASSWORD@HOST:PORT)", redact(err, raw))
	}
	if u.Scheme != "mysql" && u.Scheme != "mariadb" {
		return Source{}, fmt.Errorf("source URL scheme %q: want mysql:// or mariadb://", u.Scheme)
	}
	if u.User == nil || u.User.Username() == "" {
		return Source{}, errors.New("source URL has no user: want mysql://USER:PASSWORD@HOST:PORT")
	}
	s := Source{Host: u.Hostname(), Port: 3306, User: u.User.Username()}
	s.Password, _ = u.User.Password()
	if s.Host == "" {
		return Source{}, errors.New("source URL has no host: want mysql://USER:PASSWORD@HOST:PORT")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return Source{}, fmt.Errorf("source URL port %q: want a number from 1 to 65535", p)
		}
		s.Port = uint16(n)
	}
	if u.Path != "" && u.Path != "/" {
		return Source{}, fmt.Errorf("source URL path %q: name no database, tributary reads the whole server (use include to choose tables)", u.Path)
	}
	return s, nil
}

// redact replaces the URL in a url.Error so that a password never reaches a
// log or an error message.
func redact(err error, raw string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return errors.New(strings.ReplaceAll(err.Error(), raw, "<source URL>"))
}

// Addr is host:port.
func (s Source) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(int(s.Port)))
}

// String is the source without its password, safe to log.
func (s Source) String() string {
	return "mysql://" + s.User + "@" + s.Addr()
}

// Connect opens a SQL connection to the source.
func (s Source) Connect(ctx context.Context) (*client.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dialer := &net.Dialer{}
	conn, err := client.ConnectWithDialer(ctx, "tcp", s.Addr(), s.User, s.Password, "", dialer.DialContext)
	if err != nil {
		return nil, classifyConnectError(s, err)
	}
	return conn, nil
}

// ErrAccessDenied means the source refused the user or password.
var ErrAccessDenied = errors.New("access denied")

// ErrUnreachable means nothing answered at the source address.
var ErrUnreachable = errors.New("source unreachable")

func classifyConnectError(s Source, err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) && (me.Code == mysql.ER_ACCESS_DENIED_ERROR || me.Code == mysql.ER_DBACCESS_DENIED_ERROR) {
		return fmt.Errorf("connect to %s: %w: %s (check the user and password in the source URL)", s, ErrAccessDenied, me.Message)
	}
	var ne net.Error
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("connect to %s: %w: %v (is the server running and listening on that address?)", s, ErrUnreachable, err)
	}
	return fmt.Errorf("connect to %s: %w", s, err)
}

// Server describes the connected server.
type Server struct {
	Flavor   string // FlavorMySQL or FlavorMariaDB
	Version  string
	ServerID uint32
	Hostname string
	Port     int
	// GTID reports whether positions can be given as GTID sets: always on
	// MariaDB, only with gtid_mode=ON on MySQL.
	GTID bool
}

// Describe reads the server's flavour, identity and GTID mode.
func Describe(conn *client.Conn) (Server, error) {
	var srv Server
	r, err := conn.Execute("SELECT VERSION(), @@server_id, @@hostname, @@port")
	if err != nil {
		return srv, fmt.Errorf("read server version: %w", err)
	}
	srv.Version, _ = r.GetString(0, 0)
	id, _ := r.GetUint(0, 1)
	srv.ServerID = uint32(id)
	srv.Hostname, _ = r.GetString(0, 2)
	port, _ := r.GetInt(0, 3)
	srv.Port = int(port)
	srv.Flavor = FlavorMySQL
	if strings.Contains(strings.ToLower(srv.Version), "mariadb") {
		srv.Flavor = FlavorMariaDB
		srv.GTID = true
		return srv, nil
	}
	mode, err := variable(conn, "gtid_mode")
	if err != nil {
		return srv, err
	}
	srv.GTID = strings.EqualFold(mode, "ON")
	return srv, nil
}

// variable reads a global system variable; a variable the server does not
// have reads as "".
func variable(conn *client.Conn, name string) (string, error) {
	r, err := conn.Execute("SHOW GLOBAL VARIABLES LIKE '" + name + "'")
	if err != nil {
		return "", fmt.Errorf("read variable %s: %w", name, err)
	}
	if r.RowNumber() == 0 {
		return "", nil
	}
	v, _ := r.GetString(0, 1)
	return v, nil
}

// atLeast reports whether the server's version is major.minor or later.
func (s Server) atLeast(major, minor int) bool {
	var maj, min int
	if _, err := fmt.Sscanf(s.Version, "%d.%d", &maj, &min); err != nil {
		return false
	}
	return maj > major || maj == major && min >= minor
}
