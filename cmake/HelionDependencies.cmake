# Finds the fixed dependencies: the CUDA Toolkit (NVRTC and headers only;
# libcuda is never linked), cJSON, zlib, threads, libcurl (the LLM searches'
# HTTPS requests, tool/src/llm/llm_transport.c), and cmocka for the tests
# (only when HELION_BUILD_TESTS is on). Each missing one stops configure with
# the package that provides it.
include_guard(GLOBAL)

find_package(CUDAToolkit REQUIRED)
# CUDA::nvrtc drags in CUDA::cuda_driver (the libcuda stub), and a binary that
# needs libcuda.so.1 to start is exactly what the dlopen loader avoids; so
# link the NVRTC library file alone.
if(NOT CUDA_nvrtc_LIBRARY)
  message(FATAL_ERROR "NVRTC not found in the CUDA Toolkit at "
                      "${CUDAToolkit_LIBRARY_ROOT}; set CUDAToolkit_ROOT")
endif()
add_library(helion::nvrtc UNKNOWN IMPORTED)
set_target_properties(helion::nvrtc PROPERTIES
  IMPORTED_LOCATION "${CUDA_nvrtc_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CUDAToolkit_INCLUDE_DIRS}")
find_package(ZLIB REQUIRED)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
# libcurl: only helion-tune links it (the runtime library never does).
find_package(CURL QUIET)
if(NOT CURL_FOUND OR NOT TARGET CURL::libcurl)
  message(FATAL_ERROR
    "libcurl not found: install libcurl4-openssl-dev (apt-get install "
    "libcurl4-openssl-dev) or add its prefix to CMAKE_PREFIX_PATH")
endif()

# cJSON: Debian's config file names no namespaced target, and a prefix
# unpacked with dpkg -x has none that points at it, so look for it directly.
find_path(HELION_CJSON_INCLUDE_DIR cjson/cJSON.h)
find_library(HELION_CJSON_LIBRARY cjson)
if(NOT HELION_CJSON_INCLUDE_DIR OR NOT HELION_CJSON_LIBRARY)
  message(FATAL_ERROR
    "cJSON not found: install libcjson-dev (apt-get install libcjson-dev) or "
    "add its prefix to CMAKE_PREFIX_PATH")
endif()
add_library(helion::cjson UNKNOWN IMPORTED)
set_target_properties(helion::cjson PROPERTIES
  IMPORTED_LOCATION "${HELION_CJSON_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${HELION_CJSON_INCLUDE_DIR}")

if(HELION_BUILD_TESTS)
  find_path(HELION_CMOCKA_INCLUDE_DIR cmocka.h)
  find_library(HELION_CMOCKA_LIBRARY cmocka)
  if(NOT HELION_CMOCKA_INCLUDE_DIR OR NOT HELION_CMOCKA_LIBRARY)
    message(FATAL_ERROR
      "cmocka not found: install libcmocka-dev (apt-get install "
      "libcmocka-dev), add its prefix to CMAKE_PREFIX_PATH, or configure "
      "with -DHELION_BUILD_TESTS=OFF")
  endif()
  add_library(helion::cmocka UNKNOWN IMPORTED)
  set_target_properties(helion::cmocka PROPERTIES
    IMPORTED_LOCATION "${HELION_CMOCKA_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${HELION_CMOCKA_INCLUDE_DIR}")
endif()
