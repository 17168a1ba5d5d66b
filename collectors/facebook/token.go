package facebook

import (
	"context"

	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/config"
)

// TokenSource returns the access token for one page: a page access token
// (or a system user token) with pages_read_engagement and
// pages_read_user_content.
type TokenSource func(ctx context.Context, acct config.Account) (string, error)

// StaticToken uses one token for every account.
func StaticToken(token string) TokenSource {
	return func(context.Context, config.Account) (string, error) { return token, nil }
}

// EnvToken reads NAME_<HANDLE>, then NAME, as collectors.EnvToken says.
// Example: TANGGAP_FACEBOOK_TOKEN_PEMKOTBEKASI, TANGGAP_FACEBOOK_TOKEN.
func EnvToken(getenv func(string) string, name string) TokenSource {
	return collectors.EnvToken(getenv, name, "facebook")
}
