package config

// Example returns a commented configuration file that replicates a few
// standard objects and every custom object into DuckDB, signing in with the
// JWT bearer flow. It parses and validates once SF_CLIENT_ID and
// SF_USERNAME are set in the environment.
func Example() string {
	return example
}

const example = `# sfsync configuration.
#
# Any value may read the environment: ${NAME}, or ${NAME:-default} when NAME
# is unset or empty. Write $$ for a literal $. Keep secrets (passwords,
# tokens, client secrets, keys, DSNs) in the environment, not in this file.
# Check the file and the connections with: sfsync check

salesforce:
  # Where to sign in: https://login.salesforce.com (production),
  # https://test.salesforce.com (sandbox) or the org's My Domain URL
  # (https://<domain>.my.salesforce.com, required for client_credentials).
  login_url: https://login.salesforce.com

  # How to sign in: jwt (recommended), client_credentials, refresh_token
  # or password.
  auth: jwt

  # The connected app's consumer key (every method).
  client_id: ${SF_CLIENT_ID}

  # jwt: the integration user, and the private key whose certificate is
  # uploaded to the connected app: a PEM file (a relative path is relative
  # to this file), or the key itself in private_key.
  username: ${SF_USERNAME}
  private_key_file: jwt.key
  # private_key: ${SF_PRIVATE_KEY}

  # client_credentials, refresh_token (if the app requires it) and password:
  # client_secret: ${SF_CLIENT_SECRET}
  # refresh_token: ${SF_REFRESH_TOKEN}
  # password: ${SF_PASSWORD}    # the password with the security token appended

  # The REST API version every call uses.
  api_version: "62.0"

warehouse:
  # duckdb (an embedded database file), postgres or redshift.
  type: duckdb
  # duckdb: the database file (a relative path is relative to this file).
  path: sfsync.duckdb
  # postgres: the connection string; it may hold a password.
  # dsn: ${SFSYNC_PG_DSN}
  # postgres, redshift: text they cannot store exactly (NUL bytes; over
  # 65535 bytes in Redshift) is cleaned and recorded, or rejects the batch.
  # text: clean
  # duckdb: the memory DuckDB may manage (cache and query memory; it spills
  # to disk beyond it) and its worker threads (defaults: 128MB for each object
  # replicated at once, one thread per core).
  # memory_limit: 256MB
  # threads: 2

schemas:
  final: salesforce             # the replicated tables
  staging: salesforce_staging   # batches on their way in
  control: _sfsync              # cursors, runs and object state

sync:
  # Re-read this much before the cursor each run, to catch records committed
  # late with an earlier timestamp.
  lookback: 5m
  # Rows staged per consolidation; each consolidation is a checkpoint.
  batch_rows: 100000
  # Records per REST query page (a hint to Salesforce), 200 to 2000.
  page_size: 2000
  # Objects replicated at once.
  parallelism: 2
  # What happens to a row whose record is deleted: soft keeps it, flagged in
  # _sfsync_deleted; hard removes it. Objects may override it.
  delete_mode: soft
  # Keep consolidated staging rows this long, to replay a batch (0s: drop
  # them at once).
  staging_retention: 0s
  # Windows with more records than this use Bulk API 2.0 (0: REST only).
  bulk_threshold: 50000
  # Result pages of one Bulk job downloaded at once, 1 to 10 (1: one after
  # the other). Above 1 needs api_version 58.0 or later; each stream is one
  # more long-running request against the org's concurrent request limit.
  bulk_result_streams: 1

# What to replicate: API names, or globs over every queryable object.
objects:
  - Account
  - Opportunity
  - name: Contact
    # Keep only some fields (include), or drop some (exclude). Id, IsDeleted
    # and SystemModstamp are always kept.
    fields:
      # include: [Id, FirstName, LastName, Email, AccountId]
      exclude: [Description]
    # An extra SOQL condition for every query.
    # filter: "Email != null"
    # Override sync.delete_mode for this object.
    delete_mode: hard
    # Always extract every record instead of only the changes.
    full_refresh_only: false
  # Every custom object.
  - name: "*__c"

# Globs removed from glob matches (change event objects never match).
exclude: ["*History", "*Share", "*Feed"]

# The service, sfsync serve: runs objects on schedules and serves a status
# page, a JSON API and Prometheus metrics.
# serve:
#   # Where the page, API and /metrics listen. Any address but a loopback
#   # one (127.0.0.1, ::1, localhost) requires a token.
#   listen: 127.0.0.1:8484
#   # Bearer token every request but /healthz must carry (16+ characters).
#   token: ${SFSYNC_SERVE_TOKEN}
#   # Default schedule: an interval (15m) or a cron expression (*/15 * * * *).
#   schedule: 15m
#   # Per-object schedules.
#   schedules:
#     Opportunity: "0 * * * *"
#   # Failed runs are retried after initial_delay, doubling up to max_delay,
#   # at most max_attempts runs in a row.
#   retry:
#     max_attempts: 5
#     initial_delay: 30s
#     max_delay: 30m
#   # Start no work while the org has used more than this share of its daily
#   # API allowance.
#   budget_share: 0.8
#   # Keep run records this long.
#   run_retention: 720h
#   # Servers sharing a PostgreSQL warehouse take over the objects of one
#   # that died once its leases are this old.
#   lease_ttl: 2m
`
