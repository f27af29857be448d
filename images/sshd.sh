#!/usr/bin/env bash
# Build the e2e test peer image kiln.local/sshd:e2e without Docker: Debian's OpenSSH server
# (sshd, scp, sftp-server and their shared libraries) with busybox-static as the shell, as a
# reproducible OCI archive (packed by e2e/cluster/oci-image.sh). Root's password is
# `pw-7c1f-e2e-sshd` (password auth, no PAM); the host key is generated at build time.
# Only for the end-to-end tests: never run this image anywhere else.
#
# usage: images/sshd.sh   -> prints the archive path, then the image reference
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache="${KILN_CACHE:-$HOME/.cache/kiln}/image"
name=kiln.local/sshd:e2e
mkdir -p "$cache"
for pkg in openssh-server openssh-client busybox-static; do
  dpkg -s "$pkg" >/dev/null 2>&1 || apt-get install -y -qq "$pkg" >&2
done
key=$( { sha256sum "$0" /usr/sbin/sshd /usr/bin/scp /usr/lib/openssh/sftp-server /bin/busybox \
  "$repo/e2e/cluster/oci-image.sh"; } | sha256sum | cut -c1-16)
out="$cache/sshd-e2e-$key.oci.tar"
if [[ ! -s "$out" ]]; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{bin,sbin,tmp,root,run/sshd,var/empty,etc/ssh,usr/sbin,usr/bin,usr/lib/openssh}
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  cp /bin/busybox "$root/bin/busybox"
  for app in $("$root/bin/busybox" --list); do
    [[ -e "$root/bin/$app" ]] || ln -s busybox "$root/bin/$app"
  done
  cp /usr/sbin/sshd "$root/usr/sbin/sshd"
  cp /usr/bin/scp "$root/usr/bin/scp"
  cp /usr/lib/openssh/sftp-server "$root/usr/lib/openssh/sftp-server"
  # sshd re-executes itself (and sshd-session on newer OpenSSH) by absolute path.
  [[ -x /usr/lib/openssh/sshd-session ]] && cp /usr/lib/openssh/sshd-session "$root/usr/lib/openssh/"
  [[ -x /usr/lib/openssh/sshd-auth ]] && cp /usr/lib/openssh/sshd-auth "$root/usr/lib/openssh/"
  for b in "$root"/usr/sbin/sshd "$root"/usr/bin/scp "$root"/usr/lib/openssh/*; do
    ldd "$b" | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}'
  done | sort -u | while read -r lib; do
    [[ -n "$lib" ]] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  hash=$(openssl passwd -6 -salt kilne2esalt pw-7c1f-e2e-sshd)
  printf 'root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/bin/false\nnobody:x:65534:65534::/nonexistent:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  printf 'root:%s:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' "$hash" > "$root/etc/shadow"
  chmod 0600 "$root/etc/shadow"
  printf '/bin/sh\n' > "$root/etc/shells"
  ssh-keygen -q -t ed25519 -N '' -C kiln-e2e-sshd -f "$root/etc/ssh/ssh_host_ed25519_key"
  cat > "$root/etc/ssh/sshd_config" <<'CFG'
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile /run/sshd.pid
Subsystem sftp /usr/lib/openssh/sftp-server
CFG
  "$repo/e2e/cluster/oci-image.sh" "$name" "$root" "$out.tmp" /usr/sbin/sshd -D -e >/dev/null
  mv "$out.tmp" "$out"
fi
echo "$out"
echo "$name"
