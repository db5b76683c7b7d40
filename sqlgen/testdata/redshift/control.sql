CREATE TABLE IF NOT EXISTS "_sfsync"."objects" (
  "object" VARCHAR(65535) PRIMARY KEY,
  "cursor_field" VARCHAR(65535),
  "cursor_time" TIMESTAMPTZ,
  "created_at" TIMESTAMPTZ NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS "_sfsync"."batches" (
  "batch_id" VARCHAR(65535) PRIMARY KEY,
  "run_id" VARCHAR(65535) NOT NULL,
  "object" VARCHAR(65535) NOT NULL,
  "extracted_at" TIMESTAMPTZ NOT NULL,
  "staged_rows" BIGINT NOT NULL,
  "closed_at" TIMESTAMPTZ NOT NULL,
  "consolidated_at" TIMESTAMPTZ,
  "delete_mode" VARCHAR(65535),
  "full_refresh" BOOLEAN,
  "upserted" BIGINT,
  "deleted" BIGINT
);

CREATE TABLE IF NOT EXISTS "_sfsync"."runs" (
  "run_id" VARCHAR(65535) PRIMARY KEY,
  "object" VARCHAR(65535) NOT NULL,
  "full_refresh" BOOLEAN NOT NULL,
  "started_at" TIMESTAMPTZ,
  "finished_at" TIMESTAMPTZ,
  "status" VARCHAR(65535) NOT NULL,
  "reason" VARCHAR(65535),
  "error" VARCHAR(65535),
  "window_from" TIMESTAMPTZ,
  "window_to" TIMESTAMPTZ,
  "cursor_before" TIMESTAMPTZ,
  "cursor_after" TIMESTAMPTZ,
  "rows_extracted" BIGINT NOT NULL,
  "rows_upserted" BIGINT NOT NULL,
  "rows_deleted" BIGINT NOT NULL,
  "api_calls" BIGINT NOT NULL,
  "updated_at" TIMESTAMPTZ NOT NULL,
  "bulk_jobs" BIGINT DEFAULT 0
);

ALTER TABLE "_sfsync"."runs" ADD COLUMN "bulk_jobs" BIGINT DEFAULT 0;

INSERT INTO "_sfsync"."objects" ("object", "cursor_field", "created_at", "updated_at")
SELECT CAST($1 AS VARCHAR(65535)), CAST($2 AS VARCHAR(65535)), CAST($3 AS TIMESTAMPTZ), CAST($3 AS TIMESTAMPTZ)
WHERE NOT EXISTS (SELECT 1 FROM "_sfsync"."objects" WHERE "object" = $1)
-- args: $1=object, $2=cursor_field, $3=now;

UPDATE "_sfsync"."objects" SET "cursor_field" = $1, "cursor_time" = CASE WHEN "cursor_time" IS NULL OR "cursor_time" < $2 THEN $2 ELSE "cursor_time" END, "updated_at" = $3 WHERE "object" = $4
-- args: $1=cursor_field, $2=cursor_time, $3=now, $4=object;

SELECT "cursor_field", "cursor_time" FROM "_sfsync"."objects" WHERE "object" = $1
-- args: $1=object;

SELECT "object" FROM "_sfsync"."objects" UNION SELECT "object" FROM "_sfsync"."runs" ORDER BY 1;

INSERT INTO "_sfsync"."batches" ("batch_id", "run_id", "object", "extracted_at", "staged_rows", "closed_at") VALUES ($1, $2, $3, $4, $5, $6)
-- args: $1=batch_id, $2=run_id, $3=object, $4=extracted_at, $5=staged_rows, $6=now;

SELECT "object", "staged_rows", "consolidated_at" FROM "_sfsync"."batches" WHERE "batch_id" = $1
-- args: $1=batch_id;

UPDATE "_sfsync"."batches" SET "consolidated_at" = $1, "delete_mode" = $2, "full_refresh" = $3, "upserted" = $4, "deleted" = $5 WHERE "batch_id" = $6
-- args: $1=now, $2=delete_mode, $3=full_refresh, $4=upserted, $5=deleted, $6=batch_id;

UPDATE "_sfsync"."runs" SET "object" = $1, "full_refresh" = $2, "started_at" = $3, "finished_at" = $4, "status" = $5, "reason" = $6, "error" = $7, "window_from" = $8, "window_to" = $9, "cursor_before" = $10, "cursor_after" = $11, "rows_extracted" = $12, "rows_upserted" = $13, "rows_deleted" = $14, "api_calls" = $15, "updated_at" = $16, "bulk_jobs" = $17 WHERE "run_id" = $18
-- args: $1=object, $2=run.full, $3=run.started_at, $4=run.finished_at, $5=run.status, $6=run.reason, $7=run.error, $8=run.window_from, $9=run.window_to, $10=run.cursor_before, $11=run.cursor_after, $12=run.rows_extracted, $13=run.rows_upserted, $14=run.rows_deleted, $15=run.api_calls, $16=now, $17=run.bulk_jobs, $18=run_id;

INSERT INTO "_sfsync"."runs" ("run_id", "object", "full_refresh", "started_at", "finished_at", "status", "reason", "error", "window_from", "window_to", "cursor_before", "cursor_after", "rows_extracted", "rows_upserted", "rows_deleted", "api_calls", "updated_at", "bulk_jobs") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
-- args: $1=run_id, $2=object, $3=run.full, $4=run.started_at, $5=run.finished_at, $6=run.status, $7=run.reason, $8=run.error, $9=run.window_from, $10=run.window_to, $11=run.cursor_before, $12=run.cursor_after, $13=run.rows_extracted, $14=run.rows_upserted, $15=run.rows_deleted, $16=run.api_calls, $17=now, $18=run.bulk_jobs;

SELECT "run_id", "object", "full_refresh", "started_at", "finished_at", "status", "reason", "error", "window_from", "window_to", "cursor_before", "cursor_after", "rows_extracted", "rows_upserted", "rows_deleted", "api_calls", "updated_at", "bulk_jobs" FROM "_sfsync"."runs" WHERE "object" = $1 ORDER BY "started_at" DESC NULLS LAST, "updated_at" DESC LIMIT 1
-- args: $1=object;

SELECT MAX("finished_at") FROM "_sfsync"."runs" WHERE "object" = $1 AND "status" = 'complete'
-- args: $1=object;

DELETE FROM "salesforce_staging"."Order" AS s WHERE NOT EXISTS (SELECT 1 FROM "_sfsync"."batches" AS b WHERE b."batch_id" = s."_sfsync_batch_id" AND b."consolidated_at" IS NOT NULL AND b."extracted_at" >= $1)
-- args: $1=cutoff;

DELETE FROM "_sfsync"."batches" WHERE "object" = $1 AND "consolidated_at" IS NULL
-- args: $1=object;

SELECT COUNT(*) FROM "salesforce"."Order" WHERE NOT "_sfsync_deleted";

SELECT COUNT(*) FROM (SELECT "Id" FROM "salesforce"."Order" GROUP BY "Id" HAVING COUNT(*) > 1) AS dup;

