// Command hearth is Hearth's single binary.
package main

import (
	"context"
	"os"

	"hearth/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{
		Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, LookupEnv: os.LookupEnv,
	}))
}
