package main

import (
	"context"
	"fmt"
)

func cmdMigrate(ctx context.Context, e env, args []string) error {
	fs, cfgPath := flags(e, "migrate", "", "Create the database or apply pending migrations, then print the schema version.")
	if pos, err := parse(e, fs, args); err != nil {
		return err
	} else if err := noArgs("migrate", pos); err != nil {
		return err
	}
	a, err := openApp(ctx, e, *cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	v, err := a.db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: schema version %d\n", a.cfg.Database, v)
	return nil
}
