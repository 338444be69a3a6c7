// Escaping of trace strings (argv, paths, comm, interface names) for output.
// Trace strings are bytes from the live system: any byte may appear.
#pragma once

#include <string_view>

#include "proctape/replay/output.h"

namespace proctape::replay {

// Appends `text` as a JSON string, quotes included. `"` and `\` are escaped,
// control characters become \n, \t, \r, \b, \f or \u00XX, and every byte that
// is not part of a well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) becomes \ufffd, so the output is always
// valid UTF-8 JSON.
void appendJsonString(Buffer& out, std::string_view text);

// Appends `text` for one line of human text: printable bytes and well-formed
// UTF-8 as they are; `\` as `\\`; control characters and invalid bytes as
// \n, \t, \r or \xNN. When `quoteSpaces` is set, a space is shown as `\x20`
// too, so that words of an argv list stay apart.
void appendTextString(Buffer& out, std::string_view text, bool quoteSpaces = false);

}  // namespace proctape::replay
