# Cross build for aarch64 Linux with clang 19 (the Android NDK's stand-in), gcc's aarch64 sysroot and lld.
# Tests run under qemu-user: ctest prefixes them with qemu-aarch64-static, which reads the CPU
# model from $QEMU_CPU (e.g. QEMU_CPU=cortex-a76 ctest).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER clang-19)
set(CMAKE_CXX_COMPILER clang++-19)
set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_CXX_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=lld-19")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
# Highway for aarch64 (tools/setup.sh --arm) lives under /usr/local/aarch64-linux-gnu.
list(APPEND CMAKE_FIND_ROOT_PATH /usr/local/aarch64-linux-gnu /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Header-only, architecture-independent headers (Catch2, OpenCL) come from the host's /usr/include.
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
