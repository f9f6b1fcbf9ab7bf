#!/usr/bin/env bash
# make deb: build/deb/cutoverd_VERSION_ARCH.deb, from a tree staged by `make install` and
# packed with dpkg-deb (no debhelper: what it would generate is written out here and in this
# directory, see README).  The binaries are built apart, in build/deb/obj, with Debian's
# hardening flags (dpkg-buildflags), so the everyday build/ is left alone.  Prints the path of
# the package on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=packaging/deb

for prog in dpkg-deb dpkg-shlibdeps dpkg-buildflags fakeroot gzip strip; do
	command -v "$prog" >/dev/null || { echo "deb: $prog not found; run tests/deps.sh" >&2; exit 1; }
done

version=$(sed -n 's/^VERSION *:= *//p' Makefile)
arch=$(dpkg --print-architecture)
out=build/deb
obj=$out/obj
root=$out/root
deb=$out/cutoverd_${version}_${arch}.deb
mkdir -p "$out"
# one build at a time in this tree (make check -j, two people)
exec 9>"$out/.lock"
flock 9

# ---- the files, where a Debian 12 package puts them ---------------------------------------
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
# make does not see a change of flags: objects built with others are built again
if [[ "$(cat "$obj/.flags" 2>/dev/null)" != "$cflags $ldflags" ]]; then
	rm -rf "$obj"
	mkdir -p "$obj"
	echo "$cflags $ldflags" >"$obj/.flags"
fi
make -s B="$obj" CFLAGS="$cflags" LDFLAGS="$ldflags" "$obj/cutoverd" "$obj/cutoverctl"
rm -rf "$root"
make -s B="$obj" DESTDIR="$root" PREFIX=/usr UNITDIR=/lib/systemd/system install
doc=$root/usr/share/doc/cutoverd
install -d "$doc/examples/hooks" "$root/lib/systemd/system/cutoverd.socket.d"
# the example describes servers that are not there: an example, not the configuration
mv "$root/etc/cutoverd/cutoverd.conf.example" "$doc/examples/"
chmod 0644 "$doc/examples/cutoverd.conf.example"
install -m 0644 conf/hooks/*.example "$doc/examples/hooks/"
install -m 0644 conf/prometheus-alerts.yml conf/grafana-cutoverd.json "$doc/examples/"
install -m 0644 "$here/conffile.conf" "$root/etc/cutoverd/cutoverd.conf"
install -m 0644 "$here/socket-group.conf" "$root/lib/systemd/system/cutoverd.socket.d/cutoverd-group.conf"
install -m 0644 README.md "$doc/README.md"
install -m 0644 "$here/copyright" "$doc/copyright"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")/" \
	"$here/changelog" | gzip -9n >"$doc/changelog.gz"
gzip -9n "$doc/README.md"
find "$root/usr/share/man" -type f -exec gzip -9n {} +
strip --remove-section=.comment --remove-section=.note --strip-unneeded \
	"$root/usr/sbin/cutoverd" "$root/usr/bin/cutoverctl"
install -d "$root/usr/share/lintian/overrides"
install -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/cutoverd"

# ---- the control area ---------------------------------------------------------------------
install -d -m 0755 "$root/DEBIAN"
for s in postinst prerm postrm; do
	install -m 0755 "$here/$s" "$root/DEBIAN/$s"
done
echo /etc/cutoverd/cutoverd.conf >"$root/DEBIAN/conffiles"
# dpkg-shlibdeps wants a debian/control to read; it is given a throw-away one
shl=$(mkdir -p "$out/shlibs/debian" && printf 'Source: cutoverd\n\nPackage: cutoverd\nArchitecture: any\n' \
	>"$out/shlibs/debian/control" && cd "$out/shlibs" &&
	dpkg-shlibdeps -O "../root/usr/sbin/cutoverd" "../root/usr/bin/cutoverctl" 2>/dev/null)
shl=${shl#shlibs:Depends=}
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@SHLIBS@/$shl/" \
	"$here/control.in" >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
	xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

fakeroot dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
