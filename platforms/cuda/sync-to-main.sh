#!/bin/bash
# sync-to-main.sh: copies this worktree (without build trees and .git) into
# /work/main/.gpu/src, the git-ignored folder the device tool carries.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DST=${1:-/work/main/.gpu/src}
rm -rf "$DST" && mkdir -p "$DST"
tar -C "$SRC" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$DST" -xf -
