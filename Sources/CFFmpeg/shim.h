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

static inline int64_t cffmpeg_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int cffmpeg_error_eof(void) { return AVERROR_EOF; }
static inline int cffmpeg_error_exit(void) { return AVERROR_EXIT; }
static inline int cffmpeg_error_eagain(void) { return AVERROR(EAGAIN); }
static inline int cffmpeg_error(int posix) { return AVERROR(posix); }
static inline AVRational cffmpeg_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int cffmpeg_time_base(void) { return AV_TIME_BASE; }
static inline int cffmpeg_pkt_flag_key(void) { return AV_PKT_FLAG_KEY; }
static inline int cffmpeg_pkt_flag_discard(void) { return AV_PKT_FLAG_DISCARD; }
static inline int cffmpeg_pkt_flag_corrupt(void) { return AV_PKT_FLAG_CORRUPT; }

/// The text of an FFmpeg error code, into `buffer`.
static inline const char *cffmpeg_error_string(int code, char *buffer, size_t size) {
    av_strerror(code, buffer, size);
    return buffer;
}

#endif
