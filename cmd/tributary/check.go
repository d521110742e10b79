package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tributary-cdc/tributary"
)

func newCheckCommand() *cobra.Command {
	c := defaultConfig()
	var configPath string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Preflight: verify the source and NATS can give Tributary's guarantees",
		Long: `check verifies log_bin, binlog_format=ROW, binlog_row_image=FULL,
binlog_row_metadata=FULL, GTID mode, the replication privileges, that no
other replica uses the server id, and that NATS is reachable with JetStream
enabled and new enough. Each failure comes with the statement or setting
that fixes it; the exit status is 3 if any check fails. start and resume run
the same checks first.

Without --nats it checks the NATS server named in <data-dir>/nats.url, or
nats://127.0.0.1:4222.`,
		Example: `  tributary check --source mysql://tributary:secret@127.0.0.1:3306 --nats nats://127.0.0.1:4222
  tributary check --config tributary.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.load(cmd, configPath); err != nil {
				return err
			}
			return runCheck(cmd.Context(), &c)
		},
	}
	fs := cmd.Flags()
	commonFlags(fs, &c, &configPath)
	sourceFlags(fs, &c)
	natsFlags(fs, &c)
	keysFlag(fs, &c)
	return cmd
}

func runCheck(ctx context.Context, c *Config) error {
	if err := c.validate(true); err != nil {
		return err
	}
	log := newLogger(c)
	out := os.Stdout
	failed := 0
	sc, err := openSource(ctx, c)
	if err != nil {
		fmt.Fprintf(out, "  FAIL %-26s %v\n", "source connection", err)
		failed++
	} else {
		defer sc.conn.Close()
		c.deriveNames(sc.srv.Hostname, sc.srv.Port)
		n, err := checkSource(ctx, sc, c, out)
		if err != nil {
			return err
		}
		failed += n
	}
	url, err := natsURLFor(c)
	if err != nil {
		return err
	}
	nc, err := connectNATS(url, log)
	if err != nil {
		fmt.Fprintf(out, "  FAIL %-26s %v\n", "nats", err)
		failed++
	} else {
		defer nc.Close()
		failed += checkNATS(ctx, nc, out)
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d check(s) failed (see the fixes above)", tributary.ErrPreflight, failed)
	}
	fmt.Fprintln(out, "all checks passed")
	return nil
}
