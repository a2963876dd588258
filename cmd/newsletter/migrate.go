package main

import (
	"context"
	"fmt"
)

func cmdMigrate(ctx context.Context, e env, args []string) error {
	fs := flags(e, "migrate", "", "Create the database or apply pending migrations, then print the schema version.")
	drop := fs.Bool("drop-damaged-transitions", false, "remove the unsubscribe journal (DATABASE-transitions) an older version left with damaged records,\nonce you have dealt with them: sending is refused until then")
	return fs.run(ctx, args, 0, func(a *app) error {
		if lj := a.db.LegacyJournal(); *drop && len(lj.Damaged) > 0 {
			if err := a.db.DropLegacyJournal(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Removed %s; its %d damaged record(s) are dropped and sending may go on.\n", lj.Path, len(lj.Damaged))
		}
		v, err := a.db.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: schema version %d\n", a.cfg.Database, v)
		return nil
	})
}
