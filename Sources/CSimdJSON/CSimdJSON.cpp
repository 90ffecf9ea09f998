// The simdjson side of CSimdJSON.h: parse with the DOM API, then flatten the
// document into nodes. No C++ exception crosses into Swift.
#include "CSimdJSON.h"

#include <simdjson.h>

#include <new>
#include <vector>

struct mw_json_parser {
    simdjson::dom::parser parser;
    std::vector<mw_json_node> nodes;
};

namespace {

constexpr int kOutOfMemory = -1;

void flatten(simdjson::dom::element element, const uint8_t *key, uint32_t key_length,
             std::vector<mw_json_node> &out) {
    size_t index = out.size();
    out.push_back(mw_json_node{key, key_length, MW_JSON_NULL, 0, 0, nullptr, 0, 0.0});
    switch (element.type()) {
    case simdjson::dom::element_type::OBJECT:
        out[index].type = MW_JSON_OBJECT;
        for (auto field : simdjson::dom::object(element)) {
            flatten(field.value, reinterpret_cast<const uint8_t *>(field.key.data()),
                    static_cast<uint32_t>(field.key.size()), out);
        }
        break;
    case simdjson::dom::element_type::ARRAY:
        out[index].type = MW_JSON_ARRAY;
        for (auto item : simdjson::dom::array(element)) flatten(item, nullptr, 0, out);
        break;
    case simdjson::dom::element_type::INT64: {
        int64_t v = int64_t(element);
        out[index].type = MW_JSON_INTEGER;
        out[index].integer = v;
        out[index].number = double(v);
        break;
    }
    case simdjson::dom::element_type::UINT64:
        // Above INT64_MAX: as a number only.
        out[index].type = MW_JSON_DOUBLE;
        out[index].number = double(uint64_t(element));
        break;
    case simdjson::dom::element_type::DOUBLE:
        out[index].type = MW_JSON_DOUBLE;
        out[index].number = double(element);
        break;
    case simdjson::dom::element_type::STRING: {
        std::string_view s = std::string_view(element);
        out[index].type = MW_JSON_STRING;
        out[index].string = reinterpret_cast<const uint8_t *>(s.data());
        out[index].string_length = static_cast<uint32_t>(s.size());
        break;
    }
    case simdjson::dom::element_type::BOOL:
        out[index].type = bool(element) ? MW_JSON_TRUE : MW_JSON_FALSE;
        break;
    case simdjson::dom::element_type::NULL_VALUE:
        break;
    }
    out[index].end = static_cast<uint32_t>(out.size());
}

} // namespace

extern "C" mw_json_parser *mw_json_parser_create(void) {
    return new (std::nothrow) mw_json_parser();
}

extern "C" void mw_json_parser_destroy(mw_json_parser *parser) { delete parser; }

extern "C" int mw_json_parse(mw_json_parser *parser, const uint8_t *bytes, size_t length,
                             const mw_json_node **nodes, size_t *count) {
    try {
        simdjson::dom::element root;
        // realloc_if_needed: simdjson copies the input into a padded buffer of its own.
        auto error = parser->parser.parse(bytes, length, true).get(root);
        if (error) return int(error);
        parser->nodes.clear();
        flatten(root, nullptr, 0, parser->nodes);
        *nodes = parser->nodes.data();
        *count = parser->nodes.size();
        return 0;
    } catch (...) {
        return kOutOfMemory;
    }
}

extern "C" const char *mw_json_error_message(int code) {
    if (code == kOutOfMemory) return "out of memory";
    return simdjson::error_message(simdjson::error_code(code));
}

extern "C" int mw_json_error_is_bigint(int code) {
    // simdjson 3.0 has no BIGINT_ERROR of its own: an integer beyond 64 bits is a NUMBER_ERROR.
    return code == int(simdjson::NUMBER_ERROR) ? 1 : 0;
}
