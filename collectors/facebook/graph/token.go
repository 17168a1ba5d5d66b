package graph

import (
	"context"
	"strings"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

// Token gets the account's token; a missing source or an empty token is
// EAUTH ("no <what> configured"), the token never appears in an error.
func Token(ctx context.Context, tokens func(context.Context, config.Account) (string, error), acct config.Account, label, what string) (string, error) {
	if tokens == nil {
		return "", tanggap.Errorf(tanggap.EAUTH, "%s: no token source configured", label)
	}
	token, err := tokens(ctx, acct)
	if err != nil {
		return "", err
	}
	if token == "" {
		return "", tanggap.Errorf(tanggap.EAUTH, "%s: no %s configured", label, what)
	}
	return token, nil
}

// EnvToken reads NAME_<HANDLE> (the handle upper-cased, every other
// character than A-Z and 0-9 turned into _), then NAME, each directly or
// from the file named by ..._FILE (config.Secret). platform ("facebook")
// names the account in errors.
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
