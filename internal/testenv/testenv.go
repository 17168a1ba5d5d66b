// Package testenv gives tests the addresses of the real servers of the
// integration run (scripts/services.sh) and a way to restart them.
//
// Locally a test that needs a server that is not configured is skipped; under
// CI (CI set to anything non-empty) it fails instead, so that a broken
// integration setup cannot pass as "all skipped".
//
//	scripts/services.sh start && . "$(scripts/services.sh env)"
//	go test -count=1 -tags=integration ./...
package testenv

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment variables written by scripts/services.sh.
const (
	RedisAddrEnv    = "TANGGAP_TEST_REDIS_ADDR"    // host:port of a real redis-server
	RedisClusterEnv = "TANGGAP_TEST_REDIS_CLUSTER" // comma-separated host:port of the nodes of a Redis Cluster
	KafkaBrokersEnv = "TANGGAP_TEST_KAFKA_BROKERS" // comma-separated host:port of Kafka brokers
	ServicesEnv     = "TANGGAP_TEST_SERVICES"      // path of scripts/services.sh
)

// CI reports whether the tests run under CI, where missing servers are failures.
func CI() bool { return os.Getenv("CI") != "" }

// missing skips the test, or fails it under CI.
func missing(t testing.TB, env, what string) {
	t.Helper()
	msg := env + " is not set: this test needs " + what +
		" (run scripts/services.sh start, then source the file printed by scripts/services.sh env)"
	if CI() {
		t.Fatal("CI is set, so a missing service is a failure: " + msg)
		return
	}
	t.Skip(msg)
}

// RedisAddr returns the address of a real redis-server (host:port).
func RedisAddr(t testing.TB) string {
	t.Helper()
	addr := strings.TrimSpace(os.Getenv(RedisAddrEnv))
	if addr == "" {
		missing(t, RedisAddrEnv, "a real redis-server")
	}
	return addr
}

// KafkaBrokers returns the addresses of a real Kafka cluster.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	return addrList(t, KafkaBrokersEnv, "a real Kafka broker")
}

// RedisCluster returns the addresses of the nodes of a real Redis Cluster.
func RedisCluster(t testing.TB) []string {
	t.Helper()
	return addrList(t, RedisClusterEnv, "a real Redis Cluster")
}

// addrList reads a comma-separated list of addresses from env.
func addrList(t testing.TB, env, what string) []string {
	t.Helper()
	var out []string
	for _, a := range strings.Split(os.Getenv(env), ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		missing(t, env, what)
	}
	return out
}

// Service actions of scripts/services.sh that a fault test may run.
const (
	RestartRedis     = "restart-redis"        // clean shutdown (AOF flushed), start on the same port and data
	KillRestartRedis = "restart-redis --kill" // SIGKILL, start again: AOF everysec may lose up to ~1 s
	StopRedis        = "stop-redis"           // clean shutdown; StartRedis brings it back
	StartRedis       = "start-redis"          // start a stopped redis-server on its old port and data
	RestartKafka     = "restart-kafka"        // controlled shutdown, start on the same ports and data
	KillRestartKafka = "restart-kafka --kill" // SIGKILL, start again (log recovery)
	StopKafka        = "stop-kafka"           // controlled shutdown; StartKafka brings it back
	StartKafka       = "start-kafka"          // start a stopped broker on its old ports and data
	KillRedis        = "stop-redis --kill"    // SIGKILL, leave it down
	KillKafka        = "stop-kafka --kill"    // SIGKILL, leave it down
)

// Service runs one of the actions above through scripts/services.sh and waits
// until it has finished (a start or restart returns once the server answers).
// It skips (locally) or fails (CI) when the services script is not configured.
func Service(t testing.TB, action string) {
	t.Helper()
	script := os.Getenv(ServicesEnv)
	if script == "" {
		missing(t, ServicesEnv, "scripts/services.sh to control the servers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, "bash", append([]string{script}, strings.Fields(action)...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("services.sh %s: %v\n%s", action, err, out)
	}
	t.Logf("services.sh %s: done in %v", action, time.Since(start).Round(time.Millisecond))
}

// CityKeys lists every key of a city (tanggap:{city}:*). SCAN names no key,
// so a cluster client would send it to any node: it goes to the master of
// the city's hash slot instead.
func CityKeys(ctx context.Context, rdb redis.UniversalClient, city string) ([]string, error) {
	prefix := "tanggap:{" + city + "}:"
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, prefix)
		if err != nil {
			return nil, err
		}
		rdb = node
	}
	var ks []string
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		ks = append(ks, iter.Val())
	}
	return ks, iter.Err()
}

// DropCity deletes every key of a city (a lost Redis, or a test's cleanup).
func DropCity(ctx context.Context, rdb redis.UniversalClient, city string) error {
	ks, err := CityKeys(ctx, rdb, city)
	for err == nil && len(ks) > 0 {
		n := min(len(ks), 1000)
		err = rdb.Unlink(ctx, ks[:n]...).Err()
		ks = ks[n:]
	}
	return err
}

// DumpCity reads every key of a city by its type, the city's prefix taken
// out of the names; a set's members are sorted, and a stream's entries
// lose their ids and are sorted.
func DumpCity(t testing.TB, rdb redis.UniversalClient, city string) map[string]any {
	t.Helper()
	ctx := context.Background()
	prefix := "tanggap:{" + city + "}:"
	out := map[string]any{}
	ks, err := CityKeys(ctx, rdb, city)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		name := strings.TrimPrefix(k, prefix)
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "string":
			out[name] = rdb.Get(ctx, k).Val()
		case "hash":
			out[name] = rdb.HGetAll(ctx, k).Val()
		case "list":
			out[name] = rdb.LRange(ctx, k, 0, -1).Val()
		case "zset":
			out[name] = rdb.ZRangeWithScores(ctx, k, 0, -1).Val()
		case "set":
			m := rdb.SMembers(ctx, k).Val()
			slices.Sort(m)
			out[name] = m
		case "stream":
			var es []string
			for _, e := range rdb.XRange(ctx, k, "-", "+").Val() {
				es = append(es, e.Values["item"].(string)+" "+e.Values["at"].(string)+" "+e.Values["index"].(string))
			}
			slices.Sort(es)
			out[name] = es
		default:
			t.Fatalf("%s: type %s", k, typ)
		}
	}
	return out
}
