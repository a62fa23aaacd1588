// Command shelf runs Shelf, a digital asset library that mirrors a Google
// Drive folder, an S3 bucket or a local folder. See `shelf --help`.
package main

import (
	"os"

	"github.com/shelf-dam/shelf/internal/cli"
)

func main() {
	os.Exit(cli.Main(cli.Env{Args: os.Args[1:], Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
