package main

import "testing"

func TestDataEnd(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   int
	}{
		{"none", []string{"DATA\r\n", "Subject: x\r\n\r\nbody\r\n"}, 0},
		{"in one write", []string{"body\r\n.\r\nQUIT\r\n"}, 1},
		{"split across writes", []string{"body\r\n", ".\r", "\nQUIT\r\n"}, 1},
		{"split after the first byte", []string{"body\r", "\n.\r\n"}, 1},
		{"two messages", []string{"a\r\n.\r\n", "MAIL FROM:<x>\r\n", "b\r\n.", "\r\n"}, 2},
		{"a dot line inside the body is not the end", []string{"a\r\n..\r\nb\r\n"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			d := &dataEnd{found: func() { n++ }}
			for _, w := range tc.writes {
				if got, err := d.Write([]byte(w)); got != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, got, err)
				}
			}
			if n != tc.want {
				t.Errorf("found %d times, want %d", n, tc.want)
			}
		})
	}
}
