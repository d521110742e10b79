package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/tributary-cdc/tributary/sink"
)

func newProjectCommand() *cobra.Command {
	c := defaultConfig()
	var configPath string
	var names []string
	cmd := &cobra.Command{
		Use:   "project",
		Short: "Keep read models current from the stream",
		Long: `project keeps the read models declared under sinks: in the config file
current: each follows the stream through its own durable JetStream consumer
and applies every source transaction in one target transaction, with its
checkpoint (the last stream sequence applied) written in that same
transaction. It runs until interrupted, and carries on where it stopped.

It survives restarts of itself, of NATS and of the target database: it
starts again from the read model's checkpoint, backing off. It stops, with
the reason and the fix, on what retrying cannot cure: a value the target
cannot hold, a DDL statement it cannot apply.

A read model rebuilt as of a past point (rebuild --as-of) stays there: project
leaves it alone until it is rebuilt without --as-of.`,
		Example: `  tributary project --config tributary.yaml
  tributary project --config tributary.yaml --sink orders_pg --sink search_kv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sinks, err := loadSinkCommand(cmd, &c, configPath, names)
			if err != nil {
				return err
			}
			log := newLogger(&c)
			tuneGC(false)
			nc, err := dialNATS(&c, log)
			if err != nil {
				return err
			}
			defer nc.Close()
			ctx := cmd.Context()
			keys, err := streamKeys(ctx, &c, nc)
			if err != nil {
				return err
			}
			// Every target is opened before any runner starts, so that a
			// target that fails to open leaves no runner working on the
			// targets and connection the return closes.
			runners := make([]*sink.Runner, len(sinks))
			for i, s := range sinks {
				tg, err := openTarget(ctx, &c, s, nc)
				if err != nil {
					return err
				}
				defer tg.Close()
				runners[i] = newRunner(&c, s, nc, tg, keys, log)
			}
			g, gctx := errgroup.WithContext(ctx)
			for i, s := range sinks {
				r := runners[i]
				g.Go(func() error {
					if err := r.Project(gctx); err != nil {
						return fmt.Errorf("sink %s: %w", s.Name, err)
					}
					return nil
				})
			}
			log.Info("projecting", "sinks", len(sinks), "stream", c.Stream)
			return g.Wait()
		},
	}
	fs := cmd.Flags()
	commonFlags(fs, &c, &configPath)
	natsFlags(fs, &c)
	fs.StringArrayVar(&names, "sink", nil, "only this sink (repeatable; default: every configured sink)")
	return cmd
}

// loadSinkCommand loads and checks the configuration of project and
// rebuild, and returns the sinks named (all if none).
func loadSinkCommand(cmd *cobra.Command, c *Config, configPath string, names []string) ([]SinkConfig, error) {
	if err := c.load(cmd, configPath); err != nil {
		return nil, err
	}
	if err := c.validate(false); err != nil {
		return nil, err
	}
	if c.Stream == "" {
		return nil, usageError("stream: required, e.g. --stream TRIBUTARY_SHOP or stream: in the config file (start logs the name it uses)")
	}
	return c.selectSinks(names)
}
