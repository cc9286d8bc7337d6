/* status.c: status code descriptions and the library version string. */
#include "helion/runtime.h"

const char *helion_status_str(helion_status status) {
  switch (status) {
#define HELION_STATUS_STR_(name, code, msg)                                    \
  case HELION_##name:                                                          \
    return msg;
    HELION_STATUS_MAP(HELION_STATUS_STR_)
#undef HELION_STATUS_STR_
  }
  return "unknown status";
}

const char *helion_version(void) { return HELION_VERSION_STRING; }
