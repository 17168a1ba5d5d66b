package instagram

import (
	"context"
	"strings"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

// TokenSource returns the access token for one account: a page or system
// user token with instagram_basic and instagram_manage_comments.
type TokenSource func(ctx context.Context, acct config.Account) (string, error)

// StaticToken uses one token for every account.
func StaticToken(token string) TokenSource {
	return func(context.Context, config.Account) (string, error) { return token, nil }
}

// EnvToken reads NAME_<HANDLE> (the handle upper-cased, every other
// character than A-Z and 0-9 turned into _), then NAME, each directly or
// from the file named by ..._FILE (config.Secret). Example:
// TANGGAP_INSTAGRAM_TOKEN_HUMASKOTABEKASI, TANGGAP_INSTAGRAM_TOKEN.
func EnvToken(getenv func(string) string, name string) TokenSource {
	return func(_ context.Context, acct config.Account) (string, error) {
		for _, n := range []string{name + "_" + envSuffix(acct.Handle), name} {
			v, err := config.Secret(getenv, n)
			if err != nil {
				return "", tanggap.WrapCode(tanggap.EAUTH, err, "instagram @%s: reading token", acct.Handle)
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
