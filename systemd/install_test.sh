#!/usr/bin/env bash
# Runs the README's "Installing" steps (SQLite) in a scratch root and
# checks that they work: systemd-sysusers and systemd-tmpfiles applied with
# --root, the unit verified by systemd-analyze, the configuration and the
# secrets readable by the service user, and check-config and migrate run
# as that user (chroot --userspec with the uid and gid sysusers gave it).
# It also checks the mistakes the steps avoid: migrate before tmpfiles,
# a configuration or a secret the service user cannot read, each failing
# with an error that names the file.
#
# Needs root (chroot, file owners), systemd (systemd-sysusers,
# systemd-tmpfiles, systemd-analyze) and Go. Run from anywhere:
#   sudo systemd/install_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "install_test: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root"
for c in systemd-sysusers systemd-tmpfiles systemd-analyze chroot go; do
  command -v "$c" >/dev/null || fail "$c is not installed"
done

CHROOT=$(command -v chroot)
ROOT=$(mktemp -d /tmp/helpdeskd-install.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
chmod 0755 "$ROOT"
# What a Debian system has before helpdeskd: /etc, /tmp, time zones
# (tzdata), systemd's own units (for systemd-analyze verify).
mkdir -p "$ROOT"/etc "$ROOT"/usr/bin "$ROOT"/usr/share "$ROOT"/usr/lib/systemd "$ROOT"/tmp
chmod 1777 "$ROOT/tmp"
cp -a /usr/share/zoneinfo "$ROOT/usr/share/"
cp -a /lib/systemd/system "$ROOT/usr/lib/systemd/"
# /bin/kill (procps, priority important) for the unit's ExecReload, in a
# usr-merged layout as Debian 12 has it.
cp /bin/kill "$ROOT/usr/bin/kill"
ln -s usr/bin "$ROOT/bin"

# The service user's commands, as "runuser -u helpdeskd -- helpdeskd …"
# runs them on the real machine.
as_helpdeskd() {
  env -i PATH=/usr/bin "$CHROOT" --userspec="$HD_UID:$HD_GID" --groups="$HD_GID" "$ROOT" /usr/bin/helpdeskd "$@"
}
expect_fail() { # expect_fail "what" "text the error must contain" command…
  local what=$1 want=$2; shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [ "$rc" != 0 ] || fail "$what: succeeded, want a failure"
  grep -qF -- "$want" <<<"$out" || fail "$what: the error does not name $want: $out"
  echo "ok: $what fails: $out"
}

# README step 1: the binary and the systemd files.
CGO_ENABLED=0 go build -o "$ROOT/usr/bin/helpdeskd" ./cmd/helpdeskd
install -D -m 0644 systemd/helpdeskd.service "$ROOT/etc/systemd/system/helpdeskd.service"
install -D -m 0644 systemd/helpdeskd.sysusers "$ROOT/usr/lib/sysusers.d/helpdeskd.conf"
install -D -m 0644 systemd/helpdeskd.tmpfiles "$ROOT/usr/lib/tmpfiles.d/helpdeskd.conf"

out=$(systemd-analyze verify --root="$ROOT" helpdeskd.service 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
echo "ok: systemd-analyze verify helpdeskd.service"

# README step 2: the user and group.
systemd-sysusers --root="$ROOT" helpdeskd.conf
HD_UID=$(awk -F: '$1=="helpdeskd"{print $3}' "$ROOT/etc/passwd")
HD_GID=$(awk -F: '$1=="helpdeskd"{print $3}' "$ROOT/etc/group")
[ -n "$HD_UID" ] && [ -n "$HD_GID" ] || fail "systemd-sysusers made no user or group helpdeskd"
echo "ok: user helpdeskd uid $HD_UID gid $HD_GID"

# The mistake of skipping tmpfiles: migrate names the database and its
# directory (SQLite alone says "unable to open database file (14)").
printf '[helpdesk]\naddress = "support@example.com"\n[database]\nurl = "sqlite:/var/lib/helpdeskd/helpdeskd.db"\n' >"$ROOT/tmp/early.toml"
chmod 0644 "$ROOT/tmp/early.toml"
expect_fail "migrate before systemd-tmpfiles" "sqlite database /var/lib/helpdeskd/helpdeskd.db: its directory: stat /var/lib/helpdeskd: no such file or directory" \
  as_helpdeskd -config /tmp/early.toml migrate

# README step 2: the directories.
systemd-tmpfiles --root="$ROOT" --create helpdeskd.conf
[ "$(stat -c '%u:%g %a' "$ROOT/var/lib/helpdeskd")" = "$HD_UID:$HD_GID 750" ] || fail "/var/lib/helpdeskd is $(stat -c '%u:%g %a' "$ROOT/var/lib/helpdeskd")"
[ "$(stat -c '%u:%g %a' "$ROOT/etc/helpdeskd")" = "0:$HD_GID 750" ] || fail "/etc/helpdeskd is $(stat -c '%u:%g %a' "$ROOT/etc/helpdeskd")"
echo "ok: /var/lib/helpdeskd helpdeskd:helpdeskd 0750, /etc/helpdeskd root:helpdeskd 0750"
printf '[helpdesk]\naddress = "support@example.com"\n[database]\nurl = "sqlite:/etc/helpdeskd/helpdeskd.db"\n' >"$ROOT/tmp/ro.toml"
chmod 0644 "$ROOT/tmp/ro.toml"
expect_fail "migrate into a directory the service user cannot write" "sqlite database /etc/helpdeskd/helpdeskd.db: directory /etc/helpdeskd is not writable by uid $HD_UID" \
  as_helpdeskd -config /tmp/ro.toml migrate

# The mistake the issue reported: a configuration root:root 0640.
install -m 0640 config.example.toml "$ROOT/etc/helpdeskd/config.toml"
expect_fail "check-config of a root:root 0640 configuration" "/etc/helpdeskd/config.toml: cannot read: open /etc/helpdeskd/config.toml: permission denied" \
  as_helpdeskd check-config

# README step 3: the configuration, root:helpdeskd 0640 (the group is
# numeric here: the host has no group helpdeskd).
install -o root -g "$HD_GID" -m 0640 config.example.toml "$ROOT/etc/helpdeskd/config.toml"
# README step 4: the secrets the example's password_file keys name.
install -o root -g root -m 0600 /dev/null "$ROOT/etc/helpdeskd/imap.secret"
expect_fail "check-config with a secret only root can read" "[imap] password_file: cannot read: open /etc/helpdeskd/imap.secret: permission denied" \
  as_helpdeskd check-config
for s in imap smtp; do
  install -o root -g "$HD_GID" -m 0640 /dev/null "$ROOT/etc/helpdeskd/$s.secret"
  printf '%s\n' "the $s password" >"$ROOT/etc/helpdeskd/$s.secret"
done

# README step 5: check and migrate as the service user.
out=$(as_helpdeskd check-config 2>&1) || fail "check-config: $out"
echo "ok: check-config: $out"
out=$(as_helpdeskd migrate 2>&1) || fail "migrate: $out"
echo "ok: migrate: $out"
[ "$(stat -c '%u:%g' "$ROOT/var/lib/helpdeskd/helpdeskd.db")" = "$HD_UID:$HD_GID" ] || fail "the database is not owned by helpdeskd"
out=$(as_helpdeskd incidents --all 2>&1) || fail "incidents: $out"
out=$(as_helpdeskd migrate 2>&1) || fail "second migrate: $out"
grep -q "applied 0 migration" <<<"$out" || fail "second migrate: $out"
echo "ok: the database is helpdeskd's and answers"

# PostgreSQL (when CI requires it): the README's role and database, then
# migrate as the service user. The README connects through the Unix
# socket with peer authentication, which needs the user on the host;
# here the service user of the scratch root logs in over TCP with the
# password .ci/run gives the role.
if [ -n "${HELPDESKD_REQUIRE_POSTGRES:-}" ]; then
  pg() { (cd / && runuser -u postgres -- "$@"); }
  if ! pg psql -Atqc "SELECT 1 FROM pg_roles WHERE rolname = 'helpdeskd'" | grep -q 1; then
    pg createuser helpdeskd
    pg psql -qc "ALTER ROLE helpdeskd PASSWORD 'helpdeskd'"
  fi
  db=helpdeskd_install_$$
  pg createdb -O helpdeskd "$db"
  trap 'pg dropdb --if-exists "$db"; rm -rf "$ROOT"' EXIT
  printf '[helpdesk]\naddress = "support@example.com"\n[database]\nurl = "postgres://helpdeskd:helpdeskd@127.0.0.1:5432/%s?sslmode=disable"\n' "$db" >"$ROOT/tmp/pg.toml"
  chmod 0644 "$ROOT/tmp/pg.toml"
  out=$(as_helpdeskd -config /tmp/pg.toml migrate 2>&1) || fail "migrate on PostgreSQL: $out"
  owner=$(pg psql -Atqc "SELECT tableowner FROM pg_tables WHERE tablename = 'incidents'" "$db")
  [ "$owner" = helpdeskd ] || fail "PostgreSQL tables owned by $owner, want helpdeskd"
  echo "ok: PostgreSQL: createdb -O helpdeskd, migrate as helpdeskd: $out"
fi
echo "install_test: PASS"
