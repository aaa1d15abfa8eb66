# Shared by the aarch64 toolchain files: run tests under qemu-user, find aarch64 packages.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
# Highway for aarch64 (tools/setup.sh --arm) lives under /usr/local/aarch64-linux-gnu.
list(APPEND CMAKE_FIND_ROOT_PATH /usr/local/aarch64-linux-gnu /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Header-only, architecture-independent headers (Catch2, OpenCL) come from the host's /usr/include.
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
