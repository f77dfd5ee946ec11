#!/bin/sh
# Install what warren needs to build and test, when missing.
# Called by `make run` and `make test`; safe to run again (it only installs
# what is not already there).  Needs root, or sudo, for apt-get.
#
#   1. Debian packages, checked with dpkg.  node and npm are checked on PATH
#      instead: Debian's nodejs and npm are installed only when there is no
#      node or no npm, so a node installed otherwise (nodesource, nvm) is
#      used as it is.
#   2. amqplib for tests/node, with `npm ci` from tests/node/package-lock.json
#      into tests/node/node_modules; skipped when node_modules already holds
#      that lock file (a copy is kept there after each install).
set -e

ROOT=$(cd "$(dirname "$0")/.." && pwd)

PKGS="gcc make libc6-dev python3 python3-pika python3-pytest python3-celery \
libcmocka-dev librabbitmq-dev amqp-tools clang libclang-rt-14-dev \
libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libssl-dev rabbitmq-server"

# the Prometheus test (tests/http/test_prometheus.py): a real Prometheus, and
# the client library's text-format parser
PKGS="$PKGS prometheus python3-prometheus-client"

# the dashboard's tests (tests/http/test_dashboard.py): headless Chromium
PKGS="$PKGS chromium chromium-driver python3-selenium"

# `make deb` and its test (tests/install/test_package.py): dpkg-shlibdeps,
# lintian, man to find the pages, systemd-analyze to verify the unit,
# adduser for the package's postinst
PKGS="$PKGS dpkg-dev lintian man-db systemd adduser"
# the TLS tests (tests/tls/): the openssl CLI makes their certificates and
# plays the client that old or broken TLS needs (s_client)
PKGS="$PKGS openssl"
# the benchmarks' plots (tools/bench/scale.py draws doc/scale-backlog.png)
PKGS="$PKGS python3-matplotlib"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
    echo "install-deps: installing$missing" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    # rabbitmq-server is here for its rabbitmqadmin and as the reference
    # broker the tests start themselves on free ports: the package must not
    # start a node of its own on 5672 (where `make run` puts warren), so
    # invoke-rc.d is told no while it installs, and the service it enables
    # is disabled again.  prometheus likewise: the tests run their own on
    # free ports, and the package's service would take 9090 (and start
    # scraping nothing).
    norc=""
    case "$missing" in *rabbitmq-server*|*prometheus*)
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
            $SUDO chmod 755 /usr/sbin/policy-rc.d
            norc=1
            trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
        fi ;;
    esac
    if ! $SUDO apt-get install -y --no-install-recommends $missing; then
        $SUDO apt-get update
        $SUDO apt-get install -y --no-install-recommends $missing
    fi
    if [ -n "$norc" ]; then
        $SUDO rm -f /usr/sbin/policy-rc.d
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            for svc in rabbitmq-server prometheus; do
                case "$missing" in *" $svc"*)
                    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true ;;
                esac
            done
        fi
    fi
fi

NODE_DIR="$ROOT/tests/node"
if [ -f "$NODE_DIR/package-lock.json" ] &&
   ! cmp -s "$NODE_DIR/package-lock.json" "$NODE_DIR/node_modules/.installed-lock.json"; then
    echo "install-deps: npm ci in tests/node" >&2
    # the broker does not need it: without the registry `make run` still
    # works, and tests/node fails saying what is missing
    if (cd "$NODE_DIR" && npm ci --no-audit --no-fund); then
        cp "$NODE_DIR/package-lock.json" "$NODE_DIR/node_modules/.installed-lock.json"
    else
        echo "install-deps: npm ci failed: tests/node cannot run until it succeeds" >&2
    fi
fi
