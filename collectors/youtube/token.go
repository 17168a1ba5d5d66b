package youtube

import (
	"context"

	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/config"
)

// TokenSource returns the API key for one channel (sent as
// X-Goog-Api-Key).
type TokenSource func(ctx context.Context, acct config.Account) (string, error)

// StaticToken uses one token for every account.
func StaticToken(token string) TokenSource {
	return func(context.Context, config.Account) (string, error) { return token, nil }
}

// EnvToken reads NAME_<HANDLE> (the handle upper-cased, every other
// character than A-Z and 0-9 turned into _), then NAME, each directly or
// from the file named by ..._FILE (config.Secret). Example:
// TANGGAP_YOUTUBE_API_KEY_PEMKOTBEKASI, TANGGAP_YOUTUBE_API_KEY.
func EnvToken(getenv func(string) string, name string) TokenSource {
	return collectors.EnvToken(getenv, name, "youtube")
}
