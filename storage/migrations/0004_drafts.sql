CREATE TABLE `drafts` (
	`platform` text NOT NULL,
	`chat_id` text NOT NULL,
	`sender_id` text NOT NULL,
	`command` text NOT NULL,
	`raw` text NOT NULL,
	`asks` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`platform`, `chat_id`, `sender_id`)
);
--> statement-breakpoint
CREATE TABLE `record_edits` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`record_kind` text NOT NULL,
	`record_id` integer NOT NULL,
	`cadre_id` integer NOT NULL,
	`field` text NOT NULL,
	`old_value` text,
	`new_value` text,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `record_edits_record` ON `record_edits` (`record_kind`,`record_id`);--> statement-breakpoint
ALTER TABLE `visits` ADD `time_of_day` text;