CREATE TABLE `evidence` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`record_kind` text NOT NULL,
	`record_id` integer NOT NULL,
	`cadre_id` integer NOT NULL,
	`kind` text NOT NULL,
	`platform` text NOT NULL,
	`message_id` text,
	`file_key` text NOT NULL,
	`name` text,
	`meta` text,
	`path` text,
	`bytes` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `evidence_record` ON `evidence` (`record_kind`,`record_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `evidence_source` ON `evidence` (`platform`,`message_id`,`file_key`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`platform` text NOT NULL,
	`message_id` text NOT NULL,
	`idx` integer NOT NULL,
	`message` text NOT NULL,
	`created_at` integer NOT NULL,
	`due_at` integer NOT NULL,
	`claimed_at` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`delivered_at` integer,
	`failed_at` integer,
	`last_error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_key` ON `outbox` (`key`);--> statement-breakpoint
CREATE INDEX `outbox_source` ON `outbox` (`platform`,`message_id`,`idx`);--> statement-breakpoint
CREATE INDEX `outbox_pending` ON `outbox` (`due_at`) WHERE delivered_at IS NULL AND failed_at IS NULL;--> statement-breakpoint
CREATE TABLE `seen_proofs` (
	`scope` text NOT NULL,
	`proof` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `proof`)
);
--> statement-breakpoint
CREATE INDEX `seen_proofs_expiry` ON `seen_proofs` (`expires_at`);