package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
)

func TestServeAnswersUntilCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, Handler(Route{Pattern: "GET /hello", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hi")
		})}))
	}()
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/hello", http.StatusOK, "hi"},
		{"/healthz", http.StatusOK, "ok\n"},
		{"/other", http.StatusNotFound, "404 page not found\n"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get("http://" + ln.Addr().String() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code || string(b) != tc.body {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, b, tc.code, tc.body)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel: %v, want nil", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/hello"); err == nil {
		t.Fatal("still answering after Serve returned")
	}
}

func TestServeReturnsTheListenersError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := Serve(context.Background(), ln, Handler()); err == nil {
		t.Fatal("Serve on a closed listener returned nil")
	}
}
