// Buffer: a chain of byte slices for the HTTP codecs and the sockets under
// them. Slices point into reference-counted blocks, so moving bytes from one
// buffer to another (a body from the read buffer to the parser, from the
// parser to the other side's output) shares the block instead of copying the
// bytes; only small pieces are copied, so that a chain of tiny writes does not
// become a chain of tiny slices. Reads go straight into the tail block
// (reserve/commit) and writes come straight out of the slices (iovecs).
//
// Thread: a Buffer and the blocks it references belong to one thread (the
// reference counts are not atomic). Blocks of the standard size are recycled
// through a small per-thread free list, so the request path does not call
// malloc for them.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace remora::http {

class Buffer {
 public:
  // The size of a block allocated for reads and for small appends.
  static constexpr size_t kBlockSize = 16 * 1024;

  Buffer() = default;
  explicit Buffer(std::string_view data) { add(data); }
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { clear(); }

  size_t length() const { return length_; }
  bool empty() const { return length_ == 0; }

  void add(std::string_view data);
  void add(const char* data, size_t size) { add(std::string_view(data, size)); }
  // Moves every byte of `other` to the end of this buffer; `other` is left empty.
  void move(Buffer& other);
  // Moves the first `size` bytes of `other` (at most its length) to the end of this buffer.
  void move(Buffer& other, size_t size);
  // Removes the first `size` bytes (at most length()).
  void drain(size_t size);
  void clear();

  // Writable room at the end, at least `min` bytes (one contiguous region);
  // fill some of it and commit() what was written. Nothing else may touch
  // the buffer in between.
  struct Room {
    char* data;
    size_t size;
  };
  Room reserve(size_t min);
  void commit(size_t size);

  // Makes the first `size` bytes (at most length()) contiguous and returns them.
  std::string_view linearize(size_t size);
  std::string_view linearize() { return linearize(length_); }

  // The readable slices in order. Valid until the next mutation.
  std::vector<std::string_view> slices() const;
  // Fills up to `max` iovecs with the first slices, for writev; returns how many.
  int fillIovec(iovec* iov, int max) const;
  size_t sliceCount() const { return slices_.size() - head_; }
  // The first readable slice ("" when empty).
  std::string_view frontSlice() const {
    if (head_ == slices_.size()) return {};
    const Slice& s = slices_[head_];
    return std::string_view(s.block->data() + s.start, s.end - s.start);
  }

  std::string toString() const;

 private:
  struct Block {
    uint32_t refs;
    uint32_t capacity;
    char* data() { return reinterpret_cast<char*>(this + 1); }
  };
  // Bytes [start, end) of `block` are readable.
  struct Slice {
    Block* block;
    uint32_t start;
    uint32_t end;
    size_t size() const { return end - start; }
  };
  // Smaller pieces are copied rather than shared (see the file comment).
  static constexpr size_t kCopyBelow = 512;

  static Block* allocate(size_t min_capacity);
  static void release(Block* b);
  // The tail slice when bytes may be appended to it in place.
  Slice* appendableTail();
  void pushSlice(Slice s);
  void popFront();

  // slices_[head_..] are live; drained slots are reused once all are gone.
  std::vector<Slice> slices_;
  size_t head_ = 0;
  size_t length_ = 0;
};

}  // namespace remora::http
