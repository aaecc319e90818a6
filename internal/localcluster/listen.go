package localcluster

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// FreeAddress returns a loopback address ("127.0.0.1:port") nobody listens on now: for the
// listeners (metrics, probes, pprof) of a manager started as a subprocess.
func FreeAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// WaitOK polls url until it answers 200 OK, and fails once timeout has passed.
func WaitOK(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not OK after %s (last: %w)", url, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
