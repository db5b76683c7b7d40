#!/usr/bin/env bash
# REST benchmark into PostgreSQL: bench/rest.sh with WAREHOUSE=postgres (see
# there: PG_DSN, BATCH_ROWS, BULK_THRESHOLD).
# Usage: bench/rest-postgres.sh [N] [CHANGES]
PORT=${PORT:-18081} WAREHOUSE=postgres exec "$(dirname "$0")/rest.sh" "$@"
