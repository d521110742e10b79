package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/tributary-cdc/tributary"
	"github.com/tributary-cdc/tributary/binlog"
	"github.com/tributary-cdc/tributary/eventlog"
)

// clearTributaryEnv unsets every TRIBUTARY_* variable for the test, so the
// environment the tests run in cannot leak into load.
func clearTributaryEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TRIBUTARY_") {
			unsetEnv(t, k)
		}
	}
}

// unsetEnv unsets k for the test and restores it afterwards.
func unsetEnv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "") // registers the restore
	if err := os.Unsetenv(k); err != nil {
		t.Fatalf("unsetenv %s: %v", k, err)
	}
}

// writeConfig writes a YAML config file and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tributary.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	return path
}

// loadArgs binds the flags the way the commands do, parses args, and loads
// the configuration the way the commands' RunE does.
func loadArgs(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	cmd := &cobra.Command{Use: "test"}
	c := defaultConfig()
	var configPath string
	fs := cmd.Flags()
	commonFlags(fs, &c, &configPath)
	sourceFlags(fs, &c)
	natsFlags(fs, &c)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("ParseFlags(%q): %v", args, err)
	}
	err := c.load(cmd, configPath)
	return c, err
}

func TestLoadPrecedence(t *testing.T) {
	fields := []struct {
		name                        string
		yamlKey                     string
		env                         string
		flag                        string
		get                         func(Config) any
		def                         any
		yaml                        string // the value in the file
		envVal                      string
		flagVal                     string
		fromYAML, fromEnv, fromFlag any
	}{
		{
			name: "stream", yamlKey: "stream", env: "TRIBUTARY_STREAM", flag: "--stream",
			get: func(c Config) any { return c.Stream }, def: "",
			yaml: "A", envVal: "B", flagVal: "C",
			fromYAML: "A", fromEnv: "B", fromFlag: "C",
		},
		{
			name: "server_id", yamlKey: "server_id", env: "TRIBUTARY_SERVER_ID", flag: "--server-id",
			get: func(c Config) any { return c.ServerID }, def: uint32(0),
			yaml: "11", envVal: "22", flagVal: "33",
			fromYAML: uint32(11), fromEnv: uint32(22), fromFlag: uint32(33),
		},
		{
			name: "name", yamlKey: "name", env: "TRIBUTARY_NAME", flag: "--name",
			get: func(c Config) any { return c.Name }, def: "",
			yaml: "from-yaml", envVal: "from-env", flagVal: "from-flag",
			fromYAML: "from-yaml", fromEnv: "from-env", fromFlag: "from-flag",
		},
		{
			name: "log_level", yamlKey: "log_level", env: "TRIBUTARY_LOG_LEVEL", flag: "--log-level",
			get: func(c Config) any { return c.LogLevel }, def: "info",
			yaml: "debug", envVal: "warn", flagVal: "error",
			fromYAML: "debug", fromEnv: "warn", fromFlag: "error",
		},
		{
			name: "data_dir", yamlKey: "data_dir", env: "TRIBUTARY_DATA_DIR", flag: "--data-dir",
			get: func(c Config) any { return c.DataDir }, def: "tributary-data",
			yaml: "/var/yaml", envVal: "/var/env", flagVal: "/var/flag",
			fromYAML: "/var/yaml", fromEnv: "/var/env", fromFlag: "/var/flag",
		},
	}
	for _, f := range fields {
		cases := []struct {
			name            string
			yaml, env, flag bool
			want            any
		}{
			{name: "all layers", yaml: true, env: true, flag: true, want: f.fromFlag},
			{name: "yaml and env", yaml: true, env: true, want: f.fromEnv},
			{name: "yaml and flag", yaml: true, flag: true, want: f.fromFlag},
			{name: "env and flag", env: true, flag: true, want: f.fromFlag},
			{name: "yaml only", yaml: true, want: f.fromYAML},
			{name: "env only", env: true, want: f.fromEnv},
			{name: "flag only", flag: true, want: f.fromFlag},
			{name: "nothing", want: f.def},
		}
		for _, tc := range cases {
			t.Run(f.name+"/"+tc.name, func(t *testing.T) {
				clearTributaryEnv(t)
				var args []string
				if tc.yaml {
					args = append(args, "--config", writeConfig(t, f.yamlKey+": "+f.yaml+"\n"))
				}
				if tc.env {
					t.Setenv(f.env, f.envVal)
				}
				if tc.flag {
					args = append(args, f.flag, f.flagVal)
				}
				c, err := loadArgs(t, args...)
				if err != nil {
					t.Fatalf("load(%q) error: %v", args, err)
				}
				if got := f.get(c); got != tc.want {
					t.Errorf("load(%q) %s = %#v, want %#v", args, f.name, got, tc.want)
				}
			})
		}
	}
}

// A flag the user gave wins even when its value is the default or empty.
func TestLoadFlagSetToEmptyWins(t *testing.T) {
	clearTributaryEnv(t)
	t.Setenv("TRIBUTARY_STREAM", "B")
	t.Setenv("TRIBUTARY_LOG_LEVEL", "warn")
	args := []string{"--config", writeConfig(t, "stream: A\nlog_level: debug\n"), "--stream=", "--log-level", "info"}
	c, err := loadArgs(t, args...)
	if err != nil {
		t.Fatalf("load(%q) error: %v", args, err)
	}
	if c.Stream != "" {
		t.Errorf("load(%q) Stream = %q, want %q", args, c.Stream, "")
	}
	if c.LogLevel != "info" {
		t.Errorf("load(%q) LogLevel = %q, want %q", args, c.LogLevel, "info")
	}
}

func TestLoadWholeConfig(t *testing.T) {
	clearTributaryEnv(t)
	t.Setenv("TRIBUTARY_LOG_FORMAT", "json")
	t.Setenv("TRIBUTARY_SOURCE_PASSWORD_FILE", "/run/secrets/pw")
	path := writeConfig(t, `# tributary
source: mysql://tributary@db:3306
name: shop
server_id: 4242
include: shop.*,crm.users
nats: nats://nats:4222
stream: TRIBUTARY_SHOP
prefix: cdc.shop
replicas: 3
data_dir: /data
listen: 0.0.0.0:4222
sync: interval
log_level: warn
log_format: text
`)
	args := []string{"--config", path, "--prefix", "cdc.shop2"}
	got, err := loadArgs(t, args...)
	if err != nil {
		t.Fatalf("load(%q) error: %v", args, err)
	}
	want := Config{
		Source:             "mysql://tributary@db:3306",
		SourcePasswordFile: "/run/secrets/pw",
		Name:               "shop",
		ServerID:           4242,
		Include:            "shop.*,crm.users",
		NATS:               "nats://nats:4222",
		Stream:             "TRIBUTARY_SHOP",
		Prefix:             "cdc.shop2",
		Replicas:           3,
		DataDir:            "/data",
		Listen:             "0.0.0.0:4222",
		Sync:               "interval",
		LogLevel:           "warn",
		LogFormat:          "json",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("load(%q) mismatch (-want +got):\n%s", args, diff)
	}
}

func TestLoadExpandsEnv(t *testing.T) {
	cases := []struct {
		name  string
		yaml  string
		env   map[string]string
		unset []string
		want  Config // only Source, Name and Stream are compared
	}{
		{
			name: "variable in a URL password",
			yaml: "source: mysql://tributary:${TRIB_TEST_PW}@db:3306\n",
			env:  map[string]string{"TRIB_TEST_PW": "s3cret"},
			want: Config{Source: "mysql://tributary:s3cret@db:3306"},
		},
		{
			name: "variable whose value holds a dollar",
			yaml: "source: mysql://tributary:${TRIB_TEST_PW}@db:3306\n",
			env:  map[string]string{"TRIB_TEST_PW": "pa$$w0rd"},
			want: Config{Source: "mysql://tributary:pa$$w0rd@db:3306"},
		},
		{
			name: "variable in a quoted value",
			yaml: "stream: \"${TRIB_TEST_STREAM}\"\nname: shop\n",
			env:  map[string]string{"TRIB_TEST_STREAM": "TRIBUTARY_X"},
			want: Config{Stream: "TRIBUTARY_X", Name: "shop"},
		},
		{
			name: "several variables",
			yaml: "name: ${TRIB_TEST_A}-${TRIB_TEST_B}\n",
			env:  map[string]string{"TRIB_TEST_A": "shop", "TRIB_TEST_B": "eu"},
			want: Config{Name: "shop-eu"},
		},
		{
			name: "variable set to empty",
			yaml: "name: x${TRIB_TEST_EMPTY}y\n",
			env:  map[string]string{"TRIB_TEST_EMPTY": ""},
			want: Config{Name: "xy"},
		},
		{
			name: "literal dollars stay",
			yaml: "source: mysql://tributary:pa$$w0rd$TRIB_TEST_PW$@db:3306\n",
			env:  map[string]string{"TRIB_TEST_PW": "expanded"},
			want: Config{Source: "mysql://tributary:pa$$w0rd$TRIB_TEST_PW$@db:3306"},
		},
		{
			// ${VAR} is expanded in parsed values: a value holding YAML
			// syntax stays whole, a commented-out line needs no variable.
			name:  "value holding YAML syntax, variable in a comment",
			yaml:  "# source: mysql://u:${TRIB_TEST_UNSET}@old\nsource: mysql://u:${TRIB_TEST_PW}@db:3306\n",
			env:   map[string]string{"TRIB_TEST_PW": "a #b: [c"},
			unset: []string{"TRIB_TEST_UNSET"},
			want:  Config{Source: "mysql://u:a #b: [c@db:3306"},
		},
		{
			name: "unterminated and invalid references stay",
			yaml: "source: mysql://u:a${b@db:3306\nname: x${1y}\n",
			want: Config{Source: "mysql://u:a${b@db:3306", Name: "x${1y}"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearTributaryEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			for _, k := range tc.unset {
				unsetEnv(t, k)
			}
			args := []string{"--config", writeConfig(t, tc.yaml)}
			c, err := loadArgs(t, args...)
			if err != nil {
				t.Fatalf("load with %q: %v", tc.yaml, err)
			}
			got := Config{Source: c.Source, Name: c.Name, Stream: c.Stream}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("load with %q mismatch (-want +got):\n%s", tc.yaml, diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name     string
		yaml     string // "" with noFile: no --config
		noFile   bool
		env      map[string]string
		unset    []string
		wantText []string // each must appear in the error
	}{
		{
			name:     "unset variable",
			yaml:     "source: mysql://tributary:${TRIB_TEST_MISSING}@db:3306\n",
			unset:    []string{"TRIB_TEST_MISSING"},
			wantText: []string{"TRIB_TEST_MISSING", "not set"},
		},
		{
			name:     "two unset variables",
			yaml:     "source: ${TRIB_TEST_MISSING_A}\nname: ${TRIB_TEST_MISSING_B}\n",
			unset:    []string{"TRIB_TEST_MISSING_A", "TRIB_TEST_MISSING_B"},
			wantText: []string{"TRIB_TEST_MISSING_A", "TRIB_TEST_MISSING_B"},
		},
		{
			name:     "unknown key",
			yaml:     "stream: A\nstreem: B\n",
			wantText: []string{"streem"},
		},
		{
			name:     "flag-only key",
			yaml:     "from_pos: 4\n",
			wantText: []string{"from_pos"},
		},
		{
			name:     "wrong type",
			yaml:     "server_id: lots\n",
			wantText: []string{"lots"},
		},
		{
			name:     "bad env value",
			noFile:   true,
			env:      map[string]string{"TRIBUTARY_SERVER_ID": "abc"},
			wantText: []string{"TRIBUTARY_SERVER_ID", `"abc"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearTributaryEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			for _, k := range tc.unset {
				unsetEnv(t, k)
			}
			var args []string
			if !tc.noFile {
				args = []string{"--config", writeConfig(t, tc.yaml)}
			}
			_, err := loadArgs(t, args...)
			if err == nil {
				t.Fatalf("load(%q) with %q = nil error, want one mentioning %q", args, tc.yaml, tc.wantText)
			}
			for _, s := range tc.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("load(%q) error = %q, want it to mention %q", args, err, s)
				}
			}
		})
	}
}

func TestLoadMissingConfigFile(t *testing.T) {
	clearTributaryEnv(t)
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := loadArgs(t, "--config", path)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("load(--config %q) error = %v, want one wrapping os.ErrNotExist", path, err)
	}
}

// A bad configuration file or TRIBUTARY_* value is "bad flags or
// configuration", which main.go documents as exit status 2 (exitUsage).
func TestLoadErrorsAreUsageErrors(t *testing.T) {
	cases := []struct {
		name  string
		yaml  string
		env   map[string]string
		unset []string
	}{
		{name: "unset variable", yaml: "name: ${TRIB_TEST_MISSING}\n", unset: []string{"TRIB_TEST_MISSING"}},
		{name: "unknown key", yaml: "streem: B\n"},
		{name: "malformed yaml", yaml: "stream: [A\n"},
		{name: "bad env value", env: map[string]string{"TRIBUTARY_SERVER_ID": "abc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearTributaryEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			for _, k := range tc.unset {
				unsetEnv(t, k)
			}
			var args []string
			if tc.yaml != "" {
				args = []string{"--config", writeConfig(t, tc.yaml)}
			}
			_, err := loadArgs(t, args...)
			if err == nil {
				t.Fatalf("load(%q) = nil error, want a usage error", args)
			}
			if !errors.Is(err, errUsage) {
				t.Errorf("load(%q) error = %q, want errors.Is(err, errUsage)", args, err)
			}
			if got := exitCode(err); got != exitUsage {
				t.Errorf("exitCode(load(%q)) = %d, want %d", args, got, exitUsage)
			}
		})
	}
}

func TestLoadEmptyFileKeepsDefaults(t *testing.T) {
	for _, text := range []string{"", "\n", "# nothing configured yet\n", "---\n"} {
		t.Run(fmt.Sprintf("%q", text), func(t *testing.T) {
			clearTributaryEnv(t)
			args := []string{"--config", writeConfig(t, text)}
			got, err := loadArgs(t, args...)
			if err != nil {
				t.Fatalf("load with file %q: %v", text, err)
			}
			if diff := cmp.Diff(defaultConfig(), got); diff != "" {
				t.Errorf("load with file %q mismatch (-want +got):\n%s", text, diff)
			}
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	c := defaultConfig()
	c.Source = ""
	c.Sync = "sometimes"
	c.Replicas = 0
	c.LogLevel = "loud"
	c.FromFile = "binlog.000001"
	c.Name = "Shop"
	err := c.validate(true)
	if err == nil {
		t.Fatalf("validate(%+v) = nil, want an error", c)
	}
	if !errors.Is(err, errUsage) {
		t.Errorf("validate(%+v) = %q, want errors.Is(err, errUsage)", c, err)
	}
	for _, s := range []string{
		"source: required",
		`sync "sometimes"`,
		"replicas 0",
		`log-level "loud"`,
		"from-file and from-pos",
		`name "Shop"`,
		`"shop"`, // the suggested name
	} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("validate error = %q, want it to mention %q", err, s)
		}
	}
	if got, want := strings.Count(err.Error(), "\n")+1, 6; got != want {
		t.Errorf("validate error has %d lines, want %d (one per bad field): %q", got, want, err)
	}
}

func TestValidate(t *testing.T) {
	good := func(mod func(*Config)) Config {
		c := defaultConfig()
		c.Source = "mysql://tributary:secret@127.0.0.1:3306"
		if mod != nil {
			mod(&c)
		}
		return c
	}
	cases := []struct {
		name       string
		c          Config
		needSource bool
		wantErr    string // "" for valid; else a part of the message
	}{
		{name: "defaults with source", c: good(nil), needSource: true},
		{name: "no source not needed", c: defaultConfig(), needSource: false},
		{name: "everything set", c: good(func(c *Config) {
			c.Sync, c.Replicas, c.LogLevel, c.LogFormat = "interval", 5, "debug", "json"
			c.Name, c.Prefix, c.FromFile, c.FromPos = "shop_eu-1", "cdc.shop", "binlog.000003", 4
		}), needSource: true},
		{name: "from gtid", c: good(func(c *Config) { c.FromGTID = "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5" }), needSource: true},
		{name: "source missing", c: defaultConfig(), needSource: true, wantErr: "source: required"},
		{name: "replicas 6", c: good(func(c *Config) { c.Replicas = 6 }), wantErr: "replicas 6"},
		{name: "gtid and file", c: good(func(c *Config) { c.FromGTID, c.FromFile, c.FromPos = "x:1", "binlog.000001", 4 }), wantErr: "from-gtid and from-file"},
		{name: "pos without file", c: good(func(c *Config) { c.FromPos = 4 }), wantErr: "from-file and from-pos"},
		{name: "name with a dot", c: good(func(c *Config) { c.Name = "db.1" }), wantErr: `name "db.1"`},
		{name: "prefix wildcard", c: good(func(c *Config) { c.Prefix = "cdc.*" }), wantErr: `prefix "cdc.*"`},
		{name: "prefix leading dot", c: good(func(c *Config) { c.Prefix = ".cdc" }), wantErr: `prefix ".cdc"`},
		{name: "prefix trailing dot", c: good(func(c *Config) { c.Prefix = "cdc." }), wantErr: `prefix "cdc."`},
		{name: "prefix space", c: good(func(c *Config) { c.Prefix = "c dc" }), wantErr: `prefix "c dc"`},
		{name: "log format", c: good(func(c *Config) { c.LogFormat = "xml" }), wantErr: `log-format "xml"`},
		{name: "keys", c: good(func(c *Config) { c.Keys = "shop.audit=order_id+at, crm.log=uuid" }), needSource: true},
		{name: "keys without a table", c: good(func(c *Config) { c.Keys = "audit=id" }), wantErr: `keys "audit=id": want db.table=column+column`},
		{name: "keys without columns", c: good(func(c *Config) { c.Keys = "shop.audit" }), wantErr: `keys "shop.audit": want db.table=column+column`},
		{name: "keys with an empty column", c: good(func(c *Config) { c.Keys = "shop.audit=a++b" }), wantErr: `keys "shop.audit=a++b": an empty column name`},
		{name: "keys twice", c: good(func(c *Config) { c.Keys = "shop.a=x,shop.a=y" }), wantErr: "keys: shop.a is listed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.validate(tc.needSource)
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("validate(%v) = %q, want nil", tc.needSource, err)
				}
				return
			}
			if !errors.Is(err, errUsage) {
				t.Errorf("validate(%v) = %v, want errors.Is(err, errUsage)", tc.needSource, err)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("validate(%v) = %q, want it to mention %q", tc.needSource, err, tc.wantErr)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	c := Config{Keys: " shop.audit = order_id + at ,crm.log=uuid,"}
	got, err := c.keys()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"shop.audit": {"order_id", "at"}, "crm.log": {"uuid"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("keys() (-want +got):\n%s", diff)
	}
}

func inServerIDRange(id uint32) bool { return id >= 1_000_000_000 && id < 2_000_000_000 }

func TestDeriveNames(t *testing.T) {
	const host, port = "db-1.example", 3306
	var got Config
	got.deriveNames(host, port)
	id := got.ServerID
	got.ServerID = 0
	want := Config{Name: "db-1-example-3306", Stream: "TRIBUTARY_DB_1_EXAMPLE_3306", Prefix: "tributary.db-1-example-3306"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deriveNames(%q, %d) mismatch (-want +got):\n%s", host, port, diff)
	}
	if !inServerIDRange(id) {
		t.Errorf("deriveNames(%q, %d) ServerID = %d, want in [1000000000, 2000000000)", host, port, id)
	}

	var again Config
	again.deriveNames(host, port)
	if again.ServerID != id {
		t.Errorf("deriveNames(%q, %d) ServerID = %d then %d, want the same", host, port, id, again.ServerID)
	}

	var other Config
	other.deriveNames("db-2.example", port)
	if other.ServerID == id {
		t.Errorf("deriveNames(%q, %d) and deriveNames(%q, %d) ServerID both %d, want different", host, port, "db-2.example", port, id)
	}
	if !inServerIDRange(other.ServerID) {
		t.Errorf("deriveNames(%q, %d) ServerID = %d, want in [1000000000, 2000000000)", "db-2.example", port, other.ServerID)
	}
}

func TestDeriveNamesKeepsSetFields(t *testing.T) {
	// The derived server id depends on the stream name only.
	idFor := func(stream string) uint32 {
		c := Config{Name: "any", Stream: stream}
		c.deriveNames("ignored", 1)
		if !inServerIDRange(c.ServerID) {
			t.Fatalf("deriveNames with stream %q: ServerID = %d, want in [1000000000, 2000000000)", stream, c.ServerID)
		}
		return c.ServerID
	}
	cases := []struct {
		name string
		in   Config
		want Config
	}{
		{
			name: "all set",
			in:   Config{Name: "shop", Stream: "S", Prefix: "p.q", ServerID: 7},
			want: Config{Name: "shop", Stream: "S", Prefix: "p.q", ServerID: 7},
		},
		{
			name: "name set",
			in:   Config{Name: "shop"},
			want: Config{Name: "shop", Stream: "TRIBUTARY_SHOP", Prefix: "tributary.shop", ServerID: idFor("TRIBUTARY_SHOP")},
		},
		{
			name: "stream set",
			in:   Config{Stream: "ORDERS"},
			want: Config{Name: "db-3306", Stream: "ORDERS", Prefix: "tributary.db-3306", ServerID: idFor("ORDERS")},
		},
		{
			name: "prefix set",
			in:   Config{Prefix: "cdc"},
			want: Config{Name: "db-3306", Stream: "TRIBUTARY_DB_3306", Prefix: "cdc", ServerID: idFor("TRIBUTARY_DB_3306")},
		},
		{
			name: "server id set",
			in:   Config{ServerID: 12},
			want: Config{Name: "db-3306", Stream: "TRIBUTARY_DB_3306", Prefix: "tributary.db-3306", ServerID: 12},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in
			got.deriveNames("db", 3306)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%+v.deriveNames(%q, %d) mismatch (-want +got):\n%s", tc.in, "db", 3306, diff)
			}
		})
	}
}

func TestParseFrom(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    eventlog.From
		wantErr bool
	}{
		{name: "first", in: "first", want: eventlog.From{}},
		{name: "empty", in: "", want: eventlog.From{}},
		{name: "last", in: "last", want: eventlog.From{Last: true}},
		{name: "sequence", in: "42", want: eventlog.From{Seq: 42}},
		{name: "sequence one", in: "1", want: eventlog.From{Seq: 1}},
		{name: "time", in: "2026-11-25T10:00:00Z", want: eventlog.From{Time: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}},
		{name: "time with offset and fraction", in: "2026-11-25T12:00:00.5+02:00", want: eventlog.From{Time: time.Date(2026, 11, 25, 10, 0, 0, 500_000_000, time.UTC)}},
		{name: "zero", in: "0", wantErr: true},
		{name: "negative", in: "-3", wantErr: true},
		{name: "word", in: "yesterday", wantErr: true},
		{name: "upper case", in: "LAST", wantErr: true},
		{name: "date only", in: "2026-11-25", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFrom(tc.in)
			if tc.wantErr {
				if !errors.Is(err, errUsage) {
					t.Errorf("parseFrom(%q) error = %v, want errors.Is(err, errUsage)", tc.in, err)
				}
				if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.in)) {
					t.Errorf("parseFrom(%q) error = %q, want it to quote the input", tc.in, err)
				}
			} else if err != nil {
				t.Errorf("parseFrom(%q) error = %v, want nil", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseFrom(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{name: "usage", err: errUsage, want: 2},
		{name: "usage wrapped", err: fmt.Errorf("start: %w", errUsage), want: 2},
		{name: "usageError", err: usageError("from %q: bad", "x"), want: 2},
		{name: "preflight", err: tributary.ErrPreflight, want: 3},
		{name: "preflight wrapped", err: fmt.Errorf("check: %w", tributary.ErrPreflight), want: 3},
		{name: "access denied", err: binlog.ErrAccessDenied, want: 3},
		{name: "access denied wrapped", err: fmt.Errorf("connect: %w", binlog.ErrAccessDenied), want: 3},
		{name: "conflict", err: tributary.ErrConflict, want: 4},
		{name: "conflict wrapped", err: fmt.Errorf("append: %w", tributary.ErrConflict), want: 4},
		{name: "purged", err: tributary.ErrBinlogPurged, want: 5},
		{name: "purged wrapped twice", err: fmt.Errorf("resume: %w", fmt.Errorf("tail: %w", tributary.ErrBinlogPurged)), want: 5},
		{name: "unrelated", err: errors.New("boom"), want: 1},
		{name: "unrelated wrapped", err: fmt.Errorf("x: %w", io.ErrUnexpectedEOF), want: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// A mistyped flag is "bad flags", documented as exit status 2.
func TestExitCodeBadFlag(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{name: "unknown flag", args: []string{"tail", "--stream", "S", "--bogus"}},
		{name: "bad number", args: []string{"start", "--server-id", "abc"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := newRootCommand()
			root.SetArgs(tc.args)
			root.SetOut(io.Discard)
			root.SetErr(io.Discard)
			err := root.Execute()
			if err == nil {
				t.Fatalf("tributary %q = nil error, want a flag error", tc.args)
			}
			if got := exitCode(err); got != exitUsage {
				t.Errorf("exitCode(tributary %q: %v) = %d, want %d", tc.args, err, got, exitUsage)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string
	}{
		{name: "user and password", in: "nats://user:pw@host:4222", want: "nats://***@host:4222"},
		{name: "token", in: "nats://s3cr3ttoken@host:4222", want: "nats://***@host:4222"},
		{name: "tls", in: "tls://user:pw@nats.example.com:4443", want: "tls://***@nats.example.com:4443"},
		{name: "no credentials", in: "nats://host:4222", want: "nats://host:4222"},
		{name: "no credentials, no scheme", in: "127.0.0.1:4222", want: "127.0.0.1:4222"},
		{name: "empty", in: "", want: ""},
		// nats.Connect accepts all of these (url.Parse splits user info at
		// the last '@'; nats.go splits server lists at ',' and adds a
		// missing scheme), so no password may survive in any of them.
		{name: "at sign in password", in: "nats://user:p@ss@host:4222", want: "nats://***@host:4222"},
		{name: "server list", in: "nats://a:pw1@h1:4222,nats://c:pw2@h2:4222", want: "nats://***@h1:4222,nats://***@h2:4222"},
		{name: "no scheme", in: "user:pw@host:4222", want: "***@host:4222"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactURL(tc.in); got != tc.want {
				t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNATSURLFor(t *testing.T) {
	cases := []struct {
		name       string
		nats       string
		urlFile    *string // contents of <data-dir>/nats.url; nil: no file
		defaultDir bool    // data dir left at its default
		want       string
		wantErr    bool
	}{
		{name: "explicit wins over file", nats: "nats://explicit:4222", urlFile: ptr("nats://fromfile:4222\n"), want: "nats://explicit:4222"},
		{name: "explicit without file", nats: "nats://explicit:4222", want: "nats://explicit:4222"},
		{name: "file trimmed", urlFile: ptr("  nats://127.0.0.1:34567\r\n"), want: "nats://127.0.0.1:34567"},
		{name: "empty file in a named dir", urlFile: ptr(" \n"), wantErr: true},
		{name: "no file in a named dir", wantErr: true},
		{name: "default dir without file", defaultDir: true, want: "nats://127.0.0.1:4222"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.urlFile != nil {
				if err := os.WriteFile(filepath.Join(dir, "nats.url"), []byte(*tc.urlFile), 0o600); err != nil {
					t.Fatalf("write nats.url: %v", err)
				}
			}
			c := defaultConfig()
			c.NATS = tc.nats
			if !tc.defaultDir {
				c.DataDir = dir
			} else {
				t.Chdir(dir) // the default data dir is relative: make sure it has no nats.url
			}
			got, err := natsURLFor(&c)
			if tc.wantErr {
				if !errors.Is(err, errUsage) {
					t.Fatalf("natsURLFor(NATS %q, nats.url %v) = %q, %v; want a usage error", tc.nats, deref(tc.urlFile), got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("natsURLFor(NATS %q, nats.url %v) = %q, %v; want %q", tc.nats, deref(tc.urlFile), got, err, tc.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return fmt.Sprintf("%q", *s)
}

func TestIncludes(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{name: "spaces and empty entries", in: " shop.*, crm.users ,,", want: []string{"shop.*", "crm.users"}},
		{name: "one", in: "shop.orders", want: []string{"shop.orders"}},
		{name: "empty", in: "", want: nil},
		{name: "only separators", in: " , ,, ", want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Include: tc.in}
			if diff := cmp.Diff(tc.want, c.includes()); diff != "" {
				t.Errorf("includes(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestSourcePassword(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
		return p
	}
	cases := []struct {
		name    string
		file    string
		want    string
		wantOK  bool
		wantErr bool
	}{
		{name: "no file configured", file: "", want: "", wantOK: false},
		{name: "trailing newline", file: write("lf", "s3cret\n"), want: "s3cret", wantOK: true},
		{name: "trailing crlf", file: write("crlf", "s3cret\r\n"), want: "s3cret", wantOK: true},
		{name: "spaces kept", file: write("spaces", " s3 cret \n"), want: " s3 cret ", wantOK: true},
		{name: "empty file", file: write("empty", ""), want: "", wantOK: true},
		{name: "missing file", file: filepath.Join(dir, "absent"), wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{SourcePasswordFile: tc.file}
			got, ok, err := c.sourcePassword()
			if (err != nil) != tc.wantErr {
				t.Errorf("sourcePassword(%q) error = %v, want error %v", tc.file, err, tc.wantErr)
			}
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("sourcePassword(%q) = %q, %v, want %q, %v", tc.file, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
