# OpenBLAS from the bytedeco Maven jar (the same libopenblas.so.0 libtorch's CPU build links), so the
# process holds one OpenBLAS. Maven unpacks org.bytedeco:openblas:<ver>:linux-x86_64 and passes
# LP_OPENBLAS_DIR = <unpacked>/org/bytedeco/openblas/linux-x86_64 (cblas.h in include/, the .so at top).
set(LP_OPENBLAS_DIR "" CACHE PATH "Folder holding include/cblas.h and libopenblas.so.0")
if(NOT LP_OPENBLAS_DIR OR NOT EXISTS "${LP_OPENBLAS_DIR}/include/cblas.h")
  message(FATAL_ERROR "LP_OPENBLAS_DIR='${LP_OPENBLAS_DIR}' does not hold include/cblas.h. "
                      "Build through Maven (mvn package), which unpacks the openblas jar, or pass "
                      "-DLP_OPENBLAS_DIR=<dir of org/bytedeco/openblas/linux-x86_64>.")
endif()
find_library(LP_OPENBLAS_LIB NAMES libopenblas.so.0 openblas PATHS ${LP_OPENBLAS_DIR} NO_DEFAULT_PATH REQUIRED)
add_library(lp_openblas INTERFACE)
target_include_directories(lp_openblas SYSTEM INTERFACE ${LP_OPENBLAS_DIR}/include)
target_link_libraries(lp_openblas INTERFACE ${LP_OPENBLAS_LIB})
