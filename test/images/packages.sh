#!/usr/bin/env bash
# Installs what test/images/build-guests.sh needs on Debian 12 (bookworm), as root with
# apt-get, and enables the i386 architecture so the build can `apt-get download` the i386
# kernel and busybox packages (it never installs them). Skips apt when everything is present.
#   --with-qemu   also install qemu-system-x86, the reference emulator verify-qemu.sh uses
set -euo pipefail

with_qemu=0
for arg in "$@"; do
  case $arg in
    --with-qemu) with_qemu=1 ;;
    *) echo "packages.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

need=()
have_file() { [ -e "$1" ]; }
command -v xorriso >/dev/null || need+=(xorriso)
have_file /usr/lib/ISOLINUX/isolinux.bin || need+=(isolinux)
have_file /usr/lib/syslinux/modules/bios/ldlinux.c32 || need+=(syslinux-common)
have_file /usr/lib/syslinux/mbr/mbr.bin || need+=(syslinux-common)
command -v syslinux >/dev/null || need+=(syslinux)
command -v mformat >/dev/null || need+=(mtools)
command -v nasm >/dev/null || need+=(nasm)
command -v gzip >/dev/null || need+=(gzip)
command -v node >/dev/null || need+=(nodejs)
if [ "$with_qemu" = 1 ]; then
  command -v qemu-system-i386 >/dev/null || need+=(qemu-system-x86)
fi

update=0
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  $SUDO dpkg --add-architecture i386
  update=1
fi
# The build resolves linux-image-686:i386 from the package index.
apt-cache show linux-image-686:i386 >/dev/null 2>&1 || update=1
[ ${#need[@]} -gt 0 ] && update=1

if [ "$update" = 1 ]; then
  # A mirror that is mid-sync can fail one index (exit 100) while the rest is fine: go on and
  # let the install and the checks below decide.
  for attempt in 1 2 3; do
    if $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq; then break; fi
    echo "packages.sh: apt-get update reported errors (attempt $attempt)" >&2
    sleep 3
  done
fi
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}"
fi
apt-cache show linux-image-686:i386 >/dev/null 2>&1 || {
  echo "packages.sh: linux-image-686:i386 is not in the package index" >&2
  exit 1
}
