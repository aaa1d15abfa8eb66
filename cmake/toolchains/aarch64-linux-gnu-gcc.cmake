# Cross build for aarch64 Linux with Debian's aarch64-linux-gnu gcc. Tests run under qemu-user:
# ctest prefixes them with qemu-aarch64-static, which reads the CPU model from $QEMU_CPU
# (e.g. QEMU_CPU=cortex-a76 ctest).
include(${CMAKE_CURRENT_LIST_DIR}/aarch64-linux-gnu-common.cmake)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# gcc 12.2 aarch64 has an internal compiler error at -O3 on some float reductions
# (vect_transform_reduction): use -O2.
set(CMAKE_CXX_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "")
