package instagram

import (
	"context"

	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/config"
)

// TokenSource returns the access token for one account: a page or system
// user token with instagram_basic and instagram_manage_comments.
type TokenSource func(ctx context.Context, acct config.Account) (string, error)

// StaticToken uses one token for every account.
func StaticToken(token string) TokenSource {
	return func(context.Context, config.Account) (string, error) { return token, nil }
}

// EnvToken reads NAME_<HANDLE>, then NAME, as collectors.EnvToken says.
// Example: TANGGAP_INSTAGRAM_TOKEN_HUMASKOTABEKASI, TANGGAP_INSTAGRAM_TOKEN.
func EnvToken(getenv func(string) string, name string) TokenSource {
	return collectors.EnvToken(getenv, name, "instagram")
}
