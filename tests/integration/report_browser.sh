#!/usr/bin/env bash
# report.html in a real browser: the quickstart's report is rendered by headless Chromium
# (Debian's `chromium`), once to a DOM dump and once to a screenshot. The page must load without
# console errors (a network request would be one: the page's Content-Security-Policy forbids all)
# and the DOM must hold the plots as SVG with drawn content. Skipped (exit 0) when chromium is not
# installed. Exit status: 0 all passed or skipped, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh report_browser
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
    echo "report_browser: skipped (chromium not installed)"
    exit 0
fi

"$MATSCREEN" run -q workflows/examples.xml -o "$tmp/out" >/dev/null 2>&1
check "examples run" test -s "$tmp/out/report.html"
# a second night, so that the changes section has tables too
sed 's|<top-k>5</top-k>|<top-k>3</top-k>|; s|Pb Cd Hg Tl|Pb Cd Hg Tl Ge|' workflows/examples.xml \
    >workflows/.examples-browser.$$.xml
"$MATSCREEN" run -q workflows/.examples-browser.$$.xml -o "$tmp/out" >/dev/null 2>&1
rm -f workflows/.examples-browser.$$.xml

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --enable-logging=stderr --v=0 --user-data-dir="$tmp/profile" --window-size=1200,3000)
url="file://$tmp/out/report.html"
timeout 120 "$CHROMIUM" "${flags[@]}" --dump-dom "$url" >"$tmp/dom.html" 2>"$tmp/dom.err"
check "chromium --dump-dom exits 0" test $? -eq 0
timeout 120 "$CHROMIUM" "${flags[@]}" --screenshot="$tmp/shot.png" "$url" >/dev/null 2>"$tmp/shot.err"
check "chromium --screenshot exits 0" test $? -eq 0
check "screenshot written" test -s "$tmp/shot.png"

# Console messages of the page come as "CONSOLE(line)" lines; blocked requests as
# "Refused to ..." (CSP) or net:: errors. Chromium's own D-Bus/GPU noise is not about the page.
check "no console errors" test "$(grep -cE 'CONSOLE|Uncaught|Refused to|net::ERR' "$tmp/dom.err" "$tmp/shot.err" | awk -F: '{s+=$2} END {print s+0}')" -eq 0
check "page title" grep -q "<title>examples - matscreen report</title>" "$tmp/dom.html"
for id in plot-topk plot-scores plot-quality; do
    check "DOM has <svg id=\"$id\">" grep -q "<svg id=\"$id\"" "$tmp/dom.html"
done
check "top-K plot has points" test "$(grep -o '<circle' "$tmp/dom.html" | wc -l)" -ge 3
check "histogram has bars" test "$(grep -o 'class="bar' "$tmp/dom.html" | wc -l)" -ge 3
check "changes section rendered" grep -q "Left the top-K" "$tmp/dom.html"
check "top-K table rendered" grep -q 'id="topk-table"' "$tmp/dom.html"
if [ -n "${MS_KEEP_SCREENSHOT:-}" ]; then cp "$tmp/shot.png" "$MS_KEEP_SCREENSHOT"; fi

finish
