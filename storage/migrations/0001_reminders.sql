CREATE TABLE `reminders` (
	`key` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`to` text NOT NULL,
	`cadre_id` integer,
	`platform` text,
	`target` text,
	`reply` text,
	`due_date` text NOT NULL,
	`created_at` integer NOT NULL,
	`claimed_by` text,
	`claimed_at` integer,
	`delivered_at` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE INDEX `reminders_undelivered` ON `reminders` (`delivered_at`,`created_at`);--> statement-breakpoint
CREATE INDEX `reminders_due` ON `reminders` (`due_date`,`kind`);