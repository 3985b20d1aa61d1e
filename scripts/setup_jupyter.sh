#!/bin/sh
# Installs what `deno task notebooks` needs: Jupyter's headless executor from Debian packages,
# the Deno kernel spec, and (optionally) Chromium for the static chart images.
# Idempotent: does nothing that is already done. As root (or with sudo) Jupyter comes from Debian
# packages; otherwise from pip (`python3 -m pip install --user`), so no root is needed.
# Deno: the one on PATH; a Deno run through npx (`npx -y deno@2.9.6`) has no stable path for the
# kernel spec, so then Deno 2.9.6 is installed from npm into ~/.local (no root) and used instead.
#   scripts/setup_jupyter.sh            # Jupyter + Deno kernel
#   scripts/setup_jupyter.sh --chromium # also Chromium (only needed to re-render notebooks/images)
set -eu
export PYDEVD_DISABLE_FILE_VALIDATION=1

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
fi

need=""
for pkg in jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
done
if [ "${1:-}" = "--chromium" ]; then
  dpkg -s chromium >/dev/null 2>&1 || need="$need chromium"
fi
if [ -n "$need" ] && command -v jupyter >/dev/null 2>&1 && jupyter nbconvert --version >/dev/null 2>&1 &&
  [ "${1:-}" != "--chromium" ]; then
  need="" # Jupyter is already there (e.g. from pip)
fi
if [ -n "$need" ] && { [ "$SUDO" = "none" ] || ! command -v apt-get >/dev/null 2>&1; }; then
  echo "setup_jupyter: no root: python3 -m pip install --user jupyter"
  python3 -m pip install --user --quiet jupyter || {
    echo "setup_jupyter: pip refused (an externally managed Python?); use a virtual environment:" >&2
    echo "  python3 -m venv ~/.venvs/jupyter && ~/.venvs/jupyter/bin/pip install jupyter" >&2
    echo "  PATH=\"\$HOME/.venvs/jupyter/bin:\$PATH\" scripts/setup_jupyter.sh" >&2
    exit 1
  }
  PATH="$HOME/.local/bin:$PATH"
  need=""
fi
if [ -n "$need" ]; then
  echo "setup_jupyter: installing$need"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

# Deno must sit at a stable path: the kernel spec records the absolute path of the deno binary.
DENO="$(command -v deno || true)"
[ -n "$DENO" ] && DENO="$(readlink -f "$DENO")"
case "$DENO" in
  "" | */_npx/* | */.npm/*)
    # Missing, or npx's cache (which npm may clean): a per-user install from npm, no root needed.
    if [ ! -x "$HOME/.local/bin/deno" ]; then
      echo "setup_jupyter: installing deno@2.9.6 from npm into ~/.local (npm i -g --prefix ~/.local deno@2.9.6)"
      npm install -g --prefix "$HOME/.local" --no-audit --no-fund --loglevel=error deno@2.9.6 >/dev/null
    fi
    DENO="$(readlink -f "$HOME/.local/bin/deno")"
    ;;
esac

# (Re)install the kernel spec when it is missing or points at another deno binary.
SPEC_DIR="$(jupyter kernelspec list 2>/dev/null | awk '$1 == "deno" { print $2 }')"
if [ -z "$SPEC_DIR" ] || ! grep -q "\"$DENO\"" "$SPEC_DIR/kernel.json" 2>/dev/null; then
  echo "setup_jupyter: installing the Deno kernel spec ($DENO jupyter --install --force)"
  "$DENO" jupyter --install --force
fi
jupyter kernelspec list 2>/dev/null | grep "^ *deno "
