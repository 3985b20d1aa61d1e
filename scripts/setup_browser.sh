#!/bin/sh
# Installs what the "everywhere" tests and the tslab notebook need, idempotently:
#   - Debian's chromium (/usr/bin/chromium) for tests/web_e2e_test.ts
#   - Jupyter's headless executor from Debian packages, for notebooks/tslab-quickstart.ipynb
#   - playwright-core, axe-core (the accessibility audit) and tslab from the npm registry into .cache/tools (gitignored)
#   - a tslab kernel spec for this checkout only, in .cache/jupyter (Jupyter finds it through
#     JUPYTER_PATH; nothing system-wide points at one checkout's tools)
# Does nothing that is already done. Run as root (or with sudo available). No browser download:
# playwright-core drives the Debian chromium through its executablePath.
#   scripts/setup_browser.sh
set -eu

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="$ROOT/.cache/tools"
PLAYWRIGHT_VERSION="1.65.1"
TSLAB_VERSION="1.0.22"
AXE_VERSION="4.14.1"

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

need=""
for pkg in chromium jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
done
if [ -n "$need" ]; then
  echo "setup_browser: installing$need"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

installed_version() { # prints the version of an npm package in $TOOLS, or nothing
  node -e "try{console.log(require('$TOOLS/node_modules/$1/package.json').version)}catch{}"
}
if [ "$(installed_version playwright-core)" != "$PLAYWRIGHT_VERSION" ] || [ "$(installed_version tslab)" != "$TSLAB_VERSION" ] ||
  [ "$(installed_version axe-core)" != "$AXE_VERSION" ]; then
  echo "setup_browser: installing playwright-core@$PLAYWRIGHT_VERSION axe-core@$AXE_VERSION tslab@$TSLAB_VERSION into .cache/tools"
  mkdir -p "$TOOLS"
  [ -f "$TOOLS/package.json" ] || printf '{ "name": "heartbeat-tools", "private": true, "version": "0.0.0" }\n' >"$TOOLS/package.json"
  # zeromq (a tslab dependency) ships prebuilt addons; its install script would only rebuild them.
  # Nested: tslab looks for @types/node under its own node_modules when the notebook folder has none.
  (cd "$TOOLS" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error --install-strategy=nested \
    "playwright-core@$PLAYWRIGHT_VERSION" "axe-core@$AXE_VERSION" "tslab@$TSLAB_VERSION")
fi

# A per-project kernel spec (the same one scripts/tslab_notebook.ts writes): Jupyter started with
# JUPYTER_PATH="$ROOT/.cache/jupyter" offers it; a system-wide `tslab install` would point every
# user's "tslab" kernel at this checkout.
SPEC_DIR="$ROOT/.cache/jupyter/kernels/tslab"
mkdir -p "$SPEC_DIR"
printf '{"argv": ["%s", "kernel", "--config-path", "{connection_file}"], "display_name": "TypeScript", "language": "typescript"}\n' \
  "$TOOLS/node_modules/.bin/tslab" >"$SPEC_DIR/kernel.json"

/usr/bin/chromium --version 2>/dev/null
echo "setup_browser: playwright-core $(installed_version playwright-core), axe-core $(installed_version axe-core), tslab $(installed_version tslab)"
JUPYTER_PATH="$ROOT/.cache/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}" jupyter kernelspec list | grep '^ *tslab '
echo "setup_browser: open the tslab notebook with: JUPYTER_PATH=\"$ROOT/.cache/jupyter\" jupyter notebook notebooks/"
