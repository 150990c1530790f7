CREATE TABLE `accounts` (
	`platform` text NOT NULL,
	`account_id` text NOT NULL,
	`cadre_id` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`platform`, `account_id`)
);
--> statement-breakpoint
CREATE INDEX `accounts_cadre` ON `accounts` (`cadre_id`);--> statement-breakpoint
CREATE TABLE `cadres` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`phone` text NOT NULL,
	`unit_id` integer NOT NULL,
	`rank` text DEFAULT 'staff' NOT NULL,
	`resident_worker` integer DEFAULT false NOT NULL,
	`is_admin` integer DEFAULT false NOT NULL,
	`muted_until` text,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cadres_phone` ON `cadres` (`phone`);--> statement-breakpoint
CREATE INDEX `cadres_unit` ON `cadres` (`unit_id`);--> statement-breakpoint
CREATE INDEX `cadres_name` ON `cadres` (`name`);--> statement-breakpoint
CREATE TABLE `chat_groups` (
	`platform` text NOT NULL,
	`chat_id` text NOT NULL,
	`unit_id` integer NOT NULL,
	`committee` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`platform`, `chat_id`)
);
--> statement-breakpoint
CREATE INDEX `chat_groups_unit` ON `chat_groups` (`unit_id`);--> statement-breakpoint
CREATE TABLE `contact_points` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`unit_id` integer NOT NULL,
	`name` text NOT NULL,
	`kind` text DEFAULT 'village' NOT NULL,
	`cadre_id` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contact_points_name` ON `contact_points` (`unit_id`,`name`);--> statement-breakpoint
CREATE TABLE `households` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`unit_id` integer NOT NULL,
	`contact_point_id` integer,
	`cadre_id` integer,
	`head_name` text NOT NULL,
	`phone` text,
	`size` integer,
	`income_source` text,
	`difficulties` text,
	`opinions` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `inbound_messages` (
	`platform` text NOT NULL,
	`message_id` text NOT NULL,
	`received_at` integer NOT NULL,
	`replies` text NOT NULL,
	PRIMARY KEY(`platform`, `message_id`)
);
--> statement-breakpoint
CREATE TABLE `issue_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`issue_id` integer NOT NULL,
	`at` integer NOT NULL,
	`date` text NOT NULL,
	`actor_cadre_id` integer,
	`action` text NOT NULL,
	`from_state` text,
	`to_state` text,
	`note` text
);
--> statement-breakpoint
CREATE INDEX `issue_events_issue` ON `issue_events` (`issue_id`,`id`);--> statement-breakpoint
CREATE INDEX `issue_events_date` ON `issue_events` (`date`,`action`);--> statement-breakpoint
CREATE TABLE `issues` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`unit_id` integer NOT NULL,
	`origin_unit_id` integer NOT NULL,
	`ledger` text NOT NULL,
	`category` text NOT NULL,
	`place` text NOT NULL,
	`household_id` integer,
	`description` text NOT NULL,
	`responsible_cadre_id` integer NOT NULL,
	`lead_cadre_id` integer,
	`department` text,
	`deadline` text NOT NULL,
	`source` text NOT NULL,
	`visit_id` integer,
	`state` text NOT NULL,
	`extensions` integer DEFAULT 0 NOT NULL,
	`supervise_count` integer DEFAULT 0 NOT NULL,
	`result` text,
	`answered` integer,
	`satisfaction` text,
	`resolved_at` integer,
	`resolved_date` text,
	`closed_at` integer,
	`reporter_cadre_id` integer NOT NULL,
	`evidence` text,
	`voided_at` integer,
	`platform` text NOT NULL,
	`chat_id` text,
	`message_id` text,
	`created_at` integer NOT NULL,
	`created_date` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `issues_unit_state` ON `issues` (`unit_id`,`state`);--> statement-breakpoint
CREATE INDEX `issues_responsible` ON `issues` (`responsible_cadre_id`,`state`);--> statement-breakpoint
CREATE INDEX `issues_deadline` ON `issues` (`state`,`deadline`);--> statement-breakpoint
CREATE TABLE `quota_rules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`metric` text NOT NULL,
	`filter` text DEFAULT '{}' NOT NULL,
	`period` text NOT NULL,
	`threshold` real NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`preset` text,
	`source` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `quota_rules_preset` ON `quota_rules` (`preset`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `units` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`parent_id` integer,
	`path` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `units_name` ON `units` (`name`);--> statement-breakpoint
CREATE INDEX `units_path` ON `units` (`path`);--> statement-breakpoint
CREATE TABLE `visits` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cadre_id` integer NOT NULL,
	`unit_id` integer NOT NULL,
	`date` text NOT NULL,
	`hours` real NOT NULL,
	`place` text NOT NULL,
	`status` text DEFAULT 'ok' NOT NULL,
	`backdated` integer DEFAULT false NOT NULL,
	`verified_by` integer,
	`verify_note` text,
	`voided_at` integer,
	`platform` text NOT NULL,
	`chat_id` text,
	`message_id` text,
	`created_at` integer NOT NULL,
	`kind` text NOT NULL,
	`households` integer DEFAULT 0 NOT NULL,
	`content` text DEFAULT '' NOT NULL,
	`contact_point_id` integer,
	`evidence` text
);
--> statement-breakpoint
CREATE INDEX `visits_date` ON `visits` (`date`,`unit_id`,`cadre_id`,`kind`,`hours`,`status`);--> statement-breakpoint
CREATE INDEX `visits_cadre` ON `visits` (`cadre_id`,`date`);--> statement-breakpoint
CREATE TABLE `volunteers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cadre_id` integer NOT NULL,
	`unit_id` integer NOT NULL,
	`date` text NOT NULL,
	`hours` real NOT NULL,
	`place` text NOT NULL,
	`status` text DEFAULT 'ok' NOT NULL,
	`backdated` integer DEFAULT false NOT NULL,
	`verified_by` integer,
	`verify_note` text,
	`voided_at` integer,
	`platform` text NOT NULL,
	`chat_id` text,
	`message_id` text,
	`created_at` integer NOT NULL,
	`activity` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `volunteers_date` ON `volunteers` (`date`,`unit_id`);--> statement-breakpoint
CREATE INDEX `volunteers_cadre` ON `volunteers` (`cadre_id`,`date`);