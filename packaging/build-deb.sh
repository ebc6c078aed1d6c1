#!/usr/bin/env bash
# Builds the Debian package of consoled with cargo-deb (installing it if missing):
# the release binary, the --help text of every command (for /usr/share/doc/consoled/help/),
# then `cargo deb --no-build`. Prints the path of the .deb as the last line of stdout;
# everything else goes to stderr.
#
#   packaging/build-deb.sh            # -> target/debian/consoled_<version>-1_<arch>.deb
#
# Honours CARGO_TARGET_DIR (and any target dir Cargo is configured with). What the package
# contains is `[package.metadata.deb]` in Cargo.toml; tests/package/run.sh checks it.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0

log() { printf 'build-deb: %s\n' "$*" >&2; }

if ! cargo deb --version >/dev/null 2>&1; then
  log "cargo-deb is missing: cargo install cargo-deb@$CARGO_DEB_VERSION --locked"
  cargo install "cargo-deb@$CARGO_DEB_VERSION" --locked >&2
fi
log "using $(cargo deb --version 2>&1 | head -n1)"

# The target dir as Cargo (and so cargo-deb) sees it: CARGO_TARGET_DIR, a config's
# build.target-dir, or ./target.
target_dir=$(cargo metadata --format-version 1 --no-deps --locked \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

log "cargo build --release --locked (target dir $target_dir)"
cargo build --release --locked >&2
bin="$target_dir/release/consoled"

# The --help of `consoled` and of every subcommand, recursively, one file each:
# help/consoled.txt, help/consoled-serve.txt, help/consoled-orgs-create.txt, ...
# A clean environment: clap shows the values of the CONSOLED_* variables it finds.
help_dir="$target_dir/release/deb-doc/help"
rm -rf "$help_dir"
mkdir -p "$help_dir"
write_help() {
  local name="consoled${*:+-}$(IFS=-; echo "$*")"
  env -i LC_ALL=C.UTF-8 "$bin" "$@" --help >"$help_dir/$name.txt"
  # The "Commands:" section lists the subcommands, two spaces in; `help` is clap's own.
  local sub
  for sub in $(awk '/^Commands:/ {on = 1; next} /^[^ ]/ {on = 0} on && /^  [a-z]/ {print $1}' \
    "$help_dir/$name.txt"); do
    [ "$sub" = help ] || write_help "$@" "$sub"
  done
}
write_help
env -i LC_ALL=C.UTF-8 "$bin" --version >"$help_dir/consoled-version.txt"
log "wrote $(ls "$help_dir" | wc -l) help texts to $help_dir"

# The binary is the one just built; cargo-deb finds it (and the help texts) through the
# target/release/ prefix of the assets, resolved to the real target dir.
out=$(cargo deb --no-build --locked)
deb=$(printf '%s\n' "$out" | tail -n1)
if [ ! -f "$deb" ]; then
  log "cargo deb did not print the path of a .deb: $out"
  exit 1
fi
log "built $deb"
printf '%s\n' "$deb"
