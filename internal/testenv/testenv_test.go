package testenv

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeTB records Skip and Fatal instead of stopping the goroutine.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Skip(args ...any)      { f.skipped = true; f.msg = args[0].(string) }
func (f *fakeTB) Fatal(args ...any)     { f.failed = true; f.msg = args[0].(string) }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }

func TestMissingServiceSkipsLocallyFailsUnderCI(t *testing.T) {
	tests := []struct {
		ci          string
		wantSkipped bool
		wantFailed  bool
	}{
		{ci: "", wantSkipped: true},
		{ci: "true", wantFailed: true},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			t.Setenv(RedisAddrEnv, "")
			t.Setenv(KafkaBrokersEnv, " , ")
			t.Setenv(RedisClusterEnv, "")
			for name, call := range map[string]func(testing.TB){
				"redis":   func(tb testing.TB) { RedisAddr(tb) },
				"cluster": func(tb testing.TB) { RedisCluster(tb) },
				"kafka":   func(tb testing.TB) { KafkaBrokers(tb) },
			} {
				f := &fakeTB{}
				call(f)
				if f.skipped != tt.wantSkipped || f.failed != tt.wantFailed {
					t.Errorf("%s: skipped=%v failed=%v, want skipped=%v failed=%v (%s)",
						name, f.skipped, f.failed, tt.wantSkipped, tt.wantFailed, f.msg)
				}
			}
		})
	}
}

func TestAddresses(t *testing.T) {
	t.Setenv(RedisAddrEnv, "127.0.0.1:6390")
	t.Setenv(KafkaBrokersEnv, "127.0.0.1:9092, 127.0.0.1:9093")
	if got := RedisAddr(t); got != "127.0.0.1:6390" {
		t.Errorf("RedisAddr = %q", got)
	}
	if diff := cmp.Diff([]string{"127.0.0.1:9092", "127.0.0.1:9093"}, KafkaBrokers(t)); diff != "" {
		t.Errorf("KafkaBrokers (-want +got):\n%s", diff)
	}
	t.Setenv(RedisClusterEnv, "127.0.0.1:7001,127.0.0.1:7002,,127.0.0.1:7003 ")
	if diff := cmp.Diff([]string{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"}, RedisCluster(t)); diff != "" {
		t.Errorf("RedisCluster (-want +got):\n%s", diff)
	}
}
