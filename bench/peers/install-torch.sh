#!/usr/bin/env bash
# Installs the CPU peer the docs measure against: Debian's python3-torch (PyTorch 1.13 with oneDNN)
# for /usr/bin/python3, unless it is already importable. PyPI is not reachable from the project's
# machines, Debian's archive is. Needs root (or sudo).
set -euo pipefail
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 -c 'import torch; print("torch", torch.__version__, "already installed")'
  exit 0
fi
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-torch
/usr/bin/python3 -c 'import torch; print("torch", torch.__version__, "installed")'
