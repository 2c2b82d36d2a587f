#!/usr/bin/env bash
# Builds the Debian package of the gateway: build/carnet_VERSION_ARCH.deb (CPack, DEB).
#   scripts/package.sh [BUILD_DIR]     (default build/; the gateway is built there first)
# The package: /usr/bin/carnet-gateway, the systemd unit carnet.service, the configuration
# /etc/carnet/carnet.conf, the system user carnet and its data directory /var/lib/carnet
# (made by postinst), the patient's web space when built. It connects to an existing PostgreSQL
# server (the `db` line of the configuration). deploy/debian/ holds its files.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)

# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
carnet_install_packages dpkg-dev  # and what the build needs
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD" --target carnet -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

# 0.1.0~gitDATE.SHA: orders by commit date, as Debian versions must.
version=0.1.0
if git -C "$ROOT" rev-parse HEAD >/dev/null 2>&1; then
  version+="~git$(git -C "$ROOT" log -1 --format=%cd --date=format:%Y%m%d%H%M%S)"
  version+=".$(git -C "$ROOT" rev-parse --short HEAD)"
fi

pkg="$BUILD/package"
rm -rf "$pkg"
cmake -S "$ROOT/deploy/debian" -B "$pkg" -DCARNET_BINARY="$BUILD/carnet-gateway" \
  -DCARNET_VERSION="$version" -DCARNET_ESPACE_DIR="$BUILD/espace" >/dev/null
(cd "$pkg" && cpack -G DEB >cpack.log 2>&1) || { cat "$pkg/cpack.log" >&2; exit 1; }
deb=$(ls "$pkg"/carnet_*.deb)
rm -f "$BUILD"/carnet_*.deb
mv "$deb" "$BUILD/"
echo "$BUILD/$(basename "$deb")"
