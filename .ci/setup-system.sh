#!/usr/bin/env bash
# System packages the build and tests use (Debian): nasm for guest code, gcc-multilib for the
# native side of the differential CPU test, acpica-tools (iasl) to validate the ACPI tables.
# Skips apt when everything is present.
set -euo pipefail
need=()
command -v nasm >/dev/null || need+=(nasm)
command -v iasl >/dev/null || need+=(acpica-tools)
command -v chromium >/dev/null || need+=(chromium)
[ -e /usr/lib/ipxe/qemu/pxe-rtl8139.rom ] || [ -e /usr/lib/ipxe/pxe-rtl8139.rom ] || need+=(ipxe-qemu)
[ -e /usr/lib/gcc/x86_64-linux-gnu/12/32/libgcc.a ] || ls /usr/lib/gcc/*/*/32/libgcc.a >/dev/null 2>&1 || need+=(gcc-multilib)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
