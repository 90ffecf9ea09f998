// CSimdJSON owns Muckwatch's JSON parsing: a C interface over simdjson
// (Debian's libsimdjson-dev), which Swift cannot import directly (C++). A
// document is parsed whole and handed to Swift as a flat array of nodes in
// document order; Swift reads it without copying.
#ifndef CSIMDJSON_H
#define CSIMDJSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MW_JSON_NULL = 0,
    MW_JSON_FALSE = 1,
    MW_JSON_TRUE = 2,
    /// A whole number that fits an int64_t (`integer`; `number` holds it as a double too).
    MW_JSON_INTEGER = 3,
    /// Any other number (`number`).
    MW_JSON_DOUBLE = 4,
    MW_JSON_STRING = 5,
    MW_JSON_ARRAY = 6,
    MW_JSON_OBJECT = 7,
} mw_json_type;

/// One value of a document. Containers are followed by their members
/// (objects: each member's node carries its key), and `end` is the index just
/// past the container's last descendant, so a reader can skip it.
typedef struct {
    /// The member's key (UTF-8, unescaped) when the parent is an object; else NULL.
    const uint8_t *key;
    uint32_t key_length;
    uint32_t type;
    uint32_t end;
    /// MW_JSON_STRING: the string's UTF-8 bytes, unescaped (may contain NUL).
    uint32_t string_length;
    const uint8_t *string;
    int64_t integer;
    double number;
} mw_json_node;

typedef struct mw_json_parser mw_json_parser;

/// NULL if memory is exhausted.
mw_json_parser *mw_json_parser_create(void);
void mw_json_parser_destroy(mw_json_parser *parser);

/// Parses `length` bytes. On success returns 0 and points `*nodes` at
/// `*count` (>= 1) nodes, valid until the next parse with this parser or its
/// destruction. On failure returns a nonzero code for mw_json_error_message.
int mw_json_parse(mw_json_parser *parser, const uint8_t *bytes, size_t length,
                  const mw_json_node **nodes, size_t *count);

/// A short English description of a failure code (static storage).
/// Whether `code` is the error simdjson gives an integer beyond 64 bits (among other bad numbers).
int mw_json_error_is_bigint(int code);
const char *mw_json_error_message(int code);

#ifdef __cplusplus
}
#endif

#endif
