#!/usr/bin/env bash
# Install touchpoint-edge on a Raspberry Pi (Raspberry Pi OS / Debian), as root:
#   sudo systemd/install-pi.sh [--config store.toml] [--credentials DIR] [--kiosk terminal|browser]
# Creates the service user, /opt/touchpoint with its venv, /etc/touchpoint, the
# state directory, udev rules and the unit; copies credentials (mode 0600, root).
# --kiosk terminal: the shopper kiosk on tty1; --kiosk browser: served to a Chromium
# kiosk window under cage on tty1, for a touch screen (docs/kiosk.md).
# Safe to run again (an upgrade): existing config and credentials are kept.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/touchpoint
ETC=/etc/touchpoint
CONFIG=""
CREDS=""
KIOSK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG=$2; shift 2 ;;
    --credentials) CREDS=$2; shift 2 ;;
    --kiosk) KIOSK=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run as root (sudo)" >&2; exit 2; }

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv python3-pip

getent group gpio >/dev/null || groupadd --system gpio
id touchpoint >/dev/null 2>&1 || useradd --system --home-dir /var/lib/touchpoint --shell /usr/sbin/nologin \
  --user-group --groups dialout,video,gpio touchpoint

install -d -m 0755 "$PREFIX"
rsync -a --delete --exclude .venv --exclude .git "$SRC"/ "$PREFIX"/src/ 2>/dev/null || cp -a "$SRC"/. "$PREFIX"/src/
python3 -m venv "$PREFIX/.venv"
"$PREFIX/.venv/bin/pip" install -q --upgrade pip
"$PREFIX/.venv/bin/pip" install -q "$PREFIX/src" gpiozero
ln -sfn "$PREFIX/src/docs" "$PREFIX/docs"

install -d -m 0750 -o root -g touchpoint "$ETC"
install -d -m 0700 -o root -g root "$ETC/credentials"
if [ -n "$CONFIG" ]; then install -m 0640 -o root -g touchpoint "$CONFIG" "$ETC/store.toml"; fi
[ -f "$ETC/store.toml" ] || install -m 0640 -o root -g touchpoint "$SRC/config/store.example.toml" "$ETC/store.toml"
if [ -n "$CREDS" ]; then
  for f in "$CREDS"/*; do install -m 0600 -o root -g root "$f" "$ETC/credentials/$(basename "$f")"; done
fi
install -d -m 0750 -o touchpoint -g touchpoint /var/lib/touchpoint

install -m 0644 "$SRC/systemd/99-touchpoint.rules" /etc/udev/rules.d/99-touchpoint.rules
udevadm control --reload-rules && udevadm trigger --subsystem-match=tty --subsystem-match=video4linux || true

install -m 0644 "$SRC/systemd/touchpoint-edge.service" /etc/systemd/system/touchpoint-edge.service
install -m 0644 "$SRC/systemd/touchpoint-kiosk.service" "$SRC/systemd/touchpoint-kiosk-web.service" \
  "$SRC/systemd/touchpoint-kiosk-browser.service" /etc/systemd/system/
systemctl daemon-reload
systemctl enable touchpoint-edge.service
case "$KIOSK" in
  "") ;;
  terminal)
    systemctl disable getty@tty1.service touchpoint-kiosk-web.service touchpoint-kiosk-browser.service 2>/dev/null || true
    systemctl enable touchpoint-kiosk.service ;;
  browser)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cage chromium fonts-dejavu-core
    groups=video,input; getent group render >/dev/null && groups=$groups,render
    id kiosk >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/kiosk --shell /usr/sbin/nologin \
      --groups "$groups" kiosk
    systemctl disable getty@tty1.service touchpoint-kiosk.service 2>/dev/null || true
    systemctl enable touchpoint-kiosk-web.service touchpoint-kiosk-browser.service
    systemctl set-default graphical.target ;;
  *) echo "--kiosk must be terminal or browser" >&2; exit 2 ;;
esac
echo "installed. Edit $ETC/store.toml, put secrets in $ETC/credentials/, then:"
echo "  $PREFIX/.venv/bin/touchpoint config check $ETC/store.toml && systemctl restart touchpoint-edge"
