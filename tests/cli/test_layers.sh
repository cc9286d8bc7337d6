#!/usr/bin/env bash
# tool/src's layers (README "Layout"): a file includes only its own layer
# and the layers before it in util, model, backend, search, results,
# codegen, cli.
# Also: no source file of the tool over 1,200 lines.
set -uo pipefail
src="${HELION_SOURCE_DIR:?}/tool/src"
layers=(util model backend llm search results codegen cli)
fails=0
for i in "${!layers[@]}"; do
  layer="${layers[$i]}"
  allowed=" helion ${layers[*]:0:$((i + 1))} "
  for f in "$src/$layer"/*.[ch]; do
    while read -r inc; do
      if [[ "$allowed" != *" $inc "* ]]; then
        echo "FAIL: ${f#"$src"/} includes $inc/ (a later layer than $layer/)"
        fails=$((fails + 1))
      fi
    done < <(sed -n 's|^#include "\([a-z_]*\)/.*|\1|p' "$f")
  done
done
# The test can fail: it knows the layers it checks.
[ -f "$src/search/search.h" ] && [ -f "$src/model/params.h" ] ||
  { echo "FAIL: the layer folders are not where this test looks"; exit 1; }
while read -r n f; do
  [ "$f" = total ] && continue
  if [ "$n" -gt 1200 ]; then
    echo "FAIL: ${f#"$src"/} has $n lines (split it along its jobs)"
    fails=$((fails + 1))
  fi
done < <(wc -l "$src"/*/*.[ch])
[ "$fails" -eq 0 ] && echo ok || exit 1
