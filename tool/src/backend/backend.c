/* backend.c: what all backends share: names of result kinds. */
#include "backend/backend.h"

const char *helion_result_kind_name(helion_result_kind k) {
  switch (k) {
  case HELION_RESULT_OK:
    return "ok";
  case HELION_RESULT_COMPILE:
    return "compile";
  case HELION_RESULT_RUNTIME:
    return "runtime";
  case HELION_RESULT_ACCURACY:
    return "accuracy";
  case HELION_RESULT_TIMEOUT:
    return "timeout";
  }
  return "unknown";
}
