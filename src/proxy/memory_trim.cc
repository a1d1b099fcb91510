#include "proxy/memory_trim.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace remora::proxy {

size_t releaseStartupPages() {
  // smaps says, per mapping, whether any page was copied on write (the
  // relocated read-only data of a PIE binary is): such a mapping must keep
  // its pages, or the relocations would be lost.
  std::ifstream smaps("/proc/self/smaps");
  if (!smaps) return 0;
  size_t released = 0;
  std::string line;
  unsigned long start = 0, end = 0;
  bool candidate = false;
  auto finish = [&](bool anonymous_pages) {
    if (candidate && !anonymous_pages && end > start) {
      if (madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) == 0) {
        released += end - start;
      }
    }
    candidate = false;
  };
  while (std::getline(smaps, line)) {
    char perms[8] = {};
    unsigned long s = 0, e = 0, offset = 0, inode = 0;
    char dev[16] = {};
    int path_at = 0;
    if (sscanf(line.c_str(), "%lx-%lx %7s %lx %15s %lu %n", &s, &e, perms, &offset, dev, &inode,
               &path_at) >= 6 &&
        line.find(':') != std::string::npos && line[0] != 'V') {
      start = s;
      end = e;
      const char* path = line.c_str() + path_at;
      // Read-only file mappings only: code and constants of the binary and
      // libraries. Writable, anonymous and special ([vdso], [stack]) ones
      // are left alone.
      candidate = inode != 0 && perms[1] == '-' && perms[3] == 'p' && path[0] == '/';
      continue;
    }
    if (line.rfind("Anonymous:", 0) == 0) {
      unsigned long kb = 0;
      sscanf(line.c_str() + 10, "%lu", &kb);
      finish(kb != 0);
    }
  }
  return released;
}

}  // namespace remora::proxy
