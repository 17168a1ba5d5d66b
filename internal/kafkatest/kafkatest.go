// Package kafkatest gives tests a Kafka broker: the real one of the
// integration run (go test -tags=integration, see internal/testenv),
// otherwise an in-process kfake cluster speaking the real protocol.
package kafkatest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tanggap/tanggap/internal/testenv"
	"github.com/twmb/franz-go/pkg/kfake"
)

var seq atomic.Int64

// Brokers returns broker addresses and a topic-name suffix unique to the
// test, so suites can share one real broker.
func Brokers(t testing.TB) ([]string, string) {
	t.Helper()
	suffix := fmt.Sprintf(".%d.%d", time.Now().UnixNano(), seq.Add(1))
	if testenv.Integration {
		return testenv.KafkaBrokers(t), suffix
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs(), suffix
}
