package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tributary-cdc/tributary"
	"github.com/tributary-cdc/tributary/binlog"
)

// Exit codes, documented in the README.
const (
	exitError     = 1 // anything else
	exitUsage     = 2 // bad flags or configuration
	exitPreflight = 3 // the source or NATS cannot give the guarantees
	exitConflict  = 4 // another writer appended to the stream
	exitPurged    = 5 // the binlog needed to resume is gone
)

func main() {
	os.Exit(run())
}

// run is main but for the exit status, so that deferred work (the CPU
// profile) is done before the process exits.
func run() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel() // first signal: finish in-flight appends and stop
		<-sigs
		fmt.Fprintln(os.Stderr, "tributary: second signal, exiting at once")
		os.Exit(130)
	}()

	// TRIBUTARY_CPUPROFILE=FILE writes a CPU profile of the whole run, for
	// go tool pprof (see README, Development).
	if path := os.Getenv("TRIBUTARY_CPUPROFILE"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tributary: "+err.Error())
			return exitError
		}
		defer stop()
	}
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "tributary: "+err.Error())
		return exitCode(err)
	}
	return 0
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func exitCode(err error) int {
	switch {
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, tributary.ErrPreflight), errors.Is(err, binlog.ErrAccessDenied):
		return exitPreflight
	case errors.Is(err, tributary.ErrConflict):
		return exitConflict
	case errors.Is(err, tributary.ErrBinlogPurged):
		return exitPurged
	}
	return exitError
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "tributary",
		Short: "Stream MySQL/MariaDB row changes into a NATS JetStream event store, exactly once",
		Long: `Tributary tails a MySQL or MariaDB binlog as a replica, turns every committed
row change into a CloudEvents event and appends it exactly once, in commit
order, to a NATS JetStream stream that is the event store.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newStartCommand(false), newStartCommand(true), newTailCommand(), newStatusCommand(), newCheckCommand(),
		newProjectCommand(), newRebuildCommand())
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
			return fmt.Errorf("%w: %w (see tributary %s --help)", errUsage, err, cmd.Name())
		})
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fmt.Errorf("%w: %w", errUsage, err) })
	return root
}

func newLogger(c *Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// usageError marks a command-line mistake.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}
