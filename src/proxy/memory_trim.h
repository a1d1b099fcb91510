// Gives back the pages that only start-up needed. Loading the configuration
// runs a lot of code once (YAML and JSON parsing, protobuf reflection, the
// dynamic linker's symbol tables) and the kernel maps whole neighbourhoods of
// the binary and of the shared libraries while it runs (fault-around,
// readahead), so a proxy that has done nothing yet carries megabytes of code
// it will not run again. Dropping the read-only, unmodified file mappings
// leaves them in the page cache; whatever is used later faults back in from
// there, so the resident set becomes the code actually in use.
//
// Thread: any, once the configuration is loaded (other threads may run: a
// dropped page is simply faulted in again by whoever needs it).
#pragma once

#include <cstddef>

namespace remora::proxy {

// Returns the number of bytes advised away.
size_t releaseStartupPages();

}  // namespace remora::proxy
