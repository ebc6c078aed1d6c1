#!/usr/bin/env bash
# Tests the Debian package: builds it with packaging/build-deb.sh (or takes the .deb given
# as the first argument), inspects it with dpkg-deb (control fields, maintainer scripts,
# files and their permissions, conffiles), runs the maintainer scripts against a scratch
# root with stubbed system commands, verifies the systemd unit (systemd-analyze, where
# present) and its hardening, and starts the packaged binary from the extracted tree
# against a fresh data directory until /readyz answers.
#
#   tests/package/run.sh [path/to/consoled_*.deb]
#
# Needs cargo (to build), dpkg-deb and python3; nothing is installed system-wide, and no
# root is needed. One PASS/FAIL/SKIP line per check, a summary, non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

passed=0 failed=0 skipped=0
pass() { printf 'PASS  %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL  %s\n' "$1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/      /'; failed=$((failed + 1)); }
skip() { printf 'SKIP  %s\n' "$1"; skipped=$((skipped + 1)); }
# check NAME COMMAND...: PASS if the command succeeds (its output is shown on failure).
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}
summary() {
  printf '\npackage tests: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
  [ "$failed" -eq 0 ]
}
# A failure the remaining checks cannot go on from.
fatal() { fail "$@"; summary || true; exit 1; }

for tool in dpkg-deb python3; do
  command -v "$tool" >/dev/null || fatal "$tool is available"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/consoled-package-test.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- Build ----------------------------------------------------------------------------
deb=${1:-}
if [ -z "$deb" ]; then
  if deb=$(packaging/build-deb.sh | tail -n1) && [ -f "$deb" ]; then
    pass "packaging/build-deb.sh builds $deb"
  else
    fatal "packaging/build-deb.sh builds a .deb"
  fi
elif [ -f "$deb" ]; then
  pass "the given package exists: $deb"
else
  fatal "the given package exists: $deb"
fi

# --- Control fields and members ---------------------------------------------------------
field() { dpkg-deb --field "$deb" "$1"; }
cargo_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
info=$(dpkg-deb --info "$deb" 2>&1) || fatal "dpkg-deb --info reads the package" "$info"

check "Package is consoled" test "$(field Package)" = consoled
check "Version $(field Version) is the crate's $cargo_version" \
  bash -c '[[ "$1" == "$2" || "$1" == "$2"-* ]]' _ "$(field Version)" "$cargo_version"
if command -v dpkg >/dev/null; then
  check "Architecture is the host's ($(dpkg --print-architecture))" \
    test "$(field Architecture)" = "$(dpkg --print-architecture)"
fi
depends=$(field Depends)
check "Depends names libc6 (\$auto): $depends" grep -Eq '(^|, )libc6( |,|$)' <<<"$depends"
check "Depends names adduser" grep -Eq '(^|, )adduser( |,|$)' <<<"$depends"
check "Maintainer is set: $(field Maintainer)" test -n "$(field Maintainer)"
check "Section is net" test "$(field Section)" = net
check "an extended Description" test "$(field Description | wc -l)" -gt 2
for member in control conffiles postinst prerm postrm; do
  check "control member $member" grep -Eq "^ +[0-9]+ bytes, +[0-9]+ lines +\*? *$member( |$)" <<<"$info"
done

# --- Files and permissions --------------------------------------------------------------
contents=$(dpkg-deb --contents "$deb" 2>&1) || fatal "dpkg-deb --contents reads the package" "$contents"
# "MODE OWNER" of a path in the data archive, e.g. "-rwxr-xr-x root/root" (cargo-deb
# writes ids without names: 0/0 is root/root).
entry() { awk -v p="./$1" '$6 == p { sub(/^0\/0$/, "root/root", $2); print $1, $2 }' <<<"$contents"; }
check_entry() {
  local got
  got=$(entry "$1")
  if [ "$got" = "$2" ]; then pass "/$1 is $2"; else fail "/$1 is $2" "found: ${got:-nothing}"; fi
}
check_entry usr/bin/consoled "-rwxr-xr-x root/root"
unit_path=
for p in usr/lib/systemd/system/consoled.service lib/systemd/system/consoled.service; do
  [ -z "$(entry "$p")" ] || unit_path=$p
done
if [ -n "$unit_path" ]; then
  check_entry "$unit_path" "-rw-r--r-- root/root"
else
  fail "the unit at /usr/lib/systemd/system/consoled.service" "$contents"
fi
# 0640 in the archive; postinst makes it root:consoled (dpkg-deb cannot name the group).
check_entry etc/consoled/consoled.env "-rw-r----- root/root"
for doc in copyright README.md docs/operations.md help/consoled.txt help/consoled-serve.txt \
  help/consoled-init.txt help/consoled-api-clients-create.txt help/consoled-version.txt; do
  check_entry "usr/share/doc/consoled/$doc" "-rw-r--r-- root/root"
done
outside=$(awk '$1 !~ /^d/ { print $6 }' <<<"$contents" | grep -Ev '^\./(usr/|etc/consoled/|lib/systemd/)' || true)
check "no files outside /usr, /etc/consoled and the unit dir" test -z "$outside"
check "nothing under /var (the data dir is made at run time)" \
  bash -c '! grep -q " \./var/" <<<"$1"' _ "$contents"

root="$tmp/root"
ctl="$tmp/control"
out=$(dpkg-deb -x "$deb" "$root" 2>&1 && dpkg-deb -e "$deb" "$ctl" 2>&1) ||
  fatal "dpkg-deb -x and -e extract the package" "$out"
check "conffiles lists /etc/consoled/consoled.env" grep -qx /etc/consoled/consoled.env "$ctl/conffiles"
check "conffiles lists only files under /etc" bash -c '! grep -v "^/etc/" "$1"' _ "$ctl/conffiles"
for script in postinst prerm postrm; do
  check "$script is executable and valid sh" bash -c 'test -x "$1" && sh -n "$1"' _ "$ctl/$script"
done
# adduser's line, backslash-continued lines joined.
creates_user() {
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$ctl/postinst" |
    grep -Eq 'adduser .*--system .*--group .*--home /var/lib/consoled .*consoled$'
}
check "postinst creates the system user consoled" creates_user
check "the generated systemd fragments are in the scripts" \
  bash -c 'grep -q "deb-systemd-helper update-state consoled.service" "$1/postinst" &&
    grep -q "deb-systemd-helper purge consoled.service" "$1/postrm" &&
    grep -q "deb-systemd-invoke stop consoled.service" "$1/prerm"' _ "$ctl"
# cargo-deb's fragments re-enable on upgrade a unit that was enabled ("was-enabled"); other
# than that, nothing enables or starts it.
never_starts() {
  ! sed '/was-enabled/,/fi$/d' "$ctl/postinst" \
    | grep -E 'deb-systemd-helper enable|deb-systemd-invoke (start|\$_dh_action)'
}
check "postinst neither enables nor starts the service on installation" never_starts
check "postinst restarts a running service on upgrade" \
  grep -q 'deb-systemd-invoke try-restart consoled.service' "$ctl/postinst"

# --- The maintainer scripts, run against a scratch root ($DPKG_ROOT) --------------------
# The system commands they call are stubs that log their arguments: nothing outside the
# scratch root is touched, whoever runs this.
stubs="$tmp/stubs"
mkdir -p "$stubs"
for cmd in adduser chown deb-systemd-helper deb-systemd-invoke systemctl; do
  printf '#!/bin/sh\necho "%s $*" >>"$STUB_LOG"\n' "$cmd" >"$stubs/$cmd"
done
# getent: the user exists when STUB_USER_EXISTS=1; dpkg-statoverride: no overrides.
printf '#!/bin/sh\necho "getent $*" >>"$STUB_LOG"\n[ "${STUB_USER_EXISTS:-0}" = 1 ] && echo "consoled:x:999:999::/var/lib/consoled:/usr/sbin/nologin"\n' \
  >"$stubs/getent"
printf '#!/bin/sh\nexit 1\n' >"$stubs/dpkg-statoverride"
chmod 755 "$stubs"/*
sandbox="$tmp/sandbox"
mkdir -p "$sandbox/etc/consoled"
cp -p "$root/etc/consoled/consoled.env" "$sandbox/etc/consoled/"
chmod 0644 "$sandbox/etc/consoled/consoled.env"
run_script() { # SCRIPT ARGS...: runs a maintainer script in the sandbox; log in $tmp/stub.log
  : >"$tmp/stub.log"
  env PATH="$stubs:$PATH" DPKG_ROOT="$sandbox" STUB_LOG="$tmp/stub.log" \
    DPKG_MAINTSCRIPT_PACKAGE=consoled DPKG_MAINTSCRIPT_NAME="$1" sh "$ctl/$1" "${@:2}"
}
mode() { stat -c %a "$1"; }

if run_script postinst configure "" >"$tmp/script.out" 2>&1; then
  pass "postinst configure (first installation) succeeds"
  check "postinst runs adduser --system --group ... consoled" \
    grep -Eq '^adduser .*--system .*--group .*--home /var/lib/consoled .*consoled$' "$tmp/stub.log"
  check "postinst makes the env file root:consoled" \
    grep -qx "chown root:consoled $sandbox/etc/consoled/consoled.env" "$tmp/stub.log"
  check "postinst makes the env file mode 0640" test "$(mode "$sandbox/etc/consoled/consoled.env")" = 640
  check "postinst creates /var/lib/consoled mode 0750 for consoled" \
    bash -c 'test "$(stat -c %a "$1/var/lib/consoled")" = 750 &&
      grep -qx "chown consoled:consoled $1/var/lib/consoled" "$2"' _ "$sandbox" "$tmp/stub.log"
else
  fail "postinst configure (first installation) succeeds" "$(cat "$tmp/script.out")"
fi
if STUB_USER_EXISTS=1 run_script postinst configure "$cargo_version-1" >"$tmp/script.out" 2>&1; then
  pass "postinst configure (upgrade) succeeds"
  check "postinst leaves an existing user alone" bash -c '! grep -q ^adduser "$1"' _ "$tmp/stub.log"
else
  fail "postinst configure (upgrade) succeeds" "$(cat "$tmp/script.out")"
fi
touch "$sandbox/var/lib/consoled/consoled.db" "$sandbox/var/lib/consoled/master.key"
if run_script postrm remove >"$tmp/script.out" 2>&1; then
  check "postrm remove keeps /var/lib/consoled" test -f "$sandbox/var/lib/consoled/master.key"
else
  fail "postrm remove succeeds" "$(cat "$tmp/script.out")"
fi
# A symlinked state dir: purge removes the link's... nothing: it is left, target and all.
mkdir -p "$tmp/elsewhere" && touch "$tmp/elsewhere/master.key"
mv "$sandbox/var/lib/consoled" "$sandbox/var/lib/consoled.real"
ln -s "$tmp/elsewhere" "$sandbox/var/lib/consoled"
if run_script postrm purge >"$tmp/script.out" 2>&1; then
  check "postrm purge leaves a symlinked state dir and its target alone" \
    test -f "$tmp/elsewhere/master.key" -a -L "$sandbox/var/lib/consoled"
else
  fail "postrm purge succeeds (symlinked state dir)" "$(cat "$tmp/script.out")"
fi
rm "$sandbox/var/lib/consoled" && mv "$sandbox/var/lib/consoled.real" "$sandbox/var/lib/consoled"
if run_script postrm purge >"$tmp/script.out" 2>&1; then
  check "postrm purge removes /var/lib/consoled" test ! -e "$sandbox/var/lib/consoled"
  check "postrm purge leaves /var/lib and /etc alone" test -d "$sandbox/var/lib" -a -d "$sandbox/etc/consoled"
  check "postrm purge cleans deb-systemd-helper's state" \
    grep -qx 'deb-systemd-helper purge consoled.service' "$tmp/stub.log"
else
  fail "postrm purge succeeds" "$(cat "$tmp/script.out")"
fi

# --- The unit -------------------------------------------------------------------------
# (without a unit in the package, its failure above is enough)
if [ -n "$unit_path" ]; then
  unit="$root/$unit_path"
  for setting in Type=exec User=consoled Group=consoled StateDirectory=consoled \
    EnvironmentFile=-/etc/consoled/consoled.env \
    'ExecStart=/usr/bin/consoled serve --data-dir /var/lib/consoled' Restart=on-failure \
    ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes NoNewPrivileges=yes \
    ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
    ProtectControlGroups=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
    CapabilityBoundingSet= SystemCallFilter=@system-service LockPersonality=yes \
    MemoryDenyWriteExecute=yes RestrictNamespaces=yes RestrictSUIDSGID=yes \
    WantedBy=multi-user.target; do
    check "unit: $setting" grep -qxF "$setting" "$unit"
  done
  check "unit: LimitNOFILE is raised" grep -Eqx 'LimitNOFILE=[0-9]{5,}' "$unit"

  if command -v systemd-analyze >/dev/null; then
    # verify checks that ExecStart's binary exists: a copy of the unit runs the extracted one.
    mkdir -p "$tmp/units"
    sed "s|^ExecStart=/usr/bin/consoled |ExecStart=$root/usr/bin/consoled |" "$unit" >"$tmp/units/consoled.service"
    if out=$(cd "$tmp/units" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no ./consoled.service 2>&1); then
      # Warnings (an unknown setting, say) do not fail verify; those about this unit do here.
      if grep -q 'consoled.service' <<<"$out"; then
        fail "systemd-analyze verify: no warnings about the unit" "$out"
      else
        pass "systemd-analyze verify consoled.service"
      fi
    else
      fail "systemd-analyze verify consoled.service" "$out"
    fi
    # The exposure score of `systemd-analyze security` (0 safest, 10 worst): at most 2.5.
    if out=$(cd "$tmp/units" && systemd-analyze security --offline=yes --no-pager ./consoled.service 2>&1); then
      score=$(sed -n 's/.*Overall exposure level for consoled.service: \([0-9.]*\).*/\1/p' <<<"$out")
      if [ -n "$score" ] && python3 -c 'import sys; sys.exit(float(sys.argv[1]) > 2.5)' "$score"; then
        pass "systemd-analyze security: exposure $score (at most 2.5)"
      else
        fail "systemd-analyze security: exposure ${score:-?} (at most 2.5)" "$out"
      fi
    else
      skip "systemd-analyze security --offline (not supported here)"
    fi
  else
    skip "systemd-analyze verify (systemd-analyze is not installed)"
  fi
fi

# --- The packaged binary --------------------------------------------------------------
bin="$root/usr/bin/consoled"
# A clean environment: no CONSOLED_* setting of the caller's leaks in.
run_bin() { env -i PATH=/usr/bin:/bin HOME="$tmp" LC_ALL=C.UTF-8 "$bin" "$@"; }
version_out=$(run_bin --version 2>&1) || true
check "consoled --version prints 'consoled $cargo_version'" test "$version_out" = "consoled $cargo_version"
for args in "" "serve" "init"; do
  # shellcheck disable=SC2086 # the words of $args are the subcommand
  if help_out=$(run_bin $args --help 2>&1) && grep -q '^Usage: consoled' <<<"$help_out"; then
    pass "consoled ${args:+$args }--help"
  else
    fail "consoled ${args:+$args }--help" "$help_out"
  fi
done
check "the packaged serve --help text matches the binary's" \
  bash -c 'diff <(env -i LC_ALL=C.UTF-8 "$1" serve --help) "$2"' _ "$bin" "$root/usr/share/doc/consoled/help/consoled-serve.txt"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
metrics_port=$(free_port)
data="$tmp/data"
# Not through run_bin: a function in the background is a subshell, and $! must be consoled.
# With the settings the env file suggests for pipelines: JSON logs and the metrics listener.
env -i PATH=/usr/bin:/bin HOME="$tmp" LC_ALL=C.UTF-8 CONSOLED_LOG_FORMAT=json \
  CONSOLED_METRICS_LISTEN="127.0.0.1:$metrics_port" "$bin" serve --data-dir "$data" \
  --listen "127.0.0.1:$port" >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
# Polls /readyz (python3: no curl needed) for up to 30 seconds; prints the last body.
ready=$(python3 - "$port" "$server_pid" <<'PY'
import os, sys, time, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
body = ""
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        body = "(the server exited)"
        break
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            body = r.read().decode()
            if r.status == 200:
                break
    except Exception as e:
        body = f"({e})"
    time.sleep(0.2)
print(body)
PY
)
if [ "$ready" = '{"status":"ready"}' ]; then
  pass "the packaged binary serves /readyz on a fresh data dir: $ready"
else
  fail "the packaged binary serves /readyz on a fresh data dir" \
    "last answer: $ready
$(cat "$tmp/server.err")"
fi
check "the first start printed the bootstrap client on stdout" grep -q 'client secret:' "$tmp/server.out"
check "the packaged binary serves its metrics on CONSOLED_METRICS_LISTEN" \
  python3 -c 'import sys, urllib.request; body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode(); assert "consoled_build_info" in body, body' "$metrics_port"
check "its log (CONSOLED_LOG_FORMAT=json) is one JSON object per line" \
  python3 -c 'import json, sys; lines = open(sys.argv[1]).read().splitlines(); assert lines; [json.loads(l) for l in lines]' "$tmp/server.err"
check "the first start wrote consoled.db and master.key (mode 0600)" \
  bash -c 'test -f "$1/consoled.db" && test "$(stat -c %a "$1/master.key")" = 600' _ "$data"
if kill -0 "$server_pid" 2>/dev/null; then
  kill -TERM "$server_pid"
  status=0
  for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    fail "the server stops on SIGTERM within 10 seconds"
  else
    wait "$server_pid" || status=$?
    check "the server stops on SIGTERM with status 0 (status $status)" test "$status" -eq 0
    server_pid=
  fi
else
  fail "the server was still running at the end" "$(cat "$tmp/server.err")"
fi

summary
