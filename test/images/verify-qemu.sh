#!/usr/bin/env bash
# Boots the images in test/images/out/ under QEMU (qemu-system-i386 from Debian's
# qemu-system-x86, a reference only: WebHVM never uses it) and checks that each reaches its
# marker. For the Linux guests it also types commands on the serial shell and checks the
# replies, and that the PIIX IDE/ATAPI and RTL8139 drivers found their devices.
# Usage: test/images/verify-qemu.sh [linux.iso|linux-pae.iso|linux-hd.img|floppy.img ...]
# Environment: QEMU_TIMEOUT (seconds per guest, default 180), QEMU_ACCEL (default tcg),
#   VERIFY_LOGS (a folder to keep each guest's serial output in).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${WEBHVM_IMAGES_OUT:-$HERE/out}
TIMEOUT=${QEMU_TIMEOUT:-180}
ACCEL=${QEMU_ACCEL:-tcg}
command -v qemu-system-i386 >/dev/null || { echo "qemu-system-i386 is missing (packages.sh --with-qemu)" >&2; exit 1; }

LOGS=$(mktemp -d)
QEMU_PID=
cleanup() {
  [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null || true
  rm -rf "$LOGS"
}
trap cleanup EXIT
fail() { echo "FAIL $*" >&2; [ -f "$LOGS/serial.txt" ] && tail -n 40 "$LOGS/serial.txt" >&2; exit 1; }

# wait_for <file> <text> <seconds>
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -aq -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$QEMU_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# linux <image> <qemu media arguments...>: boot, wait for the marker, drive the shell.
linux() {
  local name=$1; shift
  local serial=$LOGS/serial.txt fifo=$LOGS/in
  rm -f "$serial" "$fifo"
  mkfifo "$fifo"
  qemu-system-i386 -accel "$ACCEL" -m 256 -smp 2 -display none -monitor none \
    -serial stdio -nic user,model=rtl8139 "$@" <"$fifo" >"$serial" 2>"$LOGS/qemu.err" &
  QEMU_PID=$!
  exec 3>"$fifo"
  local t0=$SECONDS
  wait_for "$serial" WEBHVM-GUEST-READY "$TIMEOUT" || fail "$name: no WEBHVM-GUEST-READY within ${TIMEOUT}s"
  local boot=$((SECONDS - t0))
  wait_for "$serial" '^cpus: ' 10 || fail "$name: no cpu count"
  sleep 2
  echo 'echo "answer-$((6*7))"; ls /sys/block; ls /sys/class/net' >&3
  wait_for "$serial" 'answer-42' 30 || fail "$name: the serial shell did not answer"
  sleep 2
  echo 'echo "net-driver: $(basename $(readlink /sys/class/net/eth0/device/driver))"' >&3
  wait_for "$serial" '^net-driver: ' 30 || fail "$name: the serial shell stopped answering"
  # The ISO 9660 and FAT drivers: mount the CD (and the boot partition of the disk image).
  echo 'mount -t iso9660 -o ro /dev/sr0 /mnt && ls /mnt/isolinux/isolinux.cfg && umount /mnt && echo "cd-mount-ok"' >&3
  wait_for "$serial" '^cd-mount-ok' 30 || fail "$name: mounting the CD-ROM failed"
  if [ "$name" = linux-hd.img ]; then
    echo 'mount -t vfat -o ro /dev/sda1 /mnt && ls /mnt/syslinux/syslinux.cfg && umount /mnt && echo "hd-mount-ok"' >&3
    wait_for "$serial" '^hd-mount-ok' 30 || fail "$name: mounting the FAT partition failed"
  fi
  exec 3>&-
  kill "$QEMU_PID" 2>/dev/null || true
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=
  local ready rel cpus
  rel=$(grep -a '^uname-r: ' "$serial" | head -1 | tr -d '\r')
  cpus=$(grep -a '^cpus: ' "$serial" | head -1 | tr -d '\r')
  grep -aq 'sr0' "$serial" || fail "$name: no sr0 (ATAPI CD-ROM through ata_piix)"
  grep -aq 'sda' "$serial" || [ "$name" != linux-hd.img ] || fail "$name: no sda"
  local net
  net=$(grep -a '^net-driver: ' "$serial" | head -1 | tr -d '\r')
  case $net in
    "net-driver: 8139too"|"net-driver: 8139cp") ;;
    *) fail "$name: eth0 has no RTL8139 driver ($net)" ;;
  esac
  [ "$cpus" = "cpus: 2" ] || fail "$name: expected 2 CPUs, got '$cpus'"
  [ -z "${VERIFY_LOGS:-}" ] || { mkdir -p "$VERIFY_LOGS"; cp "$serial" "$VERIFY_LOGS/$name.serial.txt"; }
  echo "ok   $name: marker after ${boot}s, $rel, $cpus, shell answers, CD mounts, eth0 ${net#net-driver: }"
}

floppy() {
  local serial=$LOGS/serial.txt vga=$LOGS/vga.bin fifo=$LOGS/mon
  rm -f "$serial" "$vga" "$fifo"
  mkfifo "$fifo"
  qemu-system-i386 -accel "$ACCEL" -m 32 -display none -monitor stdio \
    -serial "file:$serial" -drive "file=$OUT/floppy.img,format=raw,if=floppy" -boot a <"$fifo" >"$LOGS/monitor.txt" 2>&1 &
  QEMU_PID=$!
  exec 3>"$fifo"
  wait_for "$serial" WEBHVM-FLOPPY-OK 60 || fail "floppy.img: no WEBHVM-FLOPPY-OK on COM1"
  echo "pmemsave 0xb8000 4000 \"$vga\"" >&3
  sleep 1
  echo quit >&3
  exec 3>&-
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=
  # Text mode cells are (character, attribute) pairs: keep the characters of row 0.
  local row0
  row0=$(head -c 160 "$vga" | xxd -p -c1 | sed -n '1~2p' | xxd -r -p | tr -d '\0')
  [ -z "${VERIFY_LOGS:-}" ] || { mkdir -p "$VERIFY_LOGS"; cp "$serial" "$VERIFY_LOGS/floppy.img.serial.txt"; }
  case $row0 in
    WEBHVM-FLOPPY-OK*) echo "ok   floppy.img: WEBHVM-FLOPPY-OK on COM1 and on row 0 of the VGA text screen" ;;
    *) fail "floppy.img: VGA row 0 is '$row0'" ;;
  esac
}

run() {
  [ -f "$OUT/$1" ] || fail "$OUT/$1 is missing: run test/images/build-guests.sh"
  case $1 in
    linux.iso|linux-pae.iso) linux "$1" -cdrom "$OUT/$1" -boot d ;;
    linux-hd.img) linux "$1" -drive "file=$OUT/$1,format=raw,if=ide,snapshot=on" -cdrom "$OUT/linux.iso" -boot c ;;
    floppy.img) floppy ;;
    *) fail "unknown image $1" ;;
  esac
}

if [ $# -eq 0 ]; then set -- floppy.img linux.iso linux-pae.iso linux-hd.img; fi
for image in "$@"; do run "$image"; done
