#!/bin/bash
# Remove landing files older than RETENTION_DAYS (default 7) and report what was freed.
set -euo pipefail
LANDING_DIR=${1:-/data/landing}
RETENTION_DAYS=${2:-7}

before=$(du -sm "$LANDING_DIR" | cut -f1)
find "$LANDING_DIR" -type f -mtime +"$RETENTION_DAYS" -print -delete
after=$(du -sm "$LANDING_DIR" | cut -f1)
echo "freed $((before - after)) MB in $LANDING_DIR"
