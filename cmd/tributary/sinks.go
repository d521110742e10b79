package main

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/tributary-cdc/tributary/sink"
	"github.com/tributary-cdc/tributary/sink/sqldb"
)

// SinkConfig declares one read model (README, Read models).
type SinkConfig struct {
	// Name identifies the read model: it names its durable consumer, its
	// checkpoint table and (for sqlite) its file. Lower-case letters, digits
	// and '_', at most sqldb.MaxSinkName bytes.
	Name string `yaml:"name"`
	// Kind is sqlite (the default), postgres, mysql or kv.
	Kind string `yaml:"kind"`
	// DSN is the target database for postgres and mysql.
	DSN string `yaml:"dsn"`
	// Path is the SQLite file (default <data_dir>/sinks/<name>.db).
	Path string `yaml:"path"`
	// Tables are the source tables it holds, db.table; empty for all.
	Tables []string `yaml:"tables"`
	// Batch is the most events per target transaction where source
	// transactions allow (default 5000).
	Batch int `yaml:"batch"`
}

var sinkNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// validateSinks reports every bad sink field.
func (c *Config) validateSinks() []error {
	var errs []error
	seen := map[string]bool{}
	for i, s := range c.Sinks {
		where := fmt.Sprintf("sinks[%d]", i)
		if s.Name != "" {
			where = fmt.Sprintf("sinks[%d] (%s)", i, s.Name)
		}
		if !sinkNameRE.MatchString(s.Name) || len(s.Name) > sqldb.MaxSinkName {
			// The name is in the read model's table names, which SQL
			// databases limit to 63 or 64 bytes.
			errs = append(errs, fmt.Errorf("%s: name %q: want lower-case letters, digits and '_', starting with a letter, at most %d (e.g. orders_pg)", where, s.Name, sqldb.MaxSinkName))
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("%s: name %q is used twice", where, s.Name))
		}
		seen[s.Name] = true
		switch s.Kind {
		case "", "sqlite", "kv":
			if s.DSN != "" {
				errs = append(errs, fmt.Errorf("%s: dsn is for kind postgres or mysql, not %s", where, kindOf(s)))
			}
		case "postgres", "mysql":
			if s.DSN == "" {
				errs = append(errs, fmt.Errorf("%s: kind %s needs dsn (e.g. %s)", where, s.Kind, dsnExample[s.Kind]))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: kind %q: want sqlite, postgres, mysql or kv", where, s.Kind))
		}
		if s.Path != "" && kindOf(s) != "sqlite" {
			errs = append(errs, fmt.Errorf("%s: path is for kind sqlite only", where))
		}
		for _, t := range s.Tables {
			if _, err := sink.ParseTableName(t); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
		}
		if s.Batch < 0 {
			errs = append(errs, fmt.Errorf("%s: batch %d: want 1 or more (or 0 for the default)", where, s.Batch))
		}
	}
	return errs
}

var dsnExample = map[string]string{
	"postgres": "postgres://user:secret@127.0.0.1:5432/readmodels?sslmode=disable",
	"mysql":    "user:secret@tcp(127.0.0.1:3306)/readmodels",
}

func kindOf(s SinkConfig) string {
	if s.Kind == "" {
		return "sqlite"
	}
	return s.Kind
}

// selectSinks returns the configured sinks named, or all of them.
func (c *Config) selectSinks(names []string) ([]SinkConfig, error) {
	if len(c.Sinks) == 0 {
		return nil, usageError("no sinks are configured: declare them in the config file, e.g.\n  sinks:\n    - name: orders\n      kind: sqlite\n      tables: [shop.orders]")
	}
	if len(names) == 0 {
		return c.Sinks, nil
	}
	var out []SinkConfig
	for _, n := range names {
		i := slices.IndexFunc(c.Sinks, func(s SinkConfig) bool { return s.Name == n })
		if i < 0 {
			var known []string
			for _, s := range c.Sinks {
				known = append(known, s.Name)
			}
			return nil, usageError("sink %q is not configured (configured: %v)", n, known)
		}
		out = append(out, c.Sinks[i])
	}
	return out, nil
}
