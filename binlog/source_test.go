package binlog

import (
	"strings"
	"testing"
)

func TestParseSource(t *testing.T) {
	tests := []struct {
		in      string
		want    Source
		wantErr string
	}{
		{in: "mysql://tributary:s3cret@127.0.0.1:3307", want: Source{Host: "127.0.0.1", Port: 3307, User: "tributary", Password: "s3cret"}},
		{in: "mariadb://u:p%40ss@db.internal", want: Source{Host: "db.internal", Port: 3306, User: "u", Password: "p@ss"}},
		{in: "mysql://u@[::1]:3306", want: Source{Host: "::1", Port: 3306, User: "u"}},
		{in: "postgres://u:p@h:5432", wantErr: "want mysql:// or mariadb://"},
		{in: "mysql://h:3306", wantErr: "no user"},
		{in: "mysql://u:p@h:70000", wantErr: "port"},
		{in: "mysql://u:p@h:3306/shop", wantErr: "name no database"},
		{in: "mysql://u:top%zzsecret@h", wantErr: "want mysql://USER:PASSWORD@HOST:PORT"},
	}
	for _, tc := range tests {
		got, err := ParseSource(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSource(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("ParseSource(%q) error %q shows the password", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSource(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if strings.Contains(got.String(), got.Password) && got.Password != "" {
			t.Errorf("Source.String() = %q shows the password", got.String())
		}
	}
}

func TestServerAtLeast(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool
	}{
		{"8.4.3", true}, {"8.2.0", true}, {"8.1.0", false}, {"8.0.36-log", false}, {"5.7.44", false},
		{"9.1.0", true}, {"10.11.19-MariaDB-0+deb12u1-log", true}, {"", false},
	} {
		if got := (Server{Version: tc.version}).atLeast(8, 2); got != tc.want {
			t.Errorf("Server{Version: %q}.atLeast(8, 2) = %v, want %v", tc.version, got, tc.want)
		}
	}
}
