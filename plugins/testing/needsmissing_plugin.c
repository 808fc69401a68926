/*
 * needsmissing_plugin.c - a plugin whose dependency libcmeter_vanishing.so is absent at run time.
 *
 * Why this file exists: dlopen of this file fails with "libcmeter_vanishing.so: cannot open shared
 * object file: No such file or directory"; the host must pass that text on, not a generic "failed".
 * If the library ever did load, its table would be NULL, so no host mistakes it for a working plugin.
 */
#include <cmeter/plugin_abi.h>

int cmeter_vanishing_answer(void); /* from libcmeter_vanishing.so (see vanishing.c) */

const CMTR_Api* cmeter_plugin_get_api(void) {
  (void)cmeter_vanishing_answer();
  return NULL;
}
