#ifndef DAILYDIGEST_CUCHARDET_SHIM_H
#define DAILYDIGEST_CUCHARDET_SHIM_H

/*
 * uchardet, the freedesktop.org encoding detector (Debian: libuchardet-dev); its header is found
 * through pkg-config (`uchardet.pc` adds -I/usr/include/uchardet). Nothing to wrap: every function
 * of its C API takes plain arguments. https://www.freedesktop.org/wiki/Software/uchardet/
 */
#include <uchardet.h>

#endif
