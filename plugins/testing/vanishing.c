/*
 * vanishing.c - a library that libcmeter-needsmissing.so links against and that is never there at run
 * time.
 *
 * Why this file exists: the host must report dlopen's own message (dlerror) when a plugin's
 * dependency is missing, the commonest real failure (a vendor runtime not installed). The library is
 * built under a file name other than its SONAME, so nothing named libcmeter_vanishing.so exists.
 */
__attribute__((visibility("default"))) int cmeter_vanishing_answer(void);
int cmeter_vanishing_answer(void) {
  return 42;
}
