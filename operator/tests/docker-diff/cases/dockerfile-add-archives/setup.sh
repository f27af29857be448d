# The archives ADD extracts (Docker looks at their bytes, not their names): xz, bzip2 and
# gzip tars, a plain tar named .dat, a gzip file that is no tar (copied as it is) and an
# empty tar (no header: copied too). Entries with their own owner, mode and time (before
# 2000: Kiln clamps later times to SOURCE_DATE_EPOCH, which is 2000-01-01 by default).
set -eu
umask 022
mkdir -p src/a/deep src/b
printf 'from xz\n' >src/a/x.txt
printf 'deep\n' >src/a/deep/d.txt
chmod 640 src/a/x.txt
chmod 750 src/a/deep
printf 'from bzip2\n' >src/b/y.txt
ln -s y.txt src/b/y-link
touch -h -d @900000000 src/a/x.txt src/a/deep/d.txt src/a/deep src/a src/b/y.txt src/b/y-link src/b
t() { tar --owner=1000 --group=2000 --numeric-owner --format=gnu -C src -cf - "$@"; }
t a | xz -c >a.tar.xz
t b | bzip2 -c >b.tar.bz2
t a b | gzip -n -c >c.tgz
t b >hidden.dat
printf 'not a tar\n' | gzip -n -c >notar.tar.gz
head -c 1024 /dev/zero >empty.tar
touch -d @800000000 a.tar.xz b.tar.bz2 c.tgz hidden.dat notar.tar.gz empty.tar
rm -rf src
