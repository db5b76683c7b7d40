CREATE TABLE IF NOT EXISTS "_sfsync"."leases" (
  "object" TEXT PRIMARY KEY,
  "owner" TEXT NOT NULL,
  "acquired_at" TIMESTAMPTZ NOT NULL,
  "expires_at" TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS "_sfsync"."schedules" (
  "object" TEXT PRIMARY KEY,
  "state" TEXT NOT NULL,
  "full_refresh" BOOLEAN NOT NULL,
  "attempt" BIGINT NOT NULL,
  "next_run_at" TIMESTAMPTZ,
  "next_attempt_at" TIMESTAMPTZ,
  "last_run_id" TEXT,
  "outcome" TEXT,
  "reason" TEXT,
  "error" TEXT,
  "updated_at" TIMESTAMPTZ NOT NULL
);

INSERT INTO "_sfsync"."leases" AS l ("object", "owner", "acquired_at", "expires_at") VALUES ($1, $2, $3, $4)
ON CONFLICT ("object") DO UPDATE SET "owner" = EXCLUDED."owner", "acquired_at" = CASE WHEN l."owner" = EXCLUDED."owner" THEN l."acquired_at" ELSE EXCLUDED."acquired_at" END, "expires_at" = EXCLUDED."expires_at"
WHERE l."owner" = EXCLUDED."owner" OR l."expires_at" <= EXCLUDED."acquired_at"
-- args: $1=object, $2=owner, $3=now, $4=expires_at;

UPDATE "_sfsync"."leases" SET "expires_at" = $1 WHERE "object" = $2 AND "owner" = $3
-- args: $1=expires_at, $2=object, $3=owner;

DELETE FROM "_sfsync"."leases" WHERE "object" = $1 AND "owner" = $2
-- args: $1=object, $2=owner;

DELETE FROM "_sfsync"."leases" WHERE "owner" <> $1
-- args: $1=owner;

SELECT "object", "owner", "acquired_at", "expires_at" FROM "_sfsync"."leases" ORDER BY "object";

INSERT INTO "_sfsync"."schedules" ("object", "state", "full_refresh", "attempt", "next_run_at", "next_attempt_at", "last_run_id", "outcome", "reason", "error", "updated_at") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT ("object") DO UPDATE SET "state" = EXCLUDED."state", "full_refresh" = EXCLUDED."full_refresh", "attempt" = EXCLUDED."attempt", "next_run_at" = EXCLUDED."next_run_at", "next_attempt_at" = EXCLUDED."next_attempt_at", "last_run_id" = EXCLUDED."last_run_id", "outcome" = EXCLUDED."outcome", "reason" = EXCLUDED."reason", "error" = EXCLUDED."error", "updated_at" = EXCLUDED."updated_at"
-- args: $1=object, $2=state, $3=schedule.full, $4=attempt, $5=next_run_at, $6=next_attempt_at, $7=last_run_id, $8=outcome, $9=reason, $10=error, $11=now;

SELECT "object", "state", "full_refresh", "attempt", "next_run_at", "next_attempt_at", "last_run_id", "outcome", "reason", "error", "updated_at" FROM "_sfsync"."schedules" ORDER BY "object";

SELECT "run_id", "object", "full_refresh", "started_at", "finished_at", "status", "reason", "error", "window_from", "window_to", "cursor_before", "cursor_after", "rows_extracted", "rows_upserted", "rows_deleted", "api_calls", "updated_at", "bulk_jobs" FROM "_sfsync"."runs" WHERE "object" = $1 ORDER BY "started_at" DESC NULLS LAST, "updated_at" DESC LIMIT 50
-- args: $1=object;

SELECT "run_id", "object", "full_refresh", "started_at", "finished_at", "status", "reason", "error", "window_from", "window_to", "cursor_before", "cursor_after", "rows_extracted", "rows_upserted", "rows_deleted", "api_calls", "updated_at", "bulk_jobs" FROM "_sfsync"."runs" ORDER BY "started_at" DESC NULLS LAST, "updated_at" DESC LIMIT 200;

DELETE FROM "_sfsync"."runs" WHERE "finished_at" IS NOT NULL AND "finished_at" < $1
-- args: $1=cutoff;

DELETE FROM "_sfsync"."batches" WHERE "consolidated_at" IS NOT NULL AND "consolidated_at" < $1
-- args: $1=cutoff;

SELECT 1 FROM "_sfsync"."leases" WHERE lower("object") = lower($1) AND "owner" = $2 AND "expires_at" > $3 FOR SHARE
-- args: $1=object, $2=owner, $3=now;

