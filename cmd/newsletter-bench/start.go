package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// start times how long `newsletter send` takes from its start to the end of its first
// message (the "\r\n.\r\n" that closes DATA), through a relay in front of smtp-sink, then
// interrupts it: the start-up cost (opening the database, queueing n ledger rows, claiming,
// connecting) without the rest of the send.
func (b *bench) start(ctx context.Context) error {
	sinkAddr, stopSink, err := b.startSink(ctx)
	if err != nil {
		return err
	}
	defer stopSink()
	db, err := b.prepare(ctx, b.n) // the next part to need it makes it anew
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	first := make(chan time.Time, 1)
	var wg sync.WaitGroup
	defer func() { l.Close(); wg.Wait() }()
	wg.Go(func() { relay(l, sinkAddr, first) })
	send, err := startBackground(b.command(ctx, []string{"NEWSLETTER_DATABASE=" + db, b.smtpEnv(l.Addr().String())}, b.bin, "send", "--issue", b.week))
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	select {
	case at := <-first:
		send.stop(os.Interrupt) // a throwaway database: stop where it is
		fmt.Fprintf(b.out, "start: n=%d: first message delivered %s after `newsletter send` started\n", b.n, at.Sub(send.began).Round(time.Millisecond))
		return nil
	case <-send.done:
		return fmt.Errorf("send ended before any message: %v", send.err)
	case <-time.After(5 * time.Minute):
		send.stop(os.Kill)
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
			seen := &dataEnd{found: func() { once.Do(func() { first <- time.Now() }) }}
			_, _ = io.Copy(up, io.TeeReader(c, seen))
		}()
	}
}

// dataEnd is a writer that calls found whenever "\r\n.\r\n", the end of a message's DATA,
// passes through it.
type dataEnd struct {
	tail  []byte // the last bytes written, for a marker split across writes
	found func()
}

func (d *dataEnd) Write(p []byte) (int, error) {
	end := []byte("\r\n.\r\n")
	seen := append(d.tail, p[:min(len(p), len(end)-1)]...)
	if bytes.Contains(seen, end) || bytes.Contains(p, end) {
		d.found()
	}
	if len(p) >= len(end)-1 {
		seen = p
	}
	d.tail = append(d.tail[:0], seen[max(0, len(seen)-len(end)+1):]...)
	return len(p), nil
}
