"""Schemathesis hooks for Kadr's fuzz run (loaded through SCHEMATHESIS_HOOKS by run.sh)."""

import re

import schemathesis

# What must never reach a caller: file system paths, SQL and database driver messages, S3 and
# HTTP client internals, Rust panics and error types.
INTERNALS = re.compile(
    r"(/work/|/tmp/|/var/lib/|/home/|/root/|\.rs:\d+"
    r"|\bSELECT\b|\bINSERT INTO\b|\bUPDATE \w+ SET\b|sqlx|sea_orm|DbErr|error returned from database"
    r"|dispatch failure|AccessDenied|NoSuchKey|NoSuchBucket|aws-sdk|s3s"
    r"|panicked at|RUST_BACKTRACE)",
    re.IGNORECASE,
)


@schemathesis.check
def no_internals_in_errors(ctx, response, case):
    """A 4xx or 5xx answer names no path, SQL, storage message or panic."""
    if response.status_code < 400:
        return None
    text = response.text or ""
    found = INTERNALS.search(text)
    if found:
        raise AssertionError(
            f"{response.status_code} body reveals internals ({found.group(0)!r}): {text[:300]}"
        )
    return None
