//go:build unix

package store

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestWriterTurnsHelper is the other process of TestWriterTurnsAcrossProcesses: it marks
// itself waiting on the database given in the environment, says so, and keeps the mark
// until its standard input closes.
func TestWriterTurnsHelper(t *testing.T) {
	path := os.Getenv("STORE_TURNS_HELPER_DB")
	if path == "" {
		t.Skip("run by TestWriterTurnsAcrossProcesses")
	}
	w := openWriterTurns(path)
	if w == nil {
		t.Fatal("no side file")
	}
	w.wait(true)
	os.Stdout.WriteString("waiting\n")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
}

// TestWriterTurnsAcrossProcesses: a process sees another one's waiting mark (and not its
// own), and the mark goes with the process that made it.
func TestWriterTurnsAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "turns.db")
	w := openWriterTurns(path)
	if w == nil {
		t.Fatal("no side file")
	}
	defer w.close()
	w.wait(true)
	if w.othersWaiting() {
		t.Fatal("the process's own mark counts as another's")
	}
	w.wait(false)

	cmd := exec.Command(os.Args[0], "-test.run=^TestWriterTurnsHelper$")
	cmd.Env = append(os.Environ(), "STORE_TURNS_HELPER_DB="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "waiting\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	if !w.othersWaiting() {
		t.Error("another process's waiting mark is not seen")
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	if w.othersWaiting() {
		t.Error("the mark outlived its process")
	}
}
