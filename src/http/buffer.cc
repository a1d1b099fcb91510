#include "http/buffer.h"

#include <algorithm>

namespace remora::http {

void Buffer::add(std::string_view data) {
  if (data.empty()) return;
  if (!slices_.empty()) {
    std::string& tail = slices_.back().data;
    size_t room = tail.capacity() - tail.size();
    if (room >= data.size()) {
      tail.append(data);
      length_ += data.size();
      return;
    }
  }
  Slice slice;
  slice.data.reserve(std::max(data.size(), kMinSliceSize));
  slice.data.append(data);
  slices_.push_back(std::move(slice));
  length_ += data.size();
}

void Buffer::move(Buffer& other) {
  if (&other == this || other.empty()) return;
  for (Slice& s : other.slices_) {
    // Small slices are copied so a chain of tiny writes does not become a
    // chain of tiny slices.
    if (s.size() < 512) {
      add(std::string_view(s.data).substr(s.start));
    } else {
      length_ += s.size();
      slices_.push_back(std::move(s));
    }
  }
  other.slices_.clear();
  other.length_ = 0;
}

void Buffer::move(Buffer& other, size_t size) {
  if (&other == this) return;
  size = std::min(size, other.length_);
  while (size > 0) {
    Slice& s = other.slices_.front();
    if (s.size() <= size) {
      size -= s.size();
      other.length_ -= s.size();
      if (s.size() < 512) {
        add(std::string_view(s.data).substr(s.start));
      } else {
        length_ += s.size();
        slices_.push_back(std::move(s));
      }
      other.slices_.pop_front();
    } else {
      add(std::string_view(s.data).substr(s.start, size));
      other.drain(size);
      size = 0;
    }
  }
}

void Buffer::drain(size_t size) {
  size = std::min(size, length_);
  length_ -= size;
  while (size > 0) {
    Slice& s = slices_.front();
    if (s.size() <= size) {
      size -= s.size();
      slices_.pop_front();
    } else {
      s.start += size;
      size = 0;
    }
  }
  if (length_ == 0) slices_.clear();
}

void Buffer::clear() {
  slices_.clear();
  length_ = 0;
}

std::string_view Buffer::linearize(size_t size) {
  size = std::min(size, length_);
  if (size == 0) return {};
  if (slices_.front().size() >= size) {
    const Slice& s = slices_.front();
    return std::string_view(s.data).substr(s.start, size);
  }
  Slice merged;
  merged.data.reserve(std::max(size, kMinSliceSize));
  size_t need = size;
  while (need > 0) {
    Slice& s = slices_.front();
    size_t take = std::min(need, s.size());
    merged.data.append(s.data, s.start, take);
    need -= take;
    if (take == s.size()) {
      slices_.pop_front();
    } else {
      s.start += take;
    }
  }
  slices_.push_front(std::move(merged));
  return std::string_view(slices_.front().data).substr(0, size);
}

std::vector<std::string_view> Buffer::slices() const {
  std::vector<std::string_view> out;
  out.reserve(slices_.size());
  for (const Slice& s : slices_)
    out.push_back(std::string_view(s.data).substr(s.start));
  return out;
}

std::string Buffer::toString() const {
  std::string out;
  out.reserve(length_);
  for (const Slice& s : slices_)
    out.append(s.data, s.start, std::string::npos);
  return out;
}

}  // namespace remora::http
