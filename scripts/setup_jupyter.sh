#!/bin/sh
# Installs what `deno task notebooks` needs: Jupyter's headless executor from Debian packages,
# the Deno kernel spec, and (optionally) Chromium for the static chart images.
# Idempotent: does nothing that is already done. Run as root (or with sudo available).
#   scripts/setup_jupyter.sh            # Jupyter + Deno kernel
#   scripts/setup_jupyter.sh --chromium # also Chromium (only needed to re-render notebooks/images)
set -eu
export PYDEVD_DISABLE_FILE_VALIDATION=1

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

need=""
for pkg in jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
done
if [ "${1:-}" = "--chromium" ]; then
  dpkg -s chromium >/dev/null 2>&1 || need="$need chromium"
fi
if [ -n "$need" ]; then
  echo "setup_jupyter: installing$need"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

# Deno must sit at a stable path: the kernel spec records the absolute path of the deno binary.
DENO="$(command -v deno || true)"
if [ -z "$DENO" ]; then
  echo "setup_jupyter: deno not found on PATH; install Deno 2.9.6 first" >&2
  exit 1
fi
case "$DENO" in
  */_npx/* | */.npm/* | /tmp/*)
    echo "setup_jupyter: deno at $DENO is not a stable path; install it (npm i -g deno@2.9.6) first" >&2
    exit 1
    ;;
esac

# (Re)install the kernel spec when it is missing or points at another deno binary.
SPEC_DIR="$(jupyter kernelspec list 2>/dev/null | awk '$1 == "deno" { print $2 }')"
if [ -z "$SPEC_DIR" ] || ! grep -q "\"$DENO\"" "$SPEC_DIR/kernel.json" 2>/dev/null; then
  echo "setup_jupyter: installing the Deno kernel spec ($DENO jupyter --install --force)"
  "$DENO" jupyter --install --force
fi
jupyter kernelspec list 2>/dev/null | grep "^ *deno "
