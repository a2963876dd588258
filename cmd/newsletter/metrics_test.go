package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serveInProcess runs `serve --no-scheduler` in-process until the test ends and returns its base URL.
func serveInProcess(t *testing.T, c *cli) string {
	t.Helper()
	c.env["NEWSLETTER_HTTP_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--no-scheduler"}, &out, &out, func(k string) string { return c.env[k] }, time.Now)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d:\n%s", code, out.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`Listening on (http://\S+)`).FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("serve did not start:\n%s", out.String())
	return ""
}

// TestServeMetricsNeedToken: /metrics shows subscriber counts, so it is behind the admin
// token unless metrics.public says otherwise.
func TestServeMetricsNeedToken(t *testing.T) {
	const token = "admin-token-0123456789"
	tests := []struct {
		name   string
		token  string
		public bool
		auth   string // Authorization header
		want   int
	}{
		{"no credentials", token, false, "", http.StatusUnauthorized},
		{"a wrong token", token, false, "Bearer wrong-token-0123456789", http.StatusUnauthorized},
		{"the bearer token", token, false, "Bearer " + token, http.StatusOK},
		{"the token as Basic password", token, false, "Basic " + basic("prometheus", token), http.StatusOK},
		{"no admin token configured", "", false, "", http.StatusNotFound},
		{"public", "", true, "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t)
			c.importSample()
			if tt.token != "" {
				c.env["NEWSLETTER_ADMIN_TOKEN"] = tt.token
			}
			if tt.public {
				c.setConfig("metrics:\n  public: true\n")
			}
			base := serveInProcess(t, c)
			req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("%d, want %d\n%.300s", resp.StatusCode, tt.want, body)
			}
			if counts := strings.Contains(string(body), "newsletter_subscribers{"); counts != (tt.want == http.StatusOK) {
				t.Errorf("subscriber counts shown: %v\n%.300s", counts, body)
			}
		})
	}
}

func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
