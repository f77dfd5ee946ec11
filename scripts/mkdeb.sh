#!/bin/sh
# mkdeb.sh VERSION - build build/warren_VERSION_ARCH.deb from a staged tree
# (`make deb`; doc/install.md).
#
# The tree is `make install DESTDIR=build/deb/root PREFIX=/usr`, with the
# binaries stripped, the man pages and changelog gzipped, and DEBIAN/ from
# packaging/debian (control's Depends from dpkg-shlibdeps).  dpkg-deb
# builds it with every file owned by root, so no fakeroot is needed.
set -e

VERSION=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
STAGE=build/deb
TREE=$STAGE/root
ARCH=$(dpkg --print-architecture)
OUT=build/warren_${VERSION}_${ARCH}.deb

rm -rf "$STAGE"
mkdir -p "$TREE"
make --no-print-directory install DESTDIR="$ROOT/$TREE" PREFIX=/usr >/dev/null

for f in "$TREE"/usr/sbin/* "$TREE"/usr/bin/*; do
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
done
gzip -9n "$TREE"/usr/share/man/man1/* "$TREE"/usr/share/man/man8/*
install -d "$TREE/usr/share/doc/warren"
install -m 0644 packaging/debian/copyright "$TREE/usr/share/doc/warren/copyright"
gzip -9nc packaging/debian/changelog > "$TREE/usr/share/doc/warren/changelog.gz"
chmod 0644 "$TREE/usr/share/doc/warren/changelog.gz"

# the libraries the binaries link, as dpkg-shlibdeps names their packages
# (it reads debian/control, so it runs from a directory that has one)
mkdir -p "$STAGE/debian"
printf 'Source: warren\n\nPackage: warren\nArchitecture: any\n' > "$STAGE/debian/control"
shlibs=$(cd "$STAGE" && dpkg-shlibdeps -O root/usr/sbin/* root/usr/bin/* 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "mkdeb: dpkg-shlibdeps found no libraries" >&2; exit 1; }

install -d -m 0755 "$TREE/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$TREE" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@SIZE@|$size|" -e "s|@SHLIBS@|$shlibs|" \
    packaging/debian/control.in > "$TREE/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$TREE/DEBIAN/conffiles"
for s in postinst prerm postrm; do
    install -m 0755 packaging/debian/$s "$TREE/DEBIAN/$s"
done
(cd "$TREE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
    > "$TREE/DEBIAN/md5sums"
chmod 0644 "$TREE/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$TREE" "$OUT" >/dev/null
echo "$OUT"
