DROP INDEX `outbox_key`;--> statement-breakpoint
DROP INDEX `outbox_source`;--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_source` ON `outbox` (`platform`,`message_id`,`idx`);