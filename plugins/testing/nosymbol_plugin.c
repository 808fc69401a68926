/*
 * nosymbol_plugin.c - a valid shared library that is not a cmeter plugin.
 *
 * Why this file exists: the host must tell "loaded, but no cmeter_plugin_get_api symbol" apart from
 * "could not be loaded". This library loads fine and exports one near-miss symbol, so the host's
 * dlsym fails and its message can name the symbol it looked for.
 */
#include <cmeter/plugin_abi.h>

/* Deliberately not cmeter_plugin_get_api. */
CMTR_EXPORT int cmeter_plugin_get_api_missing(void);
int cmeter_plugin_get_api_missing(void) {
  return 0;
}
