package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"sync"
	"time"
)

// start times how long `newsletter send` takes from its start to the end of its first
// message (the "\r\n.\r\n" that closes DATA), through a relay in front of smtp-sink, then
// interrupts it: the start-up cost (opening the database, queueing n ledger rows, claiming,
// connecting) without the rest of the send.
func (b *bench) start(ctx context.Context) error {
	sink, _, pfxEnv, err := b.postfix(ctx)
	if err != nil {
		return err
	}
	db, err := b.prepared(ctx, b.n, "start.db")
	if err != nil {
		return err
	}
	sinkAddr, stopSink, err := startSink(ctx, sink, pfxEnv)
	if err != nil {
		return err
	}
	defer stopSink()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	first := make(chan time.Time, 1)
	var wg sync.WaitGroup
	defer func() { l.Close(); wg.Wait() }()
	wg.Go(func() { relay(l, sinkAddr, first) })
	send := exec.CommandContext(ctx, b.bin, "send", "--issue", b.week)
	send.Env = append(slices.Clone(b.env), "NEWSLETTER_DATABASE="+db,
		fmt.Sprintf("NEWSLETTER_SMTP_URL=smtp://%s?tls=none&connections=%d&rate=0", l.Addr(), b.conns))
	send.WaitDelay = 10 * time.Second
	began := time.Now()
	if err := send.Start(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- send.Wait() }()
	select {
	case at := <-first:
		_ = send.Process.Signal(os.Interrupt) // a throwaway database: stop where it is
		<-done
		fmt.Fprintf(b.out, "start: n=%d: first message delivered %s after `newsletter send` started\n", b.n, at.Sub(began).Round(time.Millisecond))
		return nil
	case err := <-done:
		return fmt.Errorf("send ended before any message: %v", err)
	case <-time.After(5 * time.Minute):
		_ = send.Process.Kill()
		<-done
		return errors.New("no message within 5 minutes")
	}
}

// relay forwards each connection accepted on l to the sink and sends the time of the first
// end of DATA seen from any client; it returns when l is closed.
func relay(l net.Listener, sinkAddr string, first chan<- time.Time) {
	var once sync.Once
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", sinkAddr)
			if err != nil {
				return
			}
			defer up.Close()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
			end := []byte("\r\n.\r\n")
			var tail []byte // the last bytes of the previous read, for a marker split across reads
			buf := make([]byte, 64<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					seen := append(tail, buf[:min(n, len(end))]...)
					if bytes.Contains(seen, end) || bytes.Contains(buf[:n], end) {
						once.Do(func() { first <- time.Now() })
					}
					tail = append(tail[:0], buf[max(0, n-len(end)+1):n]...)
					if _, werr := up.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}
