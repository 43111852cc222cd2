#!/usr/bin/env bash
# One script behind README's two commands.
#   bash installer/bootstrap.sh demo   — set up, then run ARM on the embedded SQLite demo
#   bash installer/bootstrap.sh test   — set up, then run every check and test
# It installs what it needs itself: Debian packages (when run as root), a virtualenv in .venv,
# the project with its test extra; for tests it also makes sure PostgreSQL is up and has a
# role for throw-away test databases.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"; shift || true
case "$mode" in demo|test|setup) ;; *) echo "usage: $0 demo|test|setup [pytest args]" >&2; exit 2;; esac

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

APT_RUNTIME="python3 python3-venv python3-pip libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0
  libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-image0 libxcb-render-util0 libxcb-xkb1
  libxcb-randr0 libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 fonts-dejavu-core
  xvfb xauth pcscd libpcsclite1 libpcsclite-dev swig gcc python3-dev vsmartcard-vpcd util-linux"
APT_DEMO="kannel kannel-extras orthanc"  # the demo's SMS gateway with its fake SMSC; its PACS
APT_TEST="postgresql poppler-utils kannel kannel-extras orthanc dcmtk"

apt_install() {
  local missing=()
  for p in $*; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]} — run as root or: sudo apt-get install ${missing[*]}"
    return 0
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

if command -v dpkg-query >/dev/null; then
  apt_install $APT_RUNTIME
  [ "$mode" = demo ] && apt_install $APT_DEMO
  [ "$mode" = test ] && apt_install $APT_TEST
fi

PY="${PYTHON:-python3}"
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), "ARM needs Python 3.11+"'
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.arm-installed
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! .venv/bin/python -c 'import arm' 2>/dev/null; then
  say "installing ARM and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  echo "$want" > "$stamp"
fi

ensure_postgres() {
  # Tests need a real PostgreSQL on 127.0.0.1:5432 and a role that may create databases.
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters --no-header 2>/dev/null | while read -r ver name port status _; do
      if [ "$status" != online ] && [ "$(id -u)" -eq 0 ]; then
        say "starting PostgreSQL $ver/$name"
        pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || true
      fi
    done
  fi
  if [ -z "${ARM_TEST_PG_URL:-}" ] && [ "$(id -u)" -eq 0 ] && command -v psql >/dev/null; then
    runuser -u postgres -- psql -qAtX -c "DO \$\$BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='arm_test') THEN
        CREATE ROLE arm_test LOGIN SUPERUSER PASSWORD 'arm_test'; END IF; END\$\$;" >/dev/null \
      && export ARM_TEST_PG_URL="postgresql://arm_test:arm_test@127.0.0.1:5432/postgres"
  fi
  export ARM_TEST_PG_URL="${ARM_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
}

case "$mode" in
  setup) say "ready: .venv/bin/arm --demo" ;;
  demo)
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
      say "no display here: running ARM on a virtual X screen (xvfb-run)"
      exec xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/arm --demo "$@"
    fi
    exec .venv/bin/arm --demo "$@"
    ;;
  test)
    ensure_postgres
    export QT_QPA_PLATFORM=offscreen
    say "ruff";          .venv/bin/ruff check arm widgets services dicom printing tests bench
    say "import layers"; .venv/bin/lint-imports
    say "mypy";          .venv/bin/mypy
    say "pytest";        .venv/bin/python -m pytest "$@"
    ;;
esac
