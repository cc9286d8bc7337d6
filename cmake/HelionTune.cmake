# HelionTune.cmake: helion_add_tuned_kernel(), configure-time tuning and the
# generated header of a tuned kernel (DESIGN.md §9).
#
#   helion_add_tuned_kernel(<name>
#     SPEC <file.json>                 the kernel's spec (its "name" is <name>)
#     [SHAPES "M=4096,N=4096" ...]     the shapes to tune (default: the spec's)
#     [EFFORT none|quick|full]         the search effort (default: see below)
#     [ALGORITHM <name>] [SEED <n>] [BUDGET_SECONDS <s>]
#     [TUNED_FILE <file>]              default: <spec dir>/<name>.tuned.json
#     [ARCHS 90 ...]                   cubins to bake (default: the compute
#                                      capabilities of the results file)
#     [DISTILL ON|OFF])                fit a few configs and a decision tree
#                                      to the shapes (helion-tune distill;
#                                      needs 2 or more shapes; default OFF)
#   target_link_libraries(app PRIVATE helion::<name>)
#
# At configure time the results file (committed beside the spec) is checked
# against the build GPU (or HELION_TARGET_DEVICE, for a cross build):
#   - every shape has a current entry: nothing runs on a GPU;
#   - a shape's entry is missing or stale and a GPU is present: with
#     HELION_TUNE=MISSING (default) `helion-tune tune` tunes exactly those
#     shapes now and records them in the results file (the source tree);
#     HELION_TUNE=ALL re-tunes every shape; OFF never tunes; each kernel's
#     tune spreads its configs over the GPUs of HELION_TUNE_DEVICES
#     (default all: every GPU of the build machine, one model);
#   - what is still missing runs the default config, said in one warning per
#     kernel, or a FATAL_ERROR with HELION_REQUIRE_TUNED=ON.
# The header <name>_tuned.h is generated at build time (no GPU) from the spec,
# the kernel source, the results file and the tool, and regenerated when any
# of them changes. helion::<name> is a static library holding the baked
# kernels and the launcher; it links helion::runtime.
#
# With DISTILL ON, a configure that tuned a shape of the kernel also runs
# `helion-tune distill` (every winner timed on every shape, the subset and
# the tree recorded in the results file), and so do the re-tune targets;
# helion_distill_<name> runs it alone. The header's dispatcher then asks the
# tree for shapes between the tuned ones.
#
# Targets: helion_retune_<name> and helion_retune (forced re-search of every
# shape, results files updated, headers regenerated on the next build),
# helion_results_<name> and helion_results (entries and staleness).
include_guard(GLOBAL)

set(HELION_TUNE "MISSING" CACHE STRING
  "When configure tunes kernels on the build GPU: OFF (never), MISSING (missing or stale entries), ALL (every shape)")
set_property(CACHE HELION_TUNE PROPERTY STRINGS OFF MISSING ALL)
option(HELION_REQUIRE_TUNED
  "Fail configure when a kernel shape has no current tuned entry" OFF)
set(HELION_TARGET_DEVICE "" CACHE STRING
  "The GPU the build is for, by name (\"NVIDIA H100 80GB HBM3\"): its entries are checked, the build machine's GPU is not asked")
set(HELION_TUNE_DEVICES "all" CACHE STRING
  "The build machine's GPUs that configure-time tuning and the re-tune targets time configs on (helion-tune tune --devices): all, or ordinals such as 0,1; empty: GPU 0 alone. GPUs of different models: name one model's GPUs here")
if(NOT HELION_TUNE_DEVICES MATCHES "^(all|[0-9]+(,[0-9]+)*)?$")
  message(FATAL_ERROR "HELION_TUNE_DEVICES='${HELION_TUNE_DEVICES}': use all, "
    "a list of GPU ordinals such as 0,1, or empty for GPU 0 alone")
endif()

# The configure-time default search (one place: HelionTuneDefaults.cmake).
# Kept as a global property: this file may be included in another
# directory's scope (Helion added with add_subdirectory) than the one that
# calls helion_add_tuned_kernel().
include("${CMAKE_CURRENT_LIST_DIR}/HelionTuneDefaults.cmake")
set_property(GLOBAL PROPERTY HELION_DEFAULT_TUNE_FLAGS
  "${HELION_DEFAULT_TUNE_FLAGS}")

# The tool that runs at configure time. An installed package names it
# (HELION_TUNE_EXECUTABLE); from a source tree it is built once here, into the
# build tree, because the build's own helion-tune target does not exist
# until the build runs.
function(_helion_configure_tool out)
  if(HELION_TUNE_EXECUTABLE)
    set(${out} "${HELION_TUNE_EXECUTABLE}" PARENT_SCOPE)
    return()
  endif()
  if(NOT HELION_SOURCE_DIR)
    message(FATAL_ERROR
      "helion_add_tuned_kernel: helion-tune not found; use find_package(Helion) "
      "or add_subdirectory() of the Helion source tree, or set "
      "HELION_TUNE_EXECUTABLE to the tool")
  endif()
  set(dir "${CMAKE_BINARY_DIR}/_helion_tool")
  if(NOT EXISTS "${dir}/CMakeCache.txt")
    message(STATUS "Helion: building helion-tune for configure-time tuning")
    execute_process(
      COMMAND "${CMAKE_COMMAND}" -S "${HELION_SOURCE_DIR}" -B "${dir}"
              -DCMAKE_BUILD_TYPE=Release -DHELION_BUILD_TESTS=OFF
              -DHELION_BUILD_SAMPLES=OFF
              "-DCMAKE_PREFIX_PATH=${CMAKE_PREFIX_PATH}"
      RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
    if(rc)
      message(FATAL_ERROR "Helion: configuring helion-tune failed:\n${log}")
    endif()
  endif()
  # Incremental: a no-op when the tool is up to date.
  execute_process(
    COMMAND "${CMAKE_COMMAND}" --build "${dir}" --target helion-tune
            --parallel
    RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
  if(rc)
    message(FATAL_ERROR "Helion: building helion-tune failed:\n${log}")
  endif()
  set(${out} "${dir}/helion-tune" PARENT_SCOPE)
endfunction()

# The tool that build-time commands run, and what they depend on.
function(_helion_build_tool out_cmd out_dep)
  if(TARGET helion-tune)
    set(${out_cmd} "$<TARGET_FILE:helion-tune>" PARENT_SCOPE)
    set(${out_dep} helion-tune PARENT_SCOPE)
  elseif(TARGET helion::helion-tune)
    set(${out_cmd} "$<TARGET_FILE:helion::helion-tune>" PARENT_SCOPE)
    set(${out_dep} helion::helion-tune PARENT_SCOPE)
  else()
    _helion_configure_tool(tool)
    set(${out_cmd} "${tool}" PARENT_SCOPE)
    set(${out_dep} "${tool}" PARENT_SCOPE)
  endif()
endfunction()

# Reads `results --need --json` into <prefix>_GPU, <prefix>_DEVICE,
# <prefix>_CC (the GPU's compute capability), <prefix>_NOTE, <prefix>_SHAPES, <prefix>_MISSING, <prefix>_STALE and
# <prefix>_ENTRIES (the number of entries in the file).
function(_helion_need prefix tool spec tuned device shape_args)
  execute_process(
    COMMAND "${tool}" results "${spec}" --tuned "${tuned}" --need --json
            --device "${device}" ${shape_args}
    RESULT_VARIABLE rc OUTPUT_VARIABLE json ERROR_VARIABLE err)
  if(rc)
    message(FATAL_ERROR "helion_add_tuned_kernel: ${err}")
  endif()
  string(JSON gpu GET "${json}" need gpu)
  string(JSON dev_type TYPE "${json}" need device)
  set(dev "")
  if(dev_type STREQUAL "STRING")
    string(JSON dev GET "${json}" need device)
  endif()
  string(JSON note GET "${json}" need note)
  string(JSON cc GET "${json}" need compute_capability)
  string(JSON n LENGTH "${json}" need shapes)
  string(JSON nentries LENGTH "${json}" entries)
  set(shapes "")
  set(missing "")
  set(stale "")
  if(n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON shape GET "${json}" need shapes ${i} shape)
      string(JSON status GET "${json}" need shapes ${i} status)
      list(APPEND shapes "${shape}")
      if(status STREQUAL "missing")
        list(APPEND missing "${shape}")
      elseif(status STREQUAL "stale")
        list(APPEND stale "${shape}")
      endif()
    endforeach()
  endif()
  string(JSON name GET "${json}" spec)
  set(${prefix}_NAME "${name}" PARENT_SCOPE)
  set(${prefix}_GPU "${gpu}" PARENT_SCOPE)
  set(${prefix}_DEVICE "${dev}" PARENT_SCOPE)
  set(${prefix}_NOTE "${note}" PARENT_SCOPE)
  set(${prefix}_CC "${cc}" PARENT_SCOPE)
  set(${prefix}_SHAPES "${shapes}" PARENT_SCOPE)
  set(${prefix}_MISSING "${missing}" PARENT_SCOPE)
  set(${prefix}_STALE "${stale}" PARENT_SCOPE)
  set(${prefix}_ENTRIES "${nentries}" PARENT_SCOPE)
endfunction()

# "--shape;A;--shape;B" for a list of shapes.
function(_helion_shape_flags out)
  set(flags "")
  foreach(s IN LISTS ARGN)
    list(APPEND flags --shape "${s}")
  endforeach()
  set(${out} "${flags}" PARENT_SCOPE)
endfunction()

function(helion_add_tuned_kernel name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG ""
    "SPEC;EFFORT;ALGORITHM;TUNED_FILE;SEED;BUDGET_SECONDS;DISTILL" "SHAPES;ARCHS")
  set(where "helion_add_tuned_kernel(${name})")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${where}: unknown argument(s) ${ARG_UNPARSED_ARGUMENTS}; "
      "the arguments are SPEC SHAPES EFFORT ALGORITHM TUNED_FILE ARCHS SEED "
      "BUDGET_SECONDS DISTILL")
  endif()
  if(ARG_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "${where}: ${ARG_KEYWORDS_MISSING_VALUES} needs a value")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "${where}: the name must be a C identifier (the spec's \"name\")")
  endif()
  if(NOT ARG_SPEC)
    message(FATAL_ERROR "${where}: SPEC is required (the kernel's JSON spec)")
  endif()
  get_filename_component(spec "${ARG_SPEC}" ABSOLUTE)
  if(NOT EXISTS "${spec}")
    message(FATAL_ERROR "${where}: SPEC ${spec} does not exist")
  endif()
  if(DEFINED ARG_EFFORT AND NOT ARG_EFFORT MATCHES "^(none|quick|full)$")
    message(FATAL_ERROR "${where}: EFFORT '${ARG_EFFORT}': use none, quick or full")
  endif()
  if(DEFINED ARG_SEED AND NOT ARG_SEED MATCHES "^[0-9]+$")
    message(FATAL_ERROR "${where}: SEED '${ARG_SEED}' is not a non-negative integer")
  endif()
  if(DEFINED ARG_BUDGET_SECONDS AND NOT ARG_BUDGET_SECONDS MATCHES "^[0-9]+(\\.[0-9]+)?$")
    message(FATAL_ERROR "${where}: BUDGET_SECONDS '${ARG_BUDGET_SECONDS}' is not a number of seconds")
  endif()
  set(distill OFF)
  if(DEFINED ARG_DISTILL)
    if(NOT ARG_DISTILL MATCHES "^(ON|OFF)$")
      message(FATAL_ERROR "${where}: DISTILL '${ARG_DISTILL}': use ON or OFF")
    endif()
    set(distill ${ARG_DISTILL})
  endif()
  foreach(arch IN LISTS ARG_ARCHS)
    if(NOT arch MATCHES "^[0-9]+[a-z]?$")
      message(FATAL_ERROR "${where}: ARCHS '${arch}': give compute capabilities as 90, 80, ...")
    endif()
  endforeach()
  if(NOT HELION_TUNE MATCHES "^(OFF|MISSING|ALL)$")
    message(FATAL_ERROR "HELION_TUNE='${HELION_TUNE}': use OFF, MISSING or ALL")
  endif()
  get_filename_component(spec_dir "${spec}" DIRECTORY)
  if(ARG_TUNED_FILE)
    get_filename_component(tuned "${ARG_TUNED_FILE}" ABSOLUTE)
  else()
    set(tuned "${spec_dir}/${name}.tuned.json")
  endif()

  # The search flags: the call's, else the configure-time default.
  set(search_flags "")
  if(DEFINED ARG_EFFORT OR DEFINED ARG_ALGORITHM OR DEFINED ARG_BUDGET_SECONDS)
    if(DEFINED ARG_EFFORT)
      list(APPEND search_flags --effort ${ARG_EFFORT})
    endif()
    if(DEFINED ARG_ALGORITHM)
      list(APPEND search_flags --algorithm ${ARG_ALGORITHM})
    endif()
    if(DEFINED ARG_BUDGET_SECONDS)
      list(APPEND search_flags --budget-seconds ${ARG_BUDGET_SECONDS})
    endif()
  else()
    get_property(search_flags GLOBAL PROPERTY HELION_DEFAULT_TUNE_FLAGS)
  endif()
  if(DEFINED ARG_SEED)
    list(APPEND search_flags --seed ${ARG_SEED})
  endif()
  # The GPUs a tune on this machine times on (not distill's: one GPU).
  set(device_flags "")
  if(NOT HELION_TUNE_DEVICES STREQUAL "")
    set(device_flags --devices "${HELION_TUNE_DEVICES}")
  endif()
  _helion_shape_flags(shape_flags ${ARG_SHAPES})

  _helion_configure_tool(tool)
  set(device auto)
  if(HELION_TARGET_DEVICE)
    set(device "${HELION_TARGET_DEVICE}")
  endif()
  _helion_need(need "${tool}" "${spec}" "${tuned}" "${device}" "${shape_flags}")
  if(NOT need_NAME STREQUAL name)
    message(FATAL_ERROR "${where}: ${spec} names the kernel '${need_NAME}'; "
      "give helion_add_tuned_kernel the same name")
  endif()
  list(LENGTH need_SHAPES nshapes)
  if(distill AND nshapes LESS 2)
    message(FATAL_ERROR "${where}: DISTILL ON needs 2 or more shapes (it has "
      "${nshapes}); give them in SHAPES or in the spec")
  endif()
  foreach(s IN LISTS need_STALE)
    message(WARNING "Helion: ${name}: the entry for ${s} is stale (the kernel "
      "or its space changed since it was tuned); `helion-tune results ${spec}` "
      "says why")
  endforeach()

  # Configure-time tuning: only with a GPU, and only for the GPU the build is
  # for (a cross build's target device is not this machine's).
  set(to_tune "")
  if(HELION_TUNE STREQUAL "ALL")
    set(to_tune ${need_SHAPES})
  elseif(HELION_TUNE STREQUAL "MISSING")
    set(to_tune ${need_MISSING} ${need_STALE})
  endif()
  if(to_tune AND NOT need_GPU)
    set(to_tune "")
  endif()
  if(to_tune)
    list(LENGTH to_tune n)
    set(gpus "GPU 0")
    if(NOT HELION_TUNE_DEVICES STREQUAL "")
      set(gpus "GPUs ${HELION_TUNE_DEVICES}")
    endif()
    message(STATUS "Helion: tuning ${name} for ${n} shape(s) on ${need_DEVICE} "
      "(${gpus}): ${to_tune} (HELION_TUNE=${HELION_TUNE}; Ctrl-C keeps every "
      "finished shape)")
    _helion_shape_flags(tune_shapes ${to_tune})
    set(env "")
    if(HELION_TUNE STREQUAL "ALL")
      set(env HELION_FORCE_AUTOTUNE=1)
    endif()
    execute_process(
      COMMAND "${CMAKE_COMMAND}" -E env ${env} HELION_AUTOTUNE_PROGRESS_BAR=0
              "${tool}" tune "${spec}" --tuned "${tuned}" ${tune_shapes}
              ${search_flags} ${device_flags}
      RESULT_VARIABLE rc)
    if(rc EQUAL 130 OR rc EQUAL 143)
      message(FATAL_ERROR "Helion: tuning ${name} was interrupted; ${tuned} "
        "keeps every shape that finished. Configure again to go on.")
    elseif(rc)
      message(WARNING "Helion: tuning ${name} failed (exit ${rc}); see above")
    elseif(distill)
      message(STATUS "Helion: distilling ${name} over ${nshapes} shapes on ${need_DEVICE}")
      execute_process(
        COMMAND "${CMAKE_COMMAND}" -E env HELION_AUTOTUNE_PROGRESS_BAR=0
                "${tool}" distill "${spec}" --tuned "${tuned}" ${shape_flags}
                ${search_flags}
        RESULT_VARIABLE rc)
      if(rc EQUAL 130 OR rc EQUAL 143)
        message(FATAL_ERROR "Helion: distilling ${name} was interrupted; "
          "${tuned} keeps its tuned entries. Configure again to go on.")
      elseif(rc)
        message(WARNING "Helion: distilling ${name} failed (exit ${rc}); see "
          "above. The header dispatches without a tree.")
      endif()
    endif()
    _helion_need(need "${tool}" "${spec}" "${tuned}" "${device}" "${shape_flags}")
  endif()

  # What is still missing is never silent.
  if(need_MISSING)
    string(REPLACE ";" ", " shapes "${need_MISSING}")
    set(target "${need_DEVICE}")
    if(NOT target)
      set(target "any GPU (there is none here)")
    endif()
    _helion_shape_flags(fix ${need_MISSING})
    string(REPLACE ";" " " fix "${fix}")
    string(CONCAT msg "Helion: ${name}: no tuned entry for ${shapes} on "
      "${target}; those calls run the default config. Tune on a machine "
      "with that GPU: helion-tune tune ${spec} ${fix} --tuned ${tuned}")
    if(HELION_REQUIRE_TUNED)
      message(FATAL_ERROR "${msg} (HELION_REQUIRE_TUNED is ON)")
    endif()
    message(WARNING "${msg}")
  endif()

  # The header, generated at build time from the spec, the kernel, the
  # results file and the tool; the depfile adds what the kernel includes.
  _helion_build_tool(build_tool build_dep)
  set(gen_dir "${CMAKE_CURRENT_BINARY_DIR}/helion_${name}")
  set(header "${gen_dir}/${name}_tuned.h")
  # Architectures: the call's; else the results file's (the tool takes the
  # compute capabilities of its entries); else the build GPU's.
  set(archs ${ARG_ARCHS})
  if(NOT archs AND need_ENTRIES EQUAL 0)
    if(NOT need_CC)
      message(FATAL_ERROR "${where}: no tuned entries and no GPU to take an "
        "architecture from; give ARCHS (e.g. ARCHS 90)")
    endif()
    string(REPLACE "." "" archs "${need_CC}")
  endif()
  set(arch_flags "")
  foreach(arch IN LISTS archs)
    list(APPEND arch_flags --arch ${arch})
  endforeach()
  set(deps "${spec}" ${build_dep})
  if(EXISTS "${tuned}")
    list(APPEND deps "${tuned}")
  endif()
  add_custom_command(
    OUTPUT "${header}"
    COMMAND "${build_tool}" generate "${spec}" --tuned "${tuned}" ${arch_flags}
            -o "${header}" --depfile "${header}.d"
    DEPENDS ${deps}
    DEPFILE "${header}.d"
    COMMENT "Helion: generating ${name}_tuned.h"
    VERBATIM)
  file(CONFIGURE OUTPUT "${gen_dir}/${name}_impl.c" CONTENT
    "/* Generated by HelionTune.cmake: the definitions of ${name}_tuned.h. */\n#define HELION_IMPLEMENTATION\n#include \"${name}_tuned.h\"\n")
  add_library(helion_kernel_${name} STATIC "${gen_dir}/${name}_impl.c" "${header}")
  target_include_directories(helion_kernel_${name} PUBLIC "${gen_dir}")
  if(TARGET helion::runtime)
    target_link_libraries(helion_kernel_${name} PUBLIC helion::runtime)
  else()
    target_link_libraries(helion_kernel_${name} PUBLIC helion_runtime)
  endif()
  add_library(helion::${name} ALIAS helion_kernel_${name})

  # Re-tune on demand: forced search of every shape; the results file
  # changes, so the header regenerates on the next build.
  _helion_shape_flags(all_shapes ${need_SHAPES})
  set(distill_cmd "")
  if(distill)
    set(distill_cmd COMMAND "${CMAKE_COMMAND}" -E env
      HELION_AUTOTUNE_PROGRESS_BAR=0 "${build_tool}" distill "${spec}"
      --tuned "${tuned}" ${all_shapes} ${search_flags})
    add_custom_target(helion_distill_${name} ${distill_cmd}
      COMMENT "Helion: distilling ${name}"
      USES_TERMINAL VERBATIM)
  endif()
  add_custom_target(helion_retune_${name}
    COMMAND "${CMAKE_COMMAND}" -E env HELION_FORCE_AUTOTUNE=1
            "${build_tool}" tune "${spec}" --tuned "${tuned}" ${all_shapes}
            ${search_flags} ${device_flags}
    ${distill_cmd}
    COMMENT "Helion: re-tuning ${name}"
    USES_TERMINAL VERBATIM)
  add_custom_target(helion_results_${name}
    COMMAND "${build_tool}" results "${spec}" --tuned "${tuned}" --need
    USES_TERMINAL VERBATIM)
  if(NOT TARGET helion_retune)
    add_custom_target(helion_retune)
    add_custom_target(helion_results)
  endif()
  add_dependencies(helion_retune helion_retune_${name})
  add_dependencies(helion_results helion_results_${name})
endfunction()
