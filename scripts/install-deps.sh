#!/bin/sh
# Install the Debian packages warren needs to build and test, when missing.
# Called by `make run` and `make test`; safe to run again (it only installs
# what dpkg does not already have).  Needs root, or sudo, for apt-get.
set -e

PKGS="gcc make libc6-dev python3 python3-pika python3-pytest python3-celery \
libcmocka-dev librabbitmq-dev amqp-tools clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends $missing; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends $missing
fi
