// Command hearth is Hearth's single binary.
package main

import (
	"context"
	"os"
	"syscall"

	"hearth/internal/cli"
)

func main() {
	// Everything Hearth writes (stores, spool, WAL and journal files) is for its own user only.
	syscall.Umask(0o077)
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{
		Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, LookupEnv: os.LookupEnv,
	}))
}
