CREATE TABLE `household_transfers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`household_id` integer NOT NULL,
	`from_cadre_id` integer,
	`to_cadre_id` integer NOT NULL,
	`by_cadre_id` integer NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `household_transfers_household` ON `household_transfers` (`household_id`);