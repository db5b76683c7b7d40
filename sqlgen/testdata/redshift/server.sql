CREATE TABLE IF NOT EXISTS "_sfsync"."altered_values" (
  "batch_id" VARCHAR(65535) NOT NULL,
  "object" VARCHAR(65535) NOT NULL,
  "record_id" VARCHAR(65535) NOT NULL,
  "column_name" VARCHAR(65535) NOT NULL,
  "change" VARCHAR(65535) NOT NULL,
  "recorded_at" TIMESTAMPTZ NOT NULL
);

INSERT INTO "_sfsync"."altered_values" ("batch_id", "object", "record_id", "column_name", "change", "recorded_at") VALUES ($1, $2, $3, $4, $5, $6);

SELECT "record_id", "column_name", "change" FROM "_sfsync"."altered_values" WHERE "batch_id" = $1 ORDER BY 1, 2;

DELETE FROM "_sfsync"."altered_values" WHERE "batch_id" NOT IN (SELECT "batch_id" FROM "_sfsync"."batches");

CREATE TABLE IF NOT EXISTS "_sfsync"."run_lock" (
  "name" VARCHAR(65535) PRIMARY KEY,
  "holder" VARCHAR(65535) NOT NULL,
  "acquired_at" TIMESTAMPTZ NOT NULL,
  "renewed_at" TIMESTAMPTZ NOT NULL
);

DELETE FROM "_sfsync"."run_lock" WHERE "name" = 'run' AND "renewed_at" < $1;

INSERT INTO "_sfsync"."run_lock" ("name", "holder", "acquired_at", "renewed_at") SELECT 'run', CAST($1 AS VARCHAR(65535)), CAST($2 AS TIMESTAMPTZ), CAST($2 AS TIMESTAMPTZ) WHERE NOT EXISTS (SELECT 1 FROM "_sfsync"."run_lock" WHERE "name" = 'run');

SELECT "holder", "acquired_at", "renewed_at" FROM "_sfsync"."run_lock" WHERE "name" = 'run';

UPDATE "_sfsync"."run_lock" SET "renewed_at" = $1 WHERE "name" = 'run' AND "holder" = $2;

DELETE FROM "_sfsync"."run_lock" WHERE "name" = 'run' AND "holder" = $1;

ALTER TABLE "salesforce"."Order" ADD COLUMN "_sfsync_retype" DECIMAL(20,2);

UPDATE "salesforce"."Order" SET "_sfsync_retype" = CAST("Amount__c" AS DECIMAL(20,2));

ALTER TABLE "salesforce"."Order" DROP COLUMN "Amount__c";

ALTER TABLE "salesforce"."Order" RENAME COLUMN "_sfsync_retype" TO "Amount__c";

