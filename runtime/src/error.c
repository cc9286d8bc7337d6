/* error.c: the calling thread's last error message (helion_fail,
 * helion_last_error). */
#include <stdarg.h>
#include <stdio.h>

#include "helion/runtime.h"

/* One message per thread; 1 KiB holds a driver error plus what to do. */
static _Thread_local char last_error[1024];

helion_status helion_fail(helion_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof(last_error), fmt, ap);
  va_end(ap);
  return status;
}

const char *helion_last_error(void) { return last_error; }
