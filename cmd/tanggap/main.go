// Command tanggap is the one binary of Tanggap: collectors, triage, the web
// server, the all-in-one dev mode and the admin tools are subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "tanggap:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

type command struct {
	summary string
	run     func(ctx context.Context, args []string, env env) error
}

// env is what every subcommand gets from the outside world.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func commands() map[string]command {
	return map[string]command{
		"dev":      {"run everything in one process on embedded Kafka and Redis, with demo data", runDev},
		"collect":  {"poll the platforms and publish posts to Kafka", runCollect},
		"triage":   {"consume posts from Kafka, classify and store them in Redis", runTriage},
		"serve":    {"serve the web UI, the JSON API and /metrics", runServe},
		"user":     {"manage web users: add, reset, disable, enable, list", runUser},
		"digest":   {"send today's escalation digests now (triage sends them daily at 07:00)", runDigest},
		"rebuild":  {"rebuild the Redis state from the Kafka events and posts topics", runRebuild},
		"prune":    {"remove from Redis the items that ended before a day (--dry-run counts them)", runPrune},
		"dlq":      {"list dead-lettered records and replay the ones a fix made processable", runDLQ},
		"train":    {"train the OPD and kind classifier from a CSV (text,opd[,kind])", runTrain},
		"eval":     {"score the classifier on a labelled CSV and print one JSON object", runEval},
		"classify": {"classify texts (CSV with a text column, or lines on stdin) as JSON lines", runClassify},
		"bench":    {"load-test the pipeline on fake platform APIs and print one JSON report", runBench},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr, cmds)
		return errUsage
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "tanggap: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return errUsage
	}
	return c.run(ctx, args[1:], env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr})
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: tanggap <command> [flags]\n\ncommands:")
	for _, name := range []string{"dev", "collect", "triage", "serve", "user", "digest", "train", "eval", "classify", "bench", "rebuild", "prune", "dlq"} {
		if c, ok := cmds[name]; ok {
			fmt.Fprintf(w, "  %-9s %s\n", name, c.summary)
		}
	}
	fmt.Fprintln(w, "\nRun 'tanggap <command> -h' for its flags.")
}
