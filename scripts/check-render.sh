#!/usr/bin/env bash
# Looks at a render folder the way a person would: opens DIR/index.html in headless Chromium
# (Debian package chromium, installed here if missing; not part of CI), saves a screenshot and
# checks in the browser that every image on the page loaded (naturalWidth > 0); prints how many
# loaded and how many tables the page has. RenderFigureTests runs it where chromium is installed.
#   scripts/check-render.sh DIR [SCREENSHOT.png]      (default screenshot: DIR/screenshot.png)
# Make DIR with e.g.: neon-batch render demo/out.h5 --out DIR
set -euo pipefail
dir=${1:?usage: scripts/check-render.sh DIR [SCREENSHOT.png]}
shot=${2:-$dir/screenshot.png}
[[ -f $dir/index.html ]] || { echo "check-render: $dir/index.html does not exist" >&2; exit 1; }
if ! command -v chromium >/dev/null; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "check-render: installing chromium" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
page="file://$(cd "$dir" && pwd)/index.html"
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --allow-file-access-from-files)
chromium "${flags[@]}" --window-size=1280,2000 --screenshot="$shot" "$page" 2>/dev/null
[[ -s $shot ]] || { echo "check-render: chromium wrote no screenshot" >&2; exit 1; }
# The DOM after the page has loaded, with one marker per image: loaded or broken (a copy of the
# page with a script, beside it so that relative image paths resolve).
sed 's#</body>#<script>window.addEventListener("load", () => { for (const i of document.images) { const p = document.createElement("p"); p.textContent = "IMAGE-" + (i.complete \&\& i.naturalWidth > 0 ? "OK " : "BROKEN ") + i.getAttribute("src"); document.body.appendChild(p); } });</script></body>#' \
  "$dir/index.html" > "$dir/.check-render.html"
dom=$(chromium "${flags[@]}" --virtual-time-budget=5000 --dump-dom "file://$(cd "$dir" && pwd)/.check-render.html" 2>/dev/null)
rm -f "$dir/.check-render.html"
ok=$(grep -o 'IMAGE-OK [^<]*' <<<"$dom" | wc -l)
broken=$(grep -o 'IMAGE-BROKEN [^<]*' <<<"$dom" || true)
tables=$(grep -o '<table' <<<"$dom" | wc -l)
echo "check-render: screenshot $shot; $ok images loaded; tables: $tables"
if [[ -n $broken ]]; then
  echo "check-render: images that did not load:" >&2
  echo "$broken" >&2
  exit 1
fi
[[ $ok -gt 0 ]] || { echo "check-render: the page has no images" >&2; exit 1; }
