package instagram

import (
	"context"

	"github.com/tanggap/tanggap/collectors/facebook/graph"
	"github.com/tanggap/tanggap/config"
)

// TokenSource returns the access token for one account: a page or system
// user token with instagram_basic and instagram_manage_comments.
type TokenSource func(ctx context.Context, acct config.Account) (string, error)

// StaticToken uses one token for every account.
func StaticToken(token string) TokenSource {
	return func(context.Context, config.Account) (string, error) { return token, nil }
}

// EnvToken reads NAME_<HANDLE>, then NAME, as graph.EnvToken says.
// Example: TANGGAP_INSTAGRAM_TOKEN_HUMASKOTABEKASI, TANGGAP_INSTAGRAM_TOKEN.
func EnvToken(getenv func(string) string, name string) TokenSource {
	return graph.EnvToken(getenv, name, "instagram")
}
