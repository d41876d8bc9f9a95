package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestAmbiguousLengthClosesConnection: after answering a request that carries both
// Content-Length and Transfer-Encoding the server closes the connection (RFC 9112 section
// 6.1), so whatever a proxy took for the next request is never read; a request with a
// Content-Length alone keeps its connection.
func TestAmbiguousLengthClosesConnection(t *testing.T) {
	srv := httptest.NewServer(Handler(Options{
		Tracking: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Body-Length", strconv.Itoa(len(b)))
			w.WriteHeader(http.StatusNoContent)
		}),
		API: http.NotFoundHandler(),
	}))
	defer srv.Close()
	const host = "Host: hearth.example\r\n"
	cases := []struct {
		name   string
		req    string
		length string // the body length the handler read
		closed bool
	}{
		{"content-length and transfer-encoding", "POST /matomo.php HTTP/1.1\r\n" + host + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5\r\nhello\r\n0\r\n\r\n", "5", true},
		{"transfer-encoding and content-length", "POST /matomo.php HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n" +
			"0\r\n\r\nGET /healthz HTTP/1.1\r\n" + host + "\r\n", "0", true},
		{"transfer-encoding alone", "POST /matomo.php HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "5", true},
		{"content-length alone", "POST /matomo.php HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello", "5", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, tc.req); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Body-Length") != tc.length {
				t.Fatalf("%d, body of %q bytes read, want 204 after %s", resp.StatusCode, resp.Header.Get("X-Body-Length"), tc.length)
			}
			if !tc.closed {
				if resp.Close {
					t.Fatal("a request with a Content-Length alone lost its connection")
				}
				// The connection serves the next request.
				if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\n"+host+"\r\n"); err != nil {
					t.Fatal(err)
				}
				next, err := http.ReadResponse(br, nil)
				if err != nil || next.StatusCode != http.StatusOK {
					t.Fatalf("second request on the connection: %v %v", next, err)
				}
				next.Body.Close()
				return
			}
			if !resp.Close { // set from the answer's Connection: close
				t.Fatalf("answer does not announce the close: %v", resp.Header)
			}
			// Nothing more comes, not even an answer to what followed the body: the server
			// closed the connection.
			n, err := br.Read(make([]byte, 1))
			if err != io.EOF {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal("the connection was kept open")
				}
				t.Fatalf("read after the answer: %d bytes, %v; want EOF", n, err)
			}
		})
	}
}
