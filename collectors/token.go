package collectors

import (
	"context"
	"strings"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

// EnvToken reads NAME_<HANDLE> (the handle upper-cased, every other
// character than A-Z and 0-9 turned into _), then NAME, each directly or
// from the file named by ..._FILE (config.Secret). platform ("facebook")
// names the account in errors. Every platform's EnvToken is this one.
func EnvToken(getenv func(string) string, name, platform string) func(context.Context, config.Account) (string, error) {
	return func(_ context.Context, acct config.Account) (string, error) {
		for _, n := range []string{name + "_" + envSuffix(acct.Handle), name} {
			v, err := config.Secret(getenv, n)
			if err != nil {
				return "", tanggap.WrapCode(tanggap.EAUTH, err, "%s @%s: reading token", platform, acct.Handle)
			}
			if v != "" {
				return v, nil
			}
		}
		return "", nil
	}
}

func envSuffix(handle string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(strings.TrimPrefix(handle, "@")) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
