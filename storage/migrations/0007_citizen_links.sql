CREATE TABLE `public_links` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`token_hash` text NOT NULL,
	`token` text,
	`issue_id` integer,
	`unit_id` integer,
	`created_by` integer NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer,
	`revoked_by` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `public_links_token` ON `public_links` (`token_hash`);--> statement-breakpoint
CREATE INDEX `public_links_issue` ON `public_links` (`issue_id`);--> statement-breakpoint
CREATE INDEX `public_links_unit` ON `public_links` (`kind`,`unit_id`);--> statement-breakpoint
ALTER TABLE `issues` ADD `citizen_satisfaction` text;--> statement-breakpoint
ALTER TABLE `issues` ADD `citizen_note` text;--> statement-breakpoint
ALTER TABLE `issues` ADD `citizen_rated_at` integer;