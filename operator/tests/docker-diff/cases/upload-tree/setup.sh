set -eu
umask 022
mkdir -p tree/sub/deeper
printf 'a\n' >tree/a.txt
printf 'exec\n' >tree/sub/run.sh
printf 'd\n' >tree/sub/deeper/d.txt
chmod 755 tree/sub/run.sh
chmod 640 tree/a.txt
chmod 700 tree/sub/deeper
ln -s a.txt tree/link
touch -h -d @900000000 tree/a.txt tree/sub/run.sh tree/sub/deeper/d.txt tree/sub/deeper tree/sub tree/link tree
printf 'single\n' >one.txt
chmod 600 one.txt
touch -d @900000000 one.txt
