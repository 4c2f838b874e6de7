#!/usr/bin/env bash
# Refresh the browser assets the built site serves itself (no CDN, no third-party requests):
# MathJax 3, require.js and the Jupyter widget manager, from their npm packages.
# Readers never need Node: the output in book/_assets/ is committed. Run this only to upgrade.
set -euo pipefail
MATHJAX=3.2.2
HTML_MANAGER=1.0.15   # @jupyter-widgets/html-manager for ipywidgets 8
REQUIREJS=2.3.8

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/book/_assets"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts \
  "mathjax@$MATHJAX" "@jupyter-widgets/html-manager@$HTML_MANAGER" "requirejs@$REQUIREJS" >/dev/null)
nm="$tmp/node_modules"

rm -rf "$out/mathjax" "$out/widgets" "$out/require.js" "$out/licenses"
mkdir -p "$out/mathjax/output/chtml/fonts" "$out/mathjax/input/tex" "$out/widgets" "$out/licenses"
# MathJax: the TeX→CommonHTML component, its web fonts, and the TeX extensions it autoloads.
cp "$nm/mathjax/es5/tex-chtml.js" "$out/mathjax/"
cp -r "$nm/mathjax/es5/output/chtml/fonts/woff-v2" "$out/mathjax/output/chtml/fonts/"
cp -r "$nm/mathjax/es5/input/tex/extensions" "$out/mathjax/input/tex/"
cp "$nm/mathjax/LICENSE" "$out/licenses/mathjax-LICENSE"
# The widget manager (renders saved widget state without a kernel) and the fonts its CSS loads.
cp "$nm/@jupyter-widgets/html-manager/dist/embed-amd.js" "$out/widgets/"
cp "$nm/@jupyter-widgets/html-manager/dist/"*.woff2 "$nm/@jupyter-widgets/html-manager/dist/"*.woff "$nm/@jupyter-widgets/html-manager/dist/"*.ttf "$out/widgets/"
cp "$nm/@jupyter-widgets/html-manager/dist/embed.js.LICENSE.txt" "$out/licenses/html-manager-THIRD-PARTY.txt"
node -e "const p=require('$nm/@jupyter-widgets/html-manager/package.json');console.log(p.license)" \
  > "$out/licenses/html-manager-LICENSE-id.txt"
cp "$nm/requirejs/require.js" "$out/"
node -e "const p=require('$nm/requirejs/package.json');console.log(p.license)" > "$out/licenses/requirejs-LICENSE-id.txt"
cat > "$out/VERSIONS" <<V
mathjax $MATHJAX
@jupyter-widgets/html-manager $HTML_MANAGER
requirejs $REQUIREJS
V
echo "refreshed $out"; du -sh "$out"
