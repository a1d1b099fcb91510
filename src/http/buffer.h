// Buffer: a small chain of byte slices for the HTTP codecs. Appends go into
// the tail slice while it has room, so many small writes (status line, header
// lines, chunk framing) cost few allocations; draining from the front never
// moves bytes. Moving one Buffer into another splices whole slices.
//
// Deliberately minimal: the network layer has its own buffer and adapts to
// this one at the codec boundary (slices() feeds writev, add() takes reads).
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace remora::http {

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::string_view data) { add(data); }
  Buffer(Buffer&&) = default;
  Buffer& operator=(Buffer&&) = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

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

  // Makes the first `size` bytes (at most length()) contiguous and returns them.
  std::string_view linearize(size_t size);
  std::string_view linearize() { return linearize(length_); }

  // The readable slices in order, e.g. for writev. Valid until the next mutation.
  std::vector<std::string_view> slices() const;
  size_t sliceCount() const { return slices_.size(); }
  // The first readable slice ("" when empty).
  std::string_view frontSlice() const {
    return slices_.empty() ? std::string_view()
                           : std::string_view(slices_.front().data).substr(slices_.front().start);
  }

  std::string toString() const;

 private:
  // One slice: bytes [start, data.size()) are readable. Slices never shrink
  // their allocation, so appending into the tail reuses its spare capacity.
  struct Slice {
    std::string data;
    size_t start = 0;
    size_t size() const { return data.size() - start; }
  };
  static constexpr size_t kMinSliceSize = 4096;

  std::deque<Slice> slices_;
  size_t length_ = 0;
};

}  // namespace remora::http
