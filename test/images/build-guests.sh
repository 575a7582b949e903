#!/usr/bin/env bash
# Builds the WebHVM test guest images into test/images/out/ from Debian packages:
#   linux.iso        El Torito (ISOLINUX) CD: Debian i386 kernel -686 + busybox initramfs
#   linux-pae.iso    the same with the -686-pae kernel
#   linux-hd.img     MBR disk (syslinux mbr.bin), one active FAT16 partition with SYSLINUX,
#                    the -686 kernel and its initramfs
#   floppy.img       1.44 MB floppy whose boot sector prints WEBHVM-FLOPPY-OK (floppy.asm)
#   vmlinuz-<flavour>, initrd-<flavour>.gz   the kernels and initramfs images themselves
#   initrd-686-ne2k.gz   initrd-686.gz plus the NE2000 PCI driver (ne2k-pci, 8390), in no image:
#                    the network bench boots it in v86, whose card is an NE2000 (bench/network-v86.ts)
#   manifest.json    what was built: kernel releases, package versions, command line, markers
# The Linux guests print WEBHVM-GUEST-READY, `uname -r` and the CPU count on ttyS0, then run a
# shell there. Nothing is installed into the system and nothing is loop-mounted; the i386
# packages are fetched with `apt-get download` into out/debs/ and unpacked with dpkg-deb -x.
# The host tools come from test/images/packages.sh.
#
# Usage: test/images/build-guests.sh [--force]
# Environment: WEBHVM_IMAGES_OUT (output folder, default test/images/out),
#   SOURCE_DATE_EPOCH (timestamps inside the images, default 2024-01-01),
#   KERNEL_ABI (e.g. 6.1.0-50; default: what linux-image-686:i386 depends on).
# The build is skipped when out/stamp matches the package versions and the hash of the inputs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${WEBHVM_IMAGES_OUT:-$HERE/out}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
export TZ=UTC LC_ALL=C

FLAVOURS=(686 686-pae)
HD_FLAVOUR=686
CMDLINE="console=ttyS0,115200 console=tty0 cryptomgr.notests"
# Drivers the guests need that Debian builds as modules; their dependencies are added.
MODULES=(ata_piix ata_generic sr_mod sd_mod 8139too 8139cp isofs vfat nls_cp437 nls_ascii nls_utf8
  crct10dif_generic crc64_rocksoft_generic uhci_hcd usbhid hid_generic evdev)
# The network bench's v86 peer: its NIC is an NE2000 on PCI.
PEER_FLAVOUR=686
PEER_MODULES=(ne2k_pci)
HD_MB=32            # whole disk
HD_PART_START=2048  # first sector of the FAT partition (1 MiB alignment)
HD_HEADS=16
HD_SPT=63

FORCE=0
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "build-guests: unknown argument $arg" >&2; exit 2 ;;
  esac
done

log() { echo "build-guests: $*" >&2; }
die() { log "error: $*"; exit 1; }

ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
SYSLINUX_BIOS=/usr/lib/syslinux/modules/bios
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
for tool in apt-get apt-cache dpkg-deb dpkg-query xorriso mformat mcopy mmd minfo syslinux nasm node gzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is missing: run test/images/packages.sh as root"
done
for f in "$ISOLINUX_BIN" "$SYSLINUX_BIOS/ldlinux.c32" "$MBR_BIN"; do
  [ -f "$f" ] || die "$f is missing: run test/images/packages.sh as root"
done
dpkg --print-foreign-architectures | grep -qx i386 ||
  die "the i386 architecture is not enabled: run test/images/packages.sh as root"

# ---------------------------------------------------------------------------------------------
# Which packages: the kernel ABI the linux-image-686 metapackage points at, unless given.
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)' | head -1; }
if [ -z "${KERNEL_ABI:-}" ]; then
  KERNEL_ABI=$(apt-cache depends linux-image-686:i386 2>/dev/null |
    sed -n 's/^ *Depends: linux-image-\([0-9][^ :]*\)-686\(:i386\)\{0,1\}$/\1/p' | head -1)
fi
if [ -z "${KERNEL_ABI:-}" ]; then
  # No package index (offline): use a kernel already downloaded.
  KERNEL_ABI=$(ls "$OUT"/debs/linux-image-*-686/*.deb 2>/dev/null | sed -n 's|.*/linux-image-\([0-9][^/]*\)-686/.*|\1|p' | sort -V | tail -1)
fi
[ -n "${KERNEL_ABI:-}" ] || die "cannot find linux-image-686:i386 (run test/images/packages.sh, which runs apt-get update)"

PACKAGES=(busybox-static)
for fl in "${FLAVOURS[@]}"; do PACKAGES+=("linux-image-$KERNEL_ABI-$fl"); done

# fetch <package>: print the path of its i386 .deb under out/debs/<package>/, downloading the
# candidate version when the cached one differs.
fetch() {
  local pkg=$1 dir=$OUT/debs/$1 want have deb
  want=$(candidate "$pkg:i386")
  mkdir -p "$dir"
  deb=$(ls "$dir"/*.deb 2>/dev/null | head -1 || true)
  have=
  [ -n "$deb" ] && have=$(dpkg-deb -f "$deb" Version)
  if [ -n "$want" ] && [ "$want" != "$have" ]; then
    log "downloading $pkg:i386 $want"
    rm -f "$dir"/*.deb
    # apt's _apt download user must be able to write there.
    chmod 0777 "$dir"
    (cd "$dir" && apt-get download -q "$pkg:i386=$want" >&2) || die "apt-get download $pkg:i386=$want failed"
    deb=$(ls "$dir"/*.deb | head -1)
  fi
  [ -n "$deb" ] || die "no candidate for $pkg:i386 and nothing cached in $dir"
  echo "$deb"
}

declare -A DEB
mkdir -p "$OUT"
for p in "${PACKAGES[@]}"; do DEB[$p]=$(fetch "$p"); done

# ---------------------------------------------------------------------------------------------
# Cache: the versions of everything that ends up in an image, and the hash of our inputs.
tool_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo unknown; }
stamp() {
  echo "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
  for p in "${PACKAGES[@]}"; do echo "$p:i386 $(dpkg-deb -f "${DEB[$p]}" Version)"; done
  for t in isolinux syslinux syslinux-common xorriso mtools nasm; do echo "$t $(tool_version "$t")"; done
  (cd "$HERE" && sha256sum build-guests.sh mkcpio.mjs floppy.asm guest/init)
}
OUTPUTS=(linux.iso linux-pae.iso linux-hd.img floppy.img manifest.json)
for fl in "${FLAVOURS[@]}"; do OUTPUTS+=("vmlinuz-$fl" "initrd-$fl.gz"); done
OUTPUTS+=("initrd-$PEER_FLAVOUR-ne2k.gz")
NEW_STAMP=$(stamp)
if [ "$FORCE" = 0 ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$NEW_STAMP" ]; then
  missing=0
  for o in "${OUTPUTS[@]}"; do [ -f "$OUT/$o" ] || missing=1; done
  if [ "$missing" = 0 ]; then log "up to date ($OUT)"; exit 0; fi
fi
rm -f "$OUT/stamp"

WORK=$OUT/work
rm -rf "$WORK" "$OUT"/*.tmp
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

epoch_touch() { find "$@" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

# ---------------------------------------------------------------------------------------------
# busybox
dpkg-deb -x "${DEB[busybox-static]}" "$WORK/busybox"
BUSYBOX=$WORK/busybox/bin/busybox
[ -x "$BUSYBOX" ] || die "busybox-static:i386 has no /bin/busybox"

# ---------------------------------------------------------------------------------------------
# Kernel and initramfs per flavour.
declare -A KREL
build_flavour() {
  local fl=$1 root=$WORK/k-$fl kver moddir
  log "kernel $KERNEL_ABI-$fl: unpacking"
  dpkg-deb -x "${DEB[linux-image-$KERNEL_ABI-$fl]}" "$root"
  kver=$KERNEL_ABI-$fl
  moddir=$root/lib/modules/$kver
  [ -f "$root/boot/vmlinuz-$kver" ] || die "no /boot/vmlinuz-$kver in the package"
  [ -f "$moddir/modules.order" ] || die "no modules.order for $kver"
  KREL[$fl]=$kver
  cp "$root/boot/vmlinuz-$kver" "$OUT/vmlinuz-$fl.tmp"

  # Module name -> path, from modules.order (names use '_' where files may use '-').
  declare -A path=()
  local rel name
  while read -r rel; do
    name=${rel##*/}; name=${name%.ko}; name=${name//-/_}
    path[$name]=$rel
  done <"$moddir/modules.order"

  # Which of the wanted drivers are modules at all (=m) in this kernel's config.
  local config=$root/boot/config-$kver
  # Depth-first walk over the "depends=" field of each module's .modinfo section gives an
  # insmod order where dependencies come first.
  local order=() seen=" "
  visit() {
    local m=${1//-/_} deps d
    case $seen in *" $m "*) return ;; esac
    seen="$seen$m "
    [ -n "${path[$m]:-}" ] || { log "  $m: not a module in $kver (built in or absent)"; return; }
    deps=$(tr '\0' '\n' <"$moddir/${path[$m]}" | sed -n 's/^depends=//p' | head -1)
    for d in ${deps//,/ }; do visit "$d"; done
    order+=("$m")
  }
  for m in "${MODULES[@]}"; do visit "$m"; done
  # The peer's extra drivers (and dependencies not already there) come after the others.
  local peer_order=()
  if [ "$fl" = "$PEER_FLAVOUR" ]; then
    local base=${#order[@]}
    for m in "${PEER_MODULES[@]}"; do visit "$m"; done
    peer_order=("${order[@]:base}")
    order=("${order[@]:0:base}")
    [ ${#peer_order[@]} -gt 0 ] || die "none of ${PEER_MODULES[*]} is a module in $kver"
  fi

  # An initramfs: busybox, /init, the modules and their load order.
  make_initramfs() { # <output .gz> <module>...
    local gzout=$1 stage list m
    shift
    stage=$(mktemp -d "$WORK/initramfs-$fl.XXXX")
    list=$stage.list
    : >"$stage/load-order"
    {
      for d in /bin /sbin /usr /usr/bin /usr/sbin /dev /proc /sys /tmp /mnt /root /etc /lib /lib/modules; do
        echo "dir $d 0755"
      done
      echo "nod /dev/console 0600 c 5 1"
      echo "nod /dev/ttyS0 0600 c 4 64"
      echo "file /init $HERE/guest/init 0755"
      echo "file /bin/busybox $BUSYBOX 0755"
      echo "slink /bin/sh busybox 0777"
      for m in "$@"; do
        echo "file /lib/modules/$m.ko $moddir/${path[$m]} 0644"
        echo "$m.ko" >>"$stage/load-order"
      done
      echo "file /lib/modules/load-order $stage/load-order 0644"
    } >"$list"
    node "$HERE/mkcpio.mjs" "$list" "$stage.cpio"
    gzip -n -9 <"$stage.cpio" >"$gzout"
    log "  $(basename "${gzout%.tmp}"): $# modules ($*), $(stat -c %s "$gzout") bytes"
  }
  make_initramfs "$OUT/initrd-$fl.gz.tmp" "${order[@]}"
  if [ ${#peer_order[@]} -gt 0 ]; then make_initramfs "$OUT/initrd-$fl-ne2k.gz.tmp" "${order[@]}" "${peer_order[@]}"; fi
  grep -q '^CONFIG_SERIAL_8250_CONSOLE=y' "$config" || die "$kver has no built-in 8250 serial console"
  grep -q '^CONFIG_BLK_DEV_INITRD=y' "$config" || die "$kver has no initramfs support"
  rm -rf "$root"
}
for fl in "${FLAVOURS[@]}"; do build_flavour "$fl"; done

# ---------------------------------------------------------------------------------------------
# Boot loader configuration, shared by ISOLINUX and SYSLINUX.
loader_cfg() { # <kernel path> <initrd path>
  cat <<EOF
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  LINUX $1
  INITRD $2
  APPEND $CMDLINE
EOF
}

# ISO images: ISOLINUX in no-emulation El Torito mode with a boot info table.
build_iso() { # <flavour> <output>
  local fl=$1 iso=$WORK/iso-$1
  mkdir -p "$iso/isolinux" "$iso/boot"
  cp "$ISOLINUX_BIN" "$SYSLINUX_BIOS/ldlinux.c32" "$iso/isolinux/"
  loader_cfg /boot/vmlinuz /boot/initrd.gz >"$iso/isolinux/isolinux.cfg"
  cp "$OUT/vmlinuz-$fl.tmp" "$iso/boot/vmlinuz"
  cp "$OUT/initrd-$fl.gz.tmp" "$iso/boot/initrd.gz"
  epoch_touch "$iso"
  xorriso -as mkisofs -quiet -o "$OUT/$2.tmp" \
    -V WEBHVM_LINUX -R -J \
    -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table \
    "$iso" 2>&1 | grep -v -e "^xorriso : UPDATE" -e "^xorriso : NOTE : Environment variable SOURCE_DATE_EPOCH" -e "^xorriso [0-9.]* : RockRidge" -e "^$" >&2 || true
  [ -s "$OUT/$2.tmp" ] || die "xorriso failed for $2"
}
log "linux.iso, linux-pae.iso"
build_iso 686 linux.iso
build_iso 686-pae linux-pae.iso

# ---------------------------------------------------------------------------------------------
# Hard-disk image, without loop mounts: format and fill the partition as a file with mtools,
# install SYSLINUX into it with the mtools-based installer, then place it behind an MBR.
log "linux-hd.img"
total=$((HD_MB * 2048))
psize=$((total - HD_PART_START))
part=$WORK/part.img
hdcfg=$WORK/syslinux.cfg
truncate -s $((psize * 512)) "$part"
# FAT16, 2 KiB clusters; hidden sectors = partition start; fixed serial number.
mformat -i "$part" -T "$psize" -h "$HD_HEADS" -s "$HD_SPT" -H "$HD_PART_START" -c 4 \
  -N 57484d32 -v WEBHVM ::
cp "$OUT/vmlinuz-$HD_FLAVOUR.tmp" "$WORK/vmlinuz"
cp "$OUT/initrd-$HD_FLAVOUR.gz.tmp" "$WORK/initrd.gz"
loader_cfg /vmlinuz /initrd.gz >"$hdcfg"
epoch_touch "$WORK/vmlinuz" "$WORK/initrd.gz" "$hdcfg"
mmd -i "$part" ::/syslinux
mcopy -m -i "$part" "$hdcfg" ::/syslinux/syslinux.cfg
mcopy -m -i "$part" "$WORK/vmlinuz" "$WORK/initrd.gz" ::/
syslinux --install --directory /syslinux "$part"
minfo -i "$part" :: | grep -q 'disk type="FAT16' || die "the partition is not FAT16"

# MBR: syslinux's boot code, a fixed disk signature, one active FAT16 (LBA) partition.
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
chs() { # <lba> -> head, sector|cylinder high bits, cylinder low bits
  local lba=$1 c h s
  c=$((lba / (HD_HEADS * HD_SPT))); h=$((lba / HD_SPT % HD_HEADS)); s=$((lba % HD_SPT + 1))
  if [ $c -gt 1023 ]; then printf '\\xfe\\xff\\xff'; return; fi
  printf '\\x%02x\\x%02x\\x%02x' $h $((s | (c >> 2 & 0xc0))) $((c & 255))
}
disk=$OUT/linux-hd.img.tmp
rm -f "$disk"
truncate -s $((total * 512)) "$disk"
dd if="$MBR_BIN" of="$disk" bs=440 count=1 conv=notrunc status=none
entry="$(le32 0x57484d31)\\x00\\x00\\x80$(chs $HD_PART_START)\\x0e$(chs $((total - 1)))$(le32 $HD_PART_START)$(le32 $psize)"
printf "$entry" | dd of="$disk" bs=1 seek=440 conv=notrunc status=none
printf '\x55\xaa' | dd of="$disk" bs=1 seek=510 conv=notrunc status=none
dd if="$part" of="$disk" bs=512 seek="$HD_PART_START" conv=notrunc status=none

# ---------------------------------------------------------------------------------------------
log "floppy.img"
nasm -f bin -o "$OUT/floppy.img.tmp" "$HERE/floppy.asm"

# ---------------------------------------------------------------------------------------------
json_str() { printf '"%s"' "$1"; }
{
  echo '{'
  echo "  \"cmdline\": $(json_str "$CMDLINE"),"
  echo '  "markers": { "linux": "WEBHVM-GUEST-READY", "floppy": "WEBHVM-FLOPPY-OK" },'
  echo "  \"kernelAbi\": $(json_str "$KERNEL_ABI"),"
  echo '  "kernels": {'
  sep=
  for fl in "${FLAVOURS[@]}"; do
    printf '%s    "%s": { "release": "%s", "kernel": "vmlinuz-%s", "initrd": "initrd-%s.gz" }' "$sep" "$fl" "${KREL[$fl]}" "$fl" "$fl"
    sep=$',\n'
  done
  echo
  echo '  },'
  echo '  "images": {'
  echo '    "linux.iso": { "kind": "cdrom", "flavour": "686" },'
  echo '    "linux-pae.iso": { "kind": "cdrom", "flavour": "686-pae" },'
  echo "    \"linux-hd.img\": { \"kind\": \"disk\", \"flavour\": \"$HD_FLAVOUR\", \"partitionStart\": $HD_PART_START, \"partitionSectors\": $psize },"
  echo '    "floppy.img": { "kind": "floppy" }'
  echo '  },'
  echo '  "packages": {'
  sep=
  for p in "${PACKAGES[@]}"; do
    printf '%s    "%s:i386": "%s"' "$sep" "$p" "$(dpkg-deb -f "${DEB[$p]}" Version)"
    sep=$',\n'
  done
  echo
  echo '  }'
  echo '}'
} >"$OUT/manifest.json.tmp"

for o in "${OUTPUTS[@]}"; do mv -f "$OUT/$o.tmp" "$OUT/$o"; done
echo "$NEW_STAMP" >"$OUT/stamp"
log "done: $(cd "$OUT" && ls -l "${OUTPUTS[@]}" | awk '{printf "%s %s; ", $9, $5}')"
