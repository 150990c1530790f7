-- visits_date keeps only the visits that are not counted and not voided (补报 waiting for /核查,
-- returned): the work log reads the counted ones through visits_counted, and an ordinary /走访
-- (status ok) then writes one index fewer (storage/schema.ts).
DROP INDEX `visits_date`;--> statement-breakpoint
CREATE INDEX `visits_date` ON `visits` (`date`,`unit_id`) WHERE status IN ('pending','returned') AND voided_at IS NULL;