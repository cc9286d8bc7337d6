# Warning flags (CONVENTIONS.md) and the sanitizer build, applied per target.
include_guard(GLOBAL)

set(HELION_WARNING_FLAGS
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wformat=2 -Wundef)

function(helion_target_warnings target)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE ${HELION_WARNING_FLAGS})
    if(HELION_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()

if(HELION_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Fuzzing instruments everything the fuzzers link, so libFuzzer sees coverage
# inside the parsers; the fuzzer targets add -fsanitize=fuzzer themselves.
if(HELION_BUILD_FUZZERS)
  # UBSan findings are crashes to libFuzzer only when they do not recover.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
