#!/usr/bin/env bash
# Installs what the tests need, starts the services they use, and runs the whole suite:
# lint (ruff), type check (mypy), pytest (slow tests included). .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e '.[test]'

# System tools for the emulated multi-host lab (network namespaces, tc); optional elsewhere.
if ! command -v tc >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y -q iproute2 >/dev/null 2>&1 || echo "note: could not install iproute2; lab tests will skip"
fi

# A real redis-server for the feature store's second online backend (tests start their own
# on a private port; nothing is started here). Debian package, as for iproute2.
if ! command -v redis-server >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get install -y -q redis-server >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q redis-server >/dev/null 2>&1; }; } \
    || echo "note: could not install redis-server"
fi

# HAProxy for the resilient-serving tests (a real load balancer in front of real replicas;
# the tests write its config and start it themselves). Debian package, as above.
if ! command -v haproxy >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get install -y -q haproxy >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q haproxy >/dev/null 2>&1; }; } \
    || echo "note: could not install haproxy"
fi

# Headless Chromium for the HTML report's browser test (opens the file, reads console errors
# and screenshots each plot over the DevTools protocol). Debian package (113 MB): only when missing.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; } \
    || echo "note: could not install chromium"
fi

# Slurm (slurmctld, slurmd, munge, slurmdbd) and MariaDB for the real-Slurm comparison of the
# scheduling chapter. Installed only; the tests start and stop their own daemons under a
# temporary directory (mlfleet lab slurm up/down). Debian packages, as above.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for tool in slurmctld:slurm-wlm slurmd:slurm-wlm munged:munge slurmdbd:slurmdbd \
              mariadbd:mariadb-server sacct:slurm-client; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool#*:}"
  done
  if [ -n "$missing" ]; then
    # shellcheck disable=SC2086
    { apt-get install -y -q $missing >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $missing >/dev/null 2>&1; }; } \
      || echo "note: could not install$missing"
  fi
fi

echo "== ruff"; ruff check src tests benchmarks
echo "== mypy"; mypy
echo "== pytest (parallel)"; python -m pytest -n "${PYTEST_WORKERS:-2}" -m "not serial" "$@"
# Model-vs-measurement acceptance tests time real runs: run them alone, on a quiet machine.
echo "== pytest (serial timing tests)"
python -m pytest -m serial "$@" || [ $? -eq 5 ]  # 5: none selected
