# Cross build for aarch64 Linux with clang 19 (the Android NDK's stand-in), gcc's aarch64
# sysroot and lld. Tests run under qemu-user with $QEMU_CPU (see the gcc toolchain file).
include(${CMAKE_CURRENT_LIST_DIR}/aarch64-linux-gnu-common.cmake)
set(CMAKE_C_COMPILER clang-19)
set(CMAKE_CXX_COMPILER clang++-19)
set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_CXX_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=lld-19")
