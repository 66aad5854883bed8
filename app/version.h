/* version.h — Siali Label's own version, reported by /api/version and in every error body. */
#ifndef SIALI_VERSION_H
#define SIALI_VERSION_H

#define SIALI_VERSION "0.1.0"
#define SIALI_SHORT_VERSION "0.1"
#ifndef SIALI_GIT_COMMIT
#define SIALI_GIT_COMMIT ""
#endif

#endif
