#!/usr/bin/env bash
# Everything WebHVM needs on a Debian machine besides `npm ci`: system packages (nasm, the
# guest-image tools), the firmware (SeaBIOS, SeaVGABIOS from Debian's packages), the CPU core,
# the default guest and the test guests. Idempotent; fast when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
bash .ci/setup-system.sh
as_root bash test/images/packages.sh
node bios/install-firmware.mjs
npm run --silent build:wasm
npm run --silent build:guest               # the default guest (nasm)
bash test/images/build-guests.sh
