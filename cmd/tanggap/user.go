package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/web"
)

// runUser manages web users. Passwords are read from stdin (one line) or
// from the file in TANGGAP_USER_PASSWORD_FILE, never from a flag, so they
// stay out of shell history and process lists.
func runUser(ctx context.Context, args []string, e env) error {
	action := ""
	if len(args) > 0 {
		action = args[0]
	}
	fs := flag.NewFlagSet(strings.TrimSpace("user "+action), flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tanggap user add|reset|disable|enable -login NAME [-role R -opd CODE -name NAME -email ADDR -permanent] | tanggap user list")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", e.getenv("TANGGAP_CONFIG"), "city config YAML")
	login := fs.String("login", "", "login name")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "", "opd_admin, ppid_pelaksana, ppid_utama or operator")
	opd := fs.String("opd", "", "OPD code for opd_admin and ppid_pelaksana")
	email := fs.String("email", "", "e-mail address for the escalation digest")
	permanent := fs.Bool("permanent", false, "add, reset: the password stays; by default it is temporary and its owner must replace it at the first sign-in")
	// Help and mistakes are answered before the config is read or Redis is
	// dialled: an operator asking for the flags needs neither.
	switch {
	case slices.Contains([]string{"", "help", "-h", "-help", "--help"}, action):
		fs.Usage()
		return errUsage
	case !slices.Contains([]string{"add", "reset", "disable", "enable", "list"}, action):
		return fmt.Errorf("user: unknown action %q (add, reset, disable, enable, list)", action)
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if action != "list" && *login == "" {
		return fmt.Errorf("user %s: -login is required", action)
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	// A password the operator typed is theirs, not the owner's (as on
	// /pengguna): the owner replaces it unless told otherwise.
	u := store.User{Login: strings.ToLower(*login), Name: *name, Role: *role, OPD: *opd, Email: *email, TempPassword: !*permanent}
	if action == "add" || (action == "reset" && *role != "") {
		if err := web.CheckRole(cfg, web.Role(u.Role), u.OPD); err != nil {
			return fmt.Errorf("user: %w (-role, -opd)", err)
		}
	}
	rdb, err := redisFromEnv(ctx, e)
	if err != nil {
		return err
	}
	defer rdb.Close()
	st := store.New(rdb, cfg.City.Code, nil)
	switch action {
	case "list":
		return listUsers(ctx, st, e)
	case "add", "reset":
		pw, err := readPassword(e)
		if err != nil {
			return err
		}
		if err := st.PutUser(ctx, u, pw, action == "add"); err != nil {
			return err
		}
	case "disable", "enable":
		if err := st.SetDisabled(ctx, u.Login, action == "disable"); err != nil {
			return err
		}
	}
	detail := ""
	if action == "add" || *role != "" {
		detail = strings.TrimSpace(u.Role + " " + u.OPD)
	}
	if err := st.LogUserChange(ctx, store.UserChange{By: "(cli)", Action: action, Login: u.Login, Detail: detail}); err != nil {
		fmt.Fprintf(e.stderr, "user %s: %s done, but not recorded in the account changes: %v\n", u.Login, action, err)
	}
	fmt.Fprintf(e.stdout, "user %s: %s done\n", u.Login, action)
	return nil
}

// listUsers prints every account, one per line, tab-separated: login,
// role, OPD ("-" for a city-wide role), state (active, disabled, or
// temporary when its password is an administrator's) and the last
// sign-in (RFC 3339, "never").
func listUsers(ctx context.Context, st *store.Store, e env) error {
	users, err := st.Users(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(users, func(a, b store.User) int { return strings.Compare(a.Login, b.Login) })
	for _, u := range users {
		state, last := "active", "never"
		switch {
		case u.Disabled:
			state = "disabled"
		case u.TempPassword:
			state = "temporary"
		}
		if !u.LastSignIn.IsZero() {
			last = u.LastSignIn.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\t%s\n", u.Login, u.Role, cmp.Or(u.OPD, "-"), state, last)
	}
	return nil
}

func readPassword(e env) (string, error) {
	if p, err := config.Secret(e.getenv, "TANGGAP_USER_PASSWORD"); err != nil || p != "" {
		return p, err
	}
	sc := bufio.NewScanner(e.stdin)
	if !sc.Scan() {
		return "", errors.New("user: give the password on stdin (one line) or in TANGGAP_USER_PASSWORD_FILE")
	}
	return strings.TrimRight(sc.Text(), "\r\n"), nil
}
