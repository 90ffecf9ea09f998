// CMosquitto owns nothing but the view of libmosquitto that Swift needs:
// the header, plus the macros Swift cannot import, as functions.
#ifndef CMOSQUITTO_SHIM_H
#define CMOSQUITTO_SHIM_H
#include <mosquitto.h>

static inline int cmosquitto_header_version(void) { return LIBMOSQUITTO_VERSION_NUMBER; }

#endif
