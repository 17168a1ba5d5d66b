//go:build integration

package testenv

import (
	"net"
	"testing"
	"time"
)

// TestServersAnswer proves the integration run has its servers: under CI a
// missing one fails here first, with the message that says how to start it.
func TestServersAnswer(t *testing.T) {
	addrs := append([]string{RedisAddr(t)}, KafkaBrokers(t)...)
	for _, addr := range addrs {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Errorf("dial %s: %v", addr, err)
			continue
		}
		c.Close()
	}
}
