package main

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Config is every setting, from defaults, then the YAML file, then
// TRIBUTARY_* environment variables, then flags.
type Config struct {
	Source             string `yaml:"source"`
	SourcePasswordFile string `yaml:"source_password_file"`
	Name               string `yaml:"name"`
	ServerID           uint32 `yaml:"server_id"`
	Include            string `yaml:"include"`
	Keys               string `yaml:"keys"`

	NATS     string `yaml:"nats"`
	Stream   string `yaml:"stream"`
	Prefix   string `yaml:"prefix"`
	Replicas int    `yaml:"replicas"`

	DataDir string `yaml:"data_dir"`
	Listen  string `yaml:"listen"`
	Sync    string `yaml:"sync"`

	LogLevel  string `yaml:"log_level"`
	LogFormat string `yaml:"log_format"`

	// Sinks are the read models (project, rebuild); config file only.
	Sinks []SinkConfig `yaml:"sinks"`

	// Flags only.
	FromGTID string `yaml:"-"`
	FromFile string `yaml:"-"`
	FromPos  uint64 `yaml:"-"`
}

func defaultConfig() Config {
	return Config{
		Replicas:  1,
		DataDir:   "tributary-data",
		Listen:    "127.0.0.1:4222",
		Sync:      "always",
		LogLevel:  "info",
		LogFormat: "text",
	}
}

// flagSet registers the flags every command shares.
func commonFlags(fs *pflag.FlagSet, c *Config, configPath *string) {
	fs.StringVar(configPath, "config", "", "YAML config file (${VAR} is expanded; a missing variable is an error)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json")
}

func sourceFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.Source, "source", c.Source, "source server, mysql://USER:PASSWORD@HOST:PORT (mariadb:// too)")
	fs.StringVar(&c.SourcePasswordFile, "source-password-file", c.SourcePasswordFile, "read the source password from this file instead of the URL")
	fs.StringVar(&c.Name, "name", c.Name, "source name, in event ids and the default stream and prefix (default: the server's hostname-port)")
	fs.Uint32Var(&c.ServerID, "server-id", c.ServerID, "replica server id to register with; unique among the source's replicas (default: derived from the name)")
}

func natsFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.NATS, "nats", c.NATS, "NATS server URL; empty runs an embedded server (start, resume) or reads <data-dir>/nats.url")
	fs.StringVar(&c.Stream, "stream", c.Stream, "JetStream stream name (default TRIBUTARY_<NAME>)")
	fs.StringVar(&c.Prefix, "prefix", c.Prefix, "subject prefix (default tributary.<name>)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the embedded NATS server's storage")
}

func keysFlag(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.Keys, "keys", c.Keys, "key columns of tables that have no primary key, or whose primary key is not the one to use: db.table=col+col, comma-separated (e.g. 'shop.audit=order_id+at')")
}

// load applies the YAML file, the environment and the flags the user set,
// in that order, over the defaults already in c.
func (c *Config) load(cmd *cobra.Command, path string) error {
	set := map[string]string{}
	cmd.Flags().Visit(func(f *pflag.Flag) { set[f.Name] = f.Value.String() })
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return fmt.Errorf("%w: config %s: %w", errUsage, path, err)
		}
	}
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "config" || f.Name == "help" {
			return
		}
		v, ok := set[f.Name]
		if !ok {
			env := "TRIBUTARY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
			if v, ok = os.LookupEnv(env); !ok {
				return
			}
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
			return
		}
		_ = f.Value.Set(v)
	})
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", errUsage, errors.Join(errs...))
	}
	return nil
}

// loadFile reads the YAML file. ${VAR} is expanded in values only, after
// parsing, so that a value's own characters (a '#' in a password, say) are
// never read as YAML, and a commented-out line needs no variable.
func (c *Config) loadFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return err
	}
	if doc.Kind == 0 {
		return nil // empty file
	}
	var missing []string
	expandNode(&doc, &missing)
	if len(missing) > 0 {
		return fmt.Errorf("environment variable %s is not set (set it, or remove ${%s} from the file)", strings.Join(missing, ", "), missing[0])
	}
	expanded, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func expandNode(n *yaml.Node, missing *[]string) {
	if n.Kind == yaml.ScalarNode {
		n.Value = expandRefs(n.Value, missing)
		return
	}
	for _, child := range n.Content {
		expandNode(child, missing)
	}
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandRefs replaces ${VAR} with the variable's value, recording the
// names of variables that are not set.
func expandRefs(s string, missing *[]string) string {
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		v, ok := os.LookupEnv(name)
		if !ok {
			*missing = append(*missing, name)
		}
		return v
	})
}

// validate reports every bad field at once.
func (c *Config) validate(needSource bool) error {
	var errs []error
	if needSource && c.Source == "" {
		errs = append(errs, errors.New("source: required, e.g. --source mysql://tributary:secret@127.0.0.1:3306 (or TRIBUTARY_SOURCE, or source: in the config file)"))
	}
	if c.Sync != "always" && c.Sync != "interval" {
		errs = append(errs, fmt.Errorf("sync %q: want always or interval", c.Sync))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas %d: want 1 to 5", c.Replicas))
	}
	if c.FromGTID != "" && c.FromFile != "" {
		errs = append(errs, errors.New("from-gtid and from-file: give one or the other"))
	}
	if (c.FromFile == "") != (c.FromPos == 0) {
		errs = append(errs, errors.New("from-file and from-pos: give both"))
	}
	if c.Name != "" && sanitizeName(c.Name) != c.Name {
		errs = append(errs, fmt.Errorf("name %q: use lower-case letters, digits, '-' and '_' only (e.g. %q)", c.Name, sanitizeName(c.Name)))
	}
	if c.Prefix != "" && (strings.ContainsAny(c.Prefix, " *>\t") || strings.HasPrefix(c.Prefix, ".") || strings.HasSuffix(c.Prefix, ".") || strings.Contains(c.Prefix, "..")) {
		errs = append(errs, fmt.Errorf("prefix %q: a NATS subject prefix without wildcards, spaces, or a leading or trailing dot", c.Prefix))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if _, err := c.keys(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format %q: want text or json", c.LogFormat))
	}
	errs = append(errs, c.validateSinks()...)
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", errUsage, errors.Join(errs...))
	}
	return nil
}

var errUsage = errors.New("invalid configuration")

// deriveNames fills in the name-dependent defaults.
func (c *Config) deriveNames(serverHost string, serverPort int) {
	if c.Name == "" {
		c.Name = sanitizeName(fmt.Sprintf("%s-%d", serverHost, serverPort))
	}
	if c.Stream == "" {
		c.Stream = "TRIBUTARY_" + strings.ToUpper(strings.ReplaceAll(c.Name, "-", "_"))
	}
	if c.Prefix == "" {
		c.Prefix = "tributary." + c.Name
	}
	if c.ServerID == 0 {
		h := fnv.New32a()
		h.Write([]byte(c.Stream))
		// Out of the range people pick by hand, never 0.
		c.ServerID = 1_000_000_000 + h.Sum32()%1_000_000_000
	}
}

func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func (c *Config) includes() []string {
	var out []string
	for _, p := range strings.Split(c.Include, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// keys parses the keys setting: "db.table=col+col,db.table=col" names the
// columns that identify a row of each table listed.
func (c *Config) keys() (map[string][]string, error) {
	out := map[string][]string{}
	for _, entry := range strings.Split(c.Keys, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		table, cols, ok := strings.Cut(entry, "=")
		table = strings.TrimSpace(table)
		db, name, dotted := strings.Cut(table, ".")
		if !ok || !dotted || db == "" || name == "" {
			return nil, fmt.Errorf("keys %q: want db.table=column+column (e.g. shop.events=stream_id+version)", entry)
		}
		var names []string
		for _, col := range strings.Split(cols, "+") {
			if col = strings.TrimSpace(col); col == "" {
				return nil, fmt.Errorf("keys %q: an empty column name (want db.table=column+column)", entry)
			}
			names = append(names, col)
		}
		if _, dup := out[table]; dup {
			return nil, fmt.Errorf("keys: %s is listed twice", table)
		}
		out[table] = names
	}
	return out, nil
}

// sourcePassword reads the password file, if one is configured.
func (c *Config) sourcePassword() (string, bool, error) {
	if c.SourcePasswordFile == "" {
		return "", false, nil
	}
	b, err := os.ReadFile(c.SourcePasswordFile)
	if err != nil {
		return "", false, fmt.Errorf("read source password file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), true, nil
}
