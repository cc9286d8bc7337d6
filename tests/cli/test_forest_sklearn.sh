#!/usr/bin/env bash
# test_forest_sklearn.sh: the forest module's accuracy check against
# scikit-learn (issue 5): helion's forest must score within 0.02 accuracy /
# R^2 of sklearn's on the same data with the same hyper-parameters
# (tests/cli/forest_vs_sklearn.py prints the table). Skips (77) without
# Debian's python3-sklearn.
set -u

py=/usr/bin/python3
cli="${HELION_TEST_TOOLS:-}/forest_cli"
land="${HELION_TEST_DATA:-}/landscapes/convolution_A4000.json.gz"
here="$(cd "$(dirname "$0")" && pwd)"

if [ ! -x "$py" ]; then
  echo "skip: $py not found (install python3-sklearn)"
  exit 77
fi
if ! "$py" -c 'import sklearn, numpy' 2>/dev/null; then
  echo "skip: scikit-learn is not importable by $py (install python3-sklearn)"
  exit 77
fi
if [ ! -x "$cli" ]; then
  echo "FAIL: $cli not built; set HELION_TEST_TOOLS to build/tests/tools"
  exit 1
fi
if [ ! -f "$land" ]; then
  echo "FAIL: landscape $land missing; set HELION_TEST_DATA to tests/data"
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" "$here/forest_vs_sklearn.py" "$cli" "$work" "$land"
