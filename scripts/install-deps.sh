#!/usr/bin/env bash
# Installs the Debian packages the tests use as real peers, only when missing.
set -euo pipefail
need=()
for pair in "sshd:openssh-server" "ssh:openssh-client" "python3:python3" "lua5.4:lua5.4" "bc:bc" "xz:xz-utils" "bzip2:bzip2" "lz4:lz4" "unzip:unzip" "qemu-system-x86_64:qemu-system-x86" "qemu-img:qemu-utils" "xorriso:xorriso" "mdir:mtools" "cpio:cpio" "mmdebstrap:mmdebstrap" "mkfs.ext4:e2fsprogs" "extlinux:extlinux" "openssl:openssl" "docker-registry:docker-registry" "skopeo:skopeo" "umoci:umoci" "runc:runc" "crun:crun" "buildah:buildah" "dockerd:docker.io" "curl:curl" "swtpm:swtpm" "dnsmasq:dnsmasq-base"; do
  bin=${pair%%:*}; pkg=${pair#*:}
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then need+=("$pkg"); fi
done
# the container-image tests build their base image from the static busybox
dpkg -s busybox-static >/dev/null 2>&1 || need+=("busybox-static")
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
# qemu test guests (scripts/guests.sh) and the qemu runner image (images/qemu.sh: firmware
# and data qemu opens): files, not commands, so checked by path.
need=()
for pair in "/bin/busybox:busybox-static" "/usr/lib/ISOLINUX/isolinux.bin:isolinux" "/usr/lib/syslinux/modules/bios/ldlinux.c32:syslinux-common" "/usr/share/seabios/bios-256k.bin:seabios" "/usr/lib/ipxe/qemu/efi-virtio.rom:ipxe-qemu" "/usr/share/qemu/keymaps/en-us:qemu-system-data" "/usr/share/OVMF/OVMF_CODE.fd:ovmf" "/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi:syslinux-efi" "/usr/lib/syslinux/modules/efi64/ldlinux.e64:syslinux-common"; do
  f=${pair%%:*}; pkg=${pair#*:}
  [ -e "$f" ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
