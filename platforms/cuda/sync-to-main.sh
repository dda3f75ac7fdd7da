#!/bin/bash
# sync-to-main.sh DEST: copies this worktree (without build trees, .git and
# .gpu) into DEST. The device tool sends the checkout its session was
# started in, not a helper's worktree: DEST is a folder of that checkout
# ignored by its .git/info/exclude (e.g. CHECKOUT/.gpu/src), named in the
# tool's carry (README, "Measured on the H200").
set -eu
if [ $# -ne 1 ]; then
  sed -n '2,6p' "$0"
  exit 2
fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DST=$1
rm -rf "$DST" && mkdir -p "$DST"
tar -C "$SRC" --exclude='./build*' --exclude='./.git' --exclude='./.gpu' -cf - . | tar -C "$DST" -xf -
