package graph

import (
	"context"

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
