#!/usr/bin/env bash
# The dependency rules of docs/architecture.md ("The tree"), checked on the sources (the
# layout_rules test runs this):
#   1. ref/ includes the foundation only (the view, status, validation, options, requantize's
#      rule, integer helpers, other references): never cpu/, an op header or detail/qweights.h.
#   2. Options headers (*_options.h) include no kernels: OpenCL and the NPU trait use them.
#   3. The micro-kernel layer (cpu/tile/) includes no family's per-target code.
#   4. A family's per-target code (cpu/<family>/*-inl.h) includes the tile layer, its own family
#      and, for qgemm's staging, the conversion rows; no other family's.
#   5. Headers outside cpu/ reach per-target code only through cpu/targets.h.
#   6. No file under include/ek/cpu/ has more than 450 lines.
# Usage: tools/check_layout.sh [repo root]. Prints every violation; exit status 1 if any.
set -uo pipefail
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT/include" || exit 2
bad=0
fail() { echo "layout: $*"; bad=1; }
includes() { sed -n 's/^#include "\(ek\/[^"]*\)".*/\1/p' "$1"; }

for f in ek/ref/*.h; do
  for inc in $(includes "$f"); do
    case "$inc" in
      ek/ref/*|ek/tensor.h|ek/status.h|ek/tensor_validate.h|ek/*_options.h|ek/requantize.h|ek/detail/int_math.h) ;;
      *) fail "$f includes $inc (ref/ depends on the foundation only)" ;;
    esac
  done
done
for f in ek/*_options.h; do
  for inc in $(includes "$f"); do
    case "$inc" in
      ek/tensor.h|ek/status.h|ek/tensor_validate.h|ek/epilogue_options.h|ek/ref/convert.h) ;;
      *) fail "$f includes $inc (options headers include no kernels)" ;;
    esac
  done
done
for f in ek/cpu/tile/*; do
  for inc in $(includes "$f"); do
    case "$inc" in
      ek/cpu/*/*-inl.h) [[ "$inc" == ek/cpu/tile/* ]] || fail "$f includes $inc (the tile layer includes no family's per-target code)" ;;
    esac
  done
done
for f in ek/cpu/*/*-inl.h; do
  family=$(basename "$(dirname "$f")")
  [ "$family" = tile ] && continue
  for inc in $(includes "$f"); do
    case "$inc" in
      ek/cpu/tile/*|ek/cpu/"$family"/*) ;;
      ek/cpu/convert/*) [ "$family" = qgemm ] || fail "$f includes $inc (another family)" ;;
      ek/cpu/*) fail "$f includes $inc (another family)" ;;
    esac
  done
done
for f in $(find ek -name '*.h' ! -path 'ek/cpu/*'); do
  for inc in $(includes "$f"); do
    case "$inc" in
      ek/cpu/*-inl.h|ek/cpu/*/*-inl.h) fail "$f includes $inc (per-target code only through ek/cpu/targets.h)" ;;
    esac
  done
done
while read -r lines file; do
  [ "$file" = total ] && continue
  [ "$lines" -le 450 ] || fail "$file has $lines lines (at most 450 under include/ek/cpu/)"
done < <(find ek/cpu -type f -exec wc -l {} +)
[ $bad = 0 ] && echo "layout: every rule holds"
exit $bad
