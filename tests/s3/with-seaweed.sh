#!/usr/bin/env bash
# Runs a command with a SeaweedFS S3 server of its own for the whole run (its KADR_TEST_S3_*
# variables exported), then stops the server. Tests that need an S3 cluster read those
# variables; one instance is shared by the run, and each test keeps to its own key prefix.
# When KADR_TEST_S3_ENDPOINT is already set, that server is used and none is started.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${KADR_TEST_S3_ENDPOINT:-}" ]; then
  exec "$@"
fi
dir="$root/target/tmp/seaweed-$$"
trap '"$root/tests/s3/seaweed.sh" stop "$dir"; rm -rf "$dir"' EXIT
"$root/tests/s3/seaweed.sh" start "$dir" >/dev/null
set -a
# shellcheck disable=SC1091
. "$dir/env"
set +a
echo "SeaweedFS S3 at $KADR_TEST_S3_ENDPOINT for this run" >&2
"$@"
