#!/usr/bin/env bash
# Compiles every OpenCL kernel source in every configuration the host can select, with clang's
# OpenCL C front end (target spir): the baseline configurations with no extension enabled (so a
# baseline path that used one would fail here, as it would on PoCL), and the extension paths
# (cl_khr_fp16 arithmetic, cl_khr_subgroups, cl_khr_integer_dot_product, Arm's integer dot
# product) with their extension enabled. PoCL, the device CI runs on, has none of these
# extensions, so this is where their sources are checked.
#
# Usage: compile_kernels.sh <clang> <opencl source dir>
set -uo pipefail
CLANG=$1
DIR=$2
COMMON=(-x cl -cl-std=CL1.2 -Xclang -fdeclare-opencl-builtins -Xclang -finclude-default-header -target spir
  -Werror -Wall -c -emit-llvm -o /dev/null -I "$DIR")
EXTENSIONS=(-Xclang "-cl-ext=+cl_khr_fp16,+cl_khr_subgroups,+cl_khr_integer_dot_product,+cl_arm_integer_dot_product_int8"
  -Dcl_khr_subgroups=1 -D__opencl_c_integer_dot_product_input_4x8bit_packed=1 -Dcl_arm_integer_dot_product_int8=1)
failed=0
count=0
# check <file> <extensions: yes|no> <defines...>
check() {
  local file=$1 ext=$2
  shift 2
  local extra=()
  [ "$ext" = yes ] && extra=("${EXTENSIONS[@]}")
  count=$((count + 1))
  if ! out=$("$CLANG" "${COMMON[@]}" "${extra[@]}" "$@" "$DIR/$file" 2>&1); then
    echo "FAIL $file ($ext extensions) $*"
    echo "$out" | head -20
    failed=$((failed + 1))
  fi
}
TILE=(-DEK_TILE_M=32 -DEK_TILE_N=32 -DEK_TILE_K=16 -DEK_WPT_M=4 -DEK_WPT_N=4)
VEC=(-DEK_TILE_M=64 -DEK_TILE_N=16 -DEK_TILE_K=1 -DEK_WPT_M=8 -DEK_WPT_N=16 -DEK_VEC=16)
for type in EK_GEMM_F32 EK_GEMM_F16 EK_GEMM_S8; do
  check gemm.cl no -D$type "${TILE[@]}"
  check gemm.cl no -D$type "${TILE[@]}" -DEK_TRANSPOSE_B -DEK_EXACT_TILES
done
for width in 4 8 16; do
  check gemm.cl no -DEK_GEMM_F32 -DEK_TILE_M=8 -DEK_TILE_N=$width -DEK_TILE_K=1 -DEK_WPT_M=8 -DEK_WPT_N=$width -DEK_VEC=$width
done
check gemm.cl no -DEK_GEMM_F16 "${VEC[@]}"
check gemm.cl yes -DEK_GEMM_F16 -DEK_F16_ARITHMETIC "${TILE[@]}"
check gemm.cl yes -DEK_GEMM_F16 -DEK_F16_ARITHMETIC "${TILE[@]}" -DEK_TRANSPOSE_B
for type in EK_CONV_F32 EK_CONV_F16 EK_CONV_S8 EK_CONV_U8; do
  for pixels in 1 4 8; do check conv.cl no -D$type -DEK_CONV_PIXELS=$pixels; done
done
check conv.cl no -DEK_CONV_F16 -DEK_FILTER_F32
for type in EK_ADD_F32 EK_ADD_S8 EK_ADD_U8; do check elementwise.cl no -D$type; done
for type in EK_POOL_F32 EK_POOL_S8 EK_POOL_U8; do check pool.cl no -D$type; done
for q in EK_Q_I8 EK_Q_U8; do check convert.cl no -D$q; done
check convert.cl yes -DEK_SUBGROUPS
for w in EK_W_I8 EK_W_I4; do
  for block in 0 32 128; do
    for rows in 1 4; do
      for cols in 1 4 8 16; do
        check qgemm_dynamic.cl no -D$w -DEK_BLOCK_K=$block -DEK_WPT_M=$rows -DEK_COLS=$cols
      done
    done
    check qgemm_dynamic.cl yes -D$w -DEK_BLOCK_K=$block -DEK_WPT_M=2 -DEK_INT_DOT_KHR
    check qgemm_dynamic.cl yes -D$w -DEK_BLOCK_K=$block -DEK_WPT_M=2 -DEK_INT_DOT_ARM
  done
done
echo "$count configurations compiled, $failed failed"
[ "$failed" = 0 ]
