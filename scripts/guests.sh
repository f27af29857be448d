#!/usr/bin/env bash
# Builds the qemu test guests offline from Debian packages, cached by recipe version:
#
#   scripts/guests.sh           small guest (kernel + busybox/dropbear initramfs) and boot ISO
#   scripts/guests.sh debian    also the real Debian disk (mmdebstrap, slow: minutes)
#   scripts/guests.sh --print   print the cache directory and exit
#
# Outputs, under ${KILN_CACHE:-~/.cache/kiln}/guests/$VERSION/:
#   small/vmlinuz small/initrd.img   boot with -kernel/-initrd (append "console=ttyS0"); virtio
#                                    net and block drivers (a virtio disk is /dev/vda)
#   small/id_ed25519[.pub]           root's SSH key (also: root password "kiln")
#   iso/kiln-boot.iso                isolinux "boot:" prompt, label "linux"; whatever is typed
#                                    after the label lands on the guest's /proc/cmdline
#   iso-efi/kiln-boot-efi.iso        the same guest and prompt for UEFI firmware (OVMF):
#                                    syslinux.efi as \EFI\BOOT\BOOTX64.EFI on the ISO's El
#                                    Torito EFI image (no BIOS boot)
#   debian/disk.qcow2                Debian 12 (systemd, openssh, extlinux on a partitionless
#                                    ext4 disk, root=/dev/vda), same key and password
#   debian/vmlinuz debian/initrd.img the same disk's kernel, for a direct-kernel boot
#
# Nothing here needs root except the Debian disk (loop mount for extlinux). Bump VERSION
# whenever the recipe changes: a new directory is built and old ones can be deleted.
set -euo pipefail

VERSION=2
KERNEL_META=linux-image-cloud-amd64
CACHE="${KILN_CACHE:-$HOME/.cache/kiln}/guests/$VERSION"
PASSWORD=kiln

if [ "${1:-}" = "--print" ]; then echo "$CACHE"; exit 0; fi
want_debian=0
[ "${1:-}" = "debian" ] && want_debian=1

for tool in apt-get dpkg-deb cpio gzip xorriso ssh-keygen openssl scp; do
  command -v "$tool" >/dev/null || { echo "guests.sh: $tool is missing (run scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "guests.sh: /bin/busybox is missing (apt-get install busybox-static)" >&2; exit 1; }
[ -f /usr/lib/ISOLINUX/isolinux.bin ] || { echo "guests.sh: isolinux is missing (apt-get install isolinux syslinux-common)" >&2; exit 1; }

mkdir -p "$CACHE"
log() { echo "guests.sh: $*" >&2; }

# The concrete kernel package behind the meta package, e.g. linux-image-6.1.0-57-cloud-amd64.
kernel_pkg() {
  apt-cache depends "$KERNEL_META" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}'
}

build_small() {
  local out="$CACHE/small"
  if [ -f "$out/.done" ]; then return 0; fi
  local t0=$SECONDS
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-guest.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  local kpkg; kpkg=$(kernel_pkg)
  [ -n "$kpkg" ] || { log "cannot resolve $KERNEL_META (apt-get update?)"; return 1; }
  log "downloading $kpkg dropbear-bin libtomcrypt1 libtommath1"
  (cd "$work" && apt-get download -q "$kpkg" dropbear-bin libtomcrypt1 libtommath1 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
  ls "$work"/linux-image-*.deb "$work"/dropbear-bin_*.deb >/dev/null
  mkdir -p "$work/x"
  for d in "$work"/*.deb; do dpkg-deb -x "$d" "$work/x"; done
  local kver; kver=$(ls "$work/x/lib/modules")

  local root="$work/root"
  mkdir -p "$root"/{bin,sbin,etc/dropbear,proc,sys,dev,run,tmp,root/.ssh,var/run,var/log,lib/modules,usr/lib/openssh,usr/libexec,usr/bin,usr/sbin,lib64,lib/x86_64-linux-gnu}
  cp /bin/busybox "$root/bin/busybox"
  for a in $(/bin/busybox --list); do
    [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
  done
  ln -sf /bin/busybox "$root/init"
  # virtio-net and its dependencies are modules in Debian's cloud kernel (load order matters).
  local mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk"
  for m in $mods; do
    f=$(find "$work/x/lib/modules/$kver" -name "$m.ko*" | head -1)
    [ -n "$f" ] || { log "module $m not in $kpkg"; return 1; }
    cp "$f" "$root/lib/modules/"
  done
  # dropbear plus the shared libraries it needs (from the debs, else from the host).
  cp "$work/x/usr/sbin/dropbear" "$root/usr/sbin/dropbear"
  cp /usr/lib/openssh/sftp-server "$root/usr/lib/openssh/sftp-server" 2>/dev/null || true
  ln -sf /usr/lib/openssh/sftp-server "$root/usr/libexec/sftp-server"
  # Debian's Dropbear runs /usr/lib/sftp-server for the sftp subsystem; OpenSSH's scp serves
  # `scp -t` (Packer's default file transfer).
  ln -sf /usr/lib/openssh/sftp-server "$root/usr/lib/sftp-server"
  cp /usr/bin/scp "$root/usr/bin/scp"
  local libpath="$work/x/usr/lib/x86_64-linux-gnu:$work/x/lib/x86_64-linux-gnu"
  for bin in "$root/usr/sbin/dropbear" "$root/usr/lib/openssh/sftp-server" "$root/usr/bin/scp"; do
    [ -f "$bin" ] || continue
    LD_LIBRARY_PATH="$libpath" ldd "$bin" | awk '/=> \// {print $3} /^\s*\/lib64/ {print $1}' | while read -r lib; do
      cp -L "$lib" "$root/lib/x86_64-linux-gnu/$(basename "$lib")"
    done
  done
  cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
  # Host key, root's key and password.
  LD_LIBRARY_PATH="$libpath" "$work/x/usr/bin/dropbearkey" -t ed25519 -f "$root/etc/dropbear/dropbear_ed25519_host_key" >/dev/null
  # Dropbear offers rsa-sha2-* host key algorithms even without an RSA key, and aborts
  # (rsa.c: key != NULL) when a client (Go's x/crypto, as in Packer) picks one.
  LD_LIBRARY_PATH="$libpath" "$work/x/usr/bin/dropbearkey" -t rsa -s 2048 -f "$root/etc/dropbear/dropbear_rsa_host_key" >/dev/null
  mkdir -p "$out"
  rm -f "$out/id_ed25519" "$out/id_ed25519.pub"
  ssh-keygen -q -t ed25519 -N '' -C kiln-test-guest -f "$out/id_ed25519"
  cp "$out/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
  chmod 700 "$root/root/.ssh"; chmod 600 "$root/root/.ssh/authorized_keys"
  local hash; hash=$(openssl passwd -6 "$PASSWORD")
  cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
EOF
  printf 'root:%s:19000:0:99999:7:::\n' "$hash" >"$root/etc/shadow"
  chmod 600 "$root/etc/shadow"
  echo 'root:x:0:' >"$root/etc/group"
  printf '/bin/sh\n/bin/ash\n' >"$root/etc/shells"
  echo kiln-guest >"$root/etc/hostname"
  cat >"$root/etc/inittab" <<'EOF'
::sysinit:/etc/rc
::respawn:/usr/sbin/dropbear -F -E -r /etc/dropbear/dropbear_ed25519_host_key -r /etc/dropbear/dropbear_rsa_host_key -p 22
ttyS0::askfirst:-/bin/sh
::shutdown:/bin/sync
EOF
  cat >"$root/etc/rc" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname -F /etc/hostname
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk; do
  insmod /lib/modules/$m.ko || echo "kiln-guest: insmod $m failed" >/dev/console
done
ip link set lo up
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
ip link set eth0 up
udhcpc -i eth0 -s /etc/udhcpc.script -q -n -t 20 -T 1 >/dev/null 2>&1 || echo "kiln-guest: DHCP failed" >/dev/console
echo "kiln-guest: ready $(cat /proc/cmdline)" >/dev/console
EOF
  cat >"$root/etc/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
    ;;
esac
exit 0
EOF
  chmod 755 "$root/etc/rc" "$root/etc/udhcpc.script"
  (cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1) >"$out/initrd.img.tmp"
  cp "$work/x/boot/vmlinuz-$kver" "$out/vmlinuz"
  mv "$out/initrd.img.tmp" "$out/initrd.img"
  echo "$PASSWORD" >"$out/password"
  echo "$kpkg" >"$out/kernel-package"
  touch "$out/.done"
  log "small guest built in $((SECONDS - t0)) s: $out"
}

# The (iso|sys)linux configuration of both boot ISOs. PROMPT 1 + TIMEOUT 0: wait at "boot:"
# forever, so a guest that gets no boot command never boots (what the timeout tests need).
prompt_cfg() {
  cat <<'EOF'
SERIAL 0 115200
PROMPT 1
TIMEOUT 0
DEFAULT linux
LABEL linux
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img console=ttyS0 quiet
EOF
}

build_iso() {
  local out="$CACHE/iso"
  if [ -f "$out/.done" ]; then return 0; fi
  local t0=$SECONDS
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-iso.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  mkdir -p "$work/iso/isolinux" "$out"
  cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$work/iso/isolinux/"
  cp "$CACHE/small/vmlinuz" "$work/iso/vmlinuz"
  cp "$CACHE/small/initrd.img" "$work/iso/initrd.img"
  prompt_cfg >"$work/iso/isolinux/isolinux.cfg"
  xorriso -as mkisofs -quiet -o "$out/kiln-boot.iso.tmp" -V KILN_BOOT \
    -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
    "$work/iso" 2>&1 | grep -v '^xorriso : NOTE' >&2 || true
  mv "$out/kiln-boot.iso.tmp" "$out/kiln-boot.iso"
  touch "$out/.done"
  log "boot ISO built in $((SECONDS - t0)) s: $out/kiln-boot.iso"
}

build_efi_iso() {
  local out="$CACHE/iso-efi"
  if [ -f "$out/.done" ]; then return 0; fi
  local efi=/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi ldl=/usr/lib/syslinux/modules/efi64/ldlinux.e64
  [ -f "$efi" ] && [ -f "$ldl" ] || { log "syslinux-efi is missing (apt-get install syslinux-efi)"; return 1; }
  command -v mformat >/dev/null || { log "mtools is missing (apt-get install mtools)"; return 1; }
  local t0=$SECONDS
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-iso-efi.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  mkdir -p "$work/iso" "$out"
  # The same prompt as the BIOS ISO's, so the same boot commands work.
  prompt_cfg >"$work/syslinux.cfg"
  # The EFI system partition image the firmware boots from (El Torito, platform 0xEF).
  local img="$work/iso/efiboot.img" mb
  mb=$(( ($(stat -c %s "$CACHE/small/vmlinuz") + $(stat -c %s "$CACHE/small/initrd.img")) / 1048576 + 4 ))
  truncate -s "${mb}M" "$img"
  mformat -i "$img" ::
  mmd -i "$img" ::/EFI ::/EFI/BOOT
  mcopy -i "$img" "$efi" ::/EFI/BOOT/BOOTX64.EFI
  mcopy -i "$img" "$ldl" "$work/syslinux.cfg" ::/EFI/BOOT/
  mcopy -i "$img" "$CACHE/small/vmlinuz" ::/vmlinuz
  mcopy -i "$img" "$CACHE/small/initrd.img" ::/initrd.img
  xorriso -as mkisofs -quiet -o "$out/kiln-boot-efi.iso.tmp" -V KILN_EFI \
    -e efiboot.img -no-emul-boot "$work/iso" 2>&1 | grep -v '^xorriso : NOTE' >&2 || true
  mv "$out/kiln-boot-efi.iso.tmp" "$out/kiln-boot-efi.iso"
  touch "$out/.done"
  log "EFI boot ISO built in $((SECONDS - t0)) s: $out/kiln-boot-efi.iso"
}

build_debian() {
  local out="$CACHE/debian"
  if [ -f "$out/.done" ]; then return 0; fi
  [ "$(id -u)" -eq 0 ] || { log "the Debian disk needs root (loop mount for extlinux)"; return 1; }
  for tool in mmdebstrap mkfs.ext4 extlinux qemu-img; do
    command -v "$tool" >/dev/null || { log "$tool is missing (run scripts/install-deps.sh)"; return 1; }
  done
  local t0=$SECONDS
  local work; work=$(mktemp -d "${TMPDIR:-/var/tmp}/kiln-debian.XXXXXX")
  local mnt="$work/mnt"
  trap 'mountpoint -q "'"$mnt"'" && umount "'"$mnt"'"; rm -rf "'"$work"'"' RETURN
  mkdir -p "$out" "$mnt"
  local pub; pub=$(cat "$CACHE/small/id_ed25519.pub")
  local hash; hash=$(openssl passwd -6 "$PASSWORD")
  log "mmdebstrap bookworm (minutes)"
  mmdebstrap --quiet --variant=minbase \
    --include=linux-image-cloud-amd64,systemd-sysv,udev,openssh-server,ifupdown,iproute2,sudo,python3 \
    --customize-hook='mkdir -p "$1/root/.ssh" && chmod 700 "$1/root/.ssh"' \
    --customize-hook="echo '$pub' > \"\$1/root/.ssh/authorized_keys\"" \
    --customize-hook="chroot \"\$1\" usermod -p '$hash' root" \
    --customize-hook='echo kiln-debian > "$1/etc/hostname"' \
    --customize-hook='printf "/dev/vda / ext4 defaults 0 1\n" > "$1/etc/fstab"' \
    --customize-hook='printf "[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n" > "$1/etc/systemd/network/80-dhcp.network"' \
    --customize-hook='chroot "$1" systemctl enable systemd-networkd ssh' \
    --customize-hook='sed -i "s/^#\?PermitRootLogin.*/PermitRootLogin yes/" "$1/etc/ssh/sshd_config"' \
    bookworm "$work/rootfs" http://deb.debian.org/debian
  local kver; kver=$(ls "$work/rootfs/lib/modules" | head -1)
  cp "$work/rootfs/boot/vmlinuz-$kver" "$out/vmlinuz"
  cp "$work/rootfs/boot/initrd.img-$kver" "$out/initrd.img"
  # Whole-disk ext4, no partition table (loop partition nodes do not appear in containers).
  truncate -s 2G "$work/disk.raw"
  mkfs.ext4 -q -L kiln-root -d "$work/rootfs" "$work/disk.raw"
  mount -o loop "$work/disk.raw" "$mnt"
  mkdir -p "$mnt/boot/extlinux"
  extlinux --install "$mnt/boot/extlinux" >/dev/null
  cat >"$mnt/boot/extlinux/extlinux.conf" <<EOF
DEFAULT debian
TIMEOUT 1
LABEL debian
  KERNEL /boot/vmlinuz-$kver
  APPEND initrd=/boot/initrd.img-$kver root=/dev/vda rw console=ttyS0
EOF
  umount "$mnt"
  qemu-img convert -O qcow2 "$work/disk.raw" "$out/disk.qcow2.tmp"
  mv "$out/disk.qcow2.tmp" "$out/disk.qcow2"
  touch "$out/.done"
  log "Debian disk built in $((SECONDS - t0)) s: $out/disk.qcow2"
}

build_small
build_iso
build_efi_iso
if [ "$want_debian" = 1 ]; then build_debian; fi
echo "$CACHE"
