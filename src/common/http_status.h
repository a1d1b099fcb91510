// The reason phrase of an HTTP status code, for every server that writes
// HTTP/1 status lines (the proxy's codec, its admin server, pilot's API).
#pragma once

#include <string_view>

namespace remora {

// "OK" for 200, ...; "" for a code without a registered phrase (the status
// line may leave it empty, RFC 9112 section 4).
std::string_view httpReasonPhrase(int status);

}  // namespace remora
