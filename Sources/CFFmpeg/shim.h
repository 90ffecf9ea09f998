// CFFmpeg: FFmpeg's demuxing libraries (libavformat, libavcodec, libavutil)
// seen from Swift, with static inline wrappers for the macros Swift cannot
// import. Every symbol of ours carries the cffmpeg_ prefix.
#ifndef CFFMPEG_SHIM_H
#define CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <libavutil/rational.h>
#include <libavutil/log.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>

static inline int64_t cffmpeg_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int cffmpeg_error_eof(void) { return AVERROR_EOF; }
static inline int cffmpeg_error_exit(void) { return AVERROR_EXIT; }
static inline int cffmpeg_time_base(void) { return AV_TIME_BASE; }
static inline int cffmpeg_pkt_flag_key(void) { return AV_PKT_FLAG_KEY; }
static inline int cffmpeg_pkt_flag_discard(void) { return AV_PKT_FLAG_DISCARD; }

/// open(2)'s O_PATH (a descriptor that only names a folder, for openat),
/// which glibc shows only under _GNU_SOURCE; its value on Linux otherwise.
static inline int cffmpeg_o_path(void) {
#ifdef O_PATH
    return O_PATH;
#else
    return 010000000;
#endif
}

/// FFmpeg's own log lines go nowhere by default, except that the last
/// error-level line of each thread is kept: an open that fails then says
/// why ("moov atom not found") beside the bare error code. Warnings and
/// chatter are dropped.
static inline char *cffmpeg_last_error_line(void) {
    static _Thread_local char line[512];
    return line;
}

static inline void cffmpeg_log_callback(void *context, int level, const char *format, va_list arguments) {
    if (level > AV_LOG_ERROR) return;
    int print_prefix = 0;
    av_log_format_line2(context, level, format, arguments, cffmpeg_last_error_line(), 512, &print_prefix);
}

static inline void cffmpeg_capture_log(void) { av_log_set_callback(cffmpeg_log_callback); }

/// The last error line logged on this thread (empty if none), then forgets it.
static inline void cffmpeg_take_last_error_line(char *buffer, size_t size) {
    snprintf(buffer, size, "%s", cffmpeg_last_error_line());
    cffmpeg_last_error_line()[0] = 0;
}

/// `value` as C's "%f" writes it (ffprobe's times), into `buffer`; the length.
static inline int cffmpeg_format_fixed(double value, char *buffer, size_t size) {
    return snprintf(buffer, size, "%f", value);
}

/// The text of an FFmpeg error code, into `buffer`.
static inline const char *cffmpeg_error_string(int code, char *buffer, size_t size) {
    av_strerror(code, buffer, size);
    return buffer;
}

#endif
