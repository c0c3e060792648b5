#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if they are missing.
# Chromium comes from Debian: browser downloads by test tools fail here.
# nginx: the tests and bench/bench_proxy.py run deploy/nginx/seasons.conf as their
# own process on loopback; the system service is neither started nor enabled.
# Java and npm: tests/conformance runs the Nu HTML checker (vnu-jar, from npm).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "Installing Debian packages: ${need[*]}"
$SUDO apt-get update -qq
# A policy-rc.d that says no keeps Debian's maintainer scripts from starting
# nginx's system service (and its default site on port 80) during the install.
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  made_policy=1
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if [ -n "$made_policy" ]; then
  $SUDO rm -f /usr/sbin/policy-rc.d
fi
if [[ " ${need[*]} " == *" nginx "* ]] && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi
