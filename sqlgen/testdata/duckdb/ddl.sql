CREATE SCHEMA IF NOT EXISTS "salesforce";

CREATE TABLE IF NOT EXISTS "salesforce"."Order" (
  "Id" VARCHAR,
  "Group" VARCHAR,
  "select" VARCHAR,
  "MixedCase__c" BOOLEAN,
  "Say ""Hi""__c" VARCHAR,
  "x'; DROP TABLE t; --" VARCHAR,
  "Amount__c" DECIMAL(18,2),
  "Ratio__c" DOUBLE,
  "Count__c" BIGINT,
  "Due__c" DATE,
  "At__c" TIME,
  "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL__c" VARCHAR,
  "SystemModstamp" TIMESTAMPTZ,
  "IsDeleted" BOOLEAN,
  "_sfsync_synced_at" TIMESTAMPTZ,
  "_sfsync_deleted" BOOLEAN NOT NULL DEFAULT FALSE,
  "_sfsync_deleted_at" TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "salesforce_staging"."Order" (
  "Id" VARCHAR,
  "Group" VARCHAR,
  "select" VARCHAR,
  "MixedCase__c" BOOLEAN,
  "Say ""Hi""__c" VARCHAR,
  "x'; DROP TABLE t; --" VARCHAR,
  "Amount__c" DECIMAL(18,2),
  "Ratio__c" DOUBLE,
  "Count__c" BIGINT,
  "Due__c" DATE,
  "At__c" TIME,
  "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL__c" VARCHAR,
  "SystemModstamp" TIMESTAMPTZ,
  "IsDeleted" BOOLEAN,
  "_sfsync_batch_id" VARCHAR NOT NULL,
  "_sfsync_extracted_at" TIMESTAMPTZ NOT NULL,
  "_sfsync_seq" BIGINT NOT NULL
);

ALTER TABLE "salesforce"."Order" ADD COLUMN "New Field__c" VARCHAR;

ALTER TABLE "salesforce"."Order" ALTER COLUMN "Amount__c" SET DATA TYPE DECIMAL(20,2);

