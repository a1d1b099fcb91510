#include "http/buffer.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace remora::http {

namespace {

// Recycled standard-size blocks. Bounded so that a burst does not pin memory
// for the life of the thread (kMaxFree x 16 KiB = 1 MiB per thread).
constexpr size_t kMaxFree = 64;

struct FreeList {
  std::vector<void*> blocks;
  ~FreeList() {
    for (void* b : blocks)
      std::free(b);
  }
};

FreeList& freeList() {
  thread_local FreeList list;
  return list;
}

}  // namespace

Buffer::Block* Buffer::allocate(size_t min_capacity) {
  size_t capacity = std::max(min_capacity, kBlockSize);
  void* mem = nullptr;
  if (capacity == kBlockSize) {
    FreeList& f = freeList();
    if (!f.blocks.empty()) {
      mem = f.blocks.back();
      f.blocks.pop_back();
    }
  }
  if (mem == nullptr) {
    mem = std::malloc(sizeof(Block) + capacity);
    if (mem == nullptr) std::abort();  // as operator new would, minus the exception
  }
  Block* b = static_cast<Block*>(mem);
  b->refs = 1;
  b->capacity = static_cast<uint32_t>(capacity);
  return b;
}

void Buffer::release(Block* b) {
  if (--b->refs > 0) return;
  if (b->capacity == kBlockSize) {
    FreeList& f = freeList();
    if (f.blocks.size() < kMaxFree) {
      f.blocks.push_back(b);
      return;
    }
  }
  std::free(b);
}

Buffer::Buffer(Buffer&& other) noexcept
    : slices_(std::move(other.slices_)), head_(other.head_), length_(other.length_) {
  other.slices_.clear();
  other.head_ = 0;
  other.length_ = 0;
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    clear();
    slices_ = std::move(other.slices_);
    head_ = other.head_;
    length_ = other.length_;
    other.slices_.clear();
    other.head_ = 0;
    other.length_ = 0;
  }
  return *this;
}

Buffer::Slice* Buffer::appendableTail() {
  if (head_ == slices_.size()) return nullptr;
  Slice& t = slices_.back();
  return t.block->refs == 1 && t.end < t.block->capacity ? &t : nullptr;
}

void Buffer::pushSlice(Slice s) {
  if (head_ > 0 && head_ == slices_.size()) {
    slices_.clear();
    head_ = 0;
  }
  slices_.push_back(s);
}

void Buffer::popFront() {
  release(slices_[head_].block);
  if (++head_ == slices_.size()) {
    slices_.clear();
    head_ = 0;
  }
}

void Buffer::add(std::string_view data) {
  while (!data.empty()) {
    Slice* t = appendableTail();
    if (t == nullptr) {
      Block* b = allocate(data.size() > kBlockSize ? data.size() : kBlockSize);
      pushSlice(Slice{b, 0, 0});
      t = &slices_.back();
    }
    size_t n = std::min<size_t>(data.size(), t->block->capacity - t->end);
    std::memcpy(t->block->data() + t->end, data.data(), n);
    t->end += static_cast<uint32_t>(n);
    length_ += n;
    data.remove_prefix(n);
  }
}

Buffer::Room Buffer::reserve(size_t min) {
  Slice* t = appendableTail();
  if (t == nullptr || t->block->capacity - t->end < min) {
    Block* b = allocate(min);
    pushSlice(Slice{b, 0, 0});
    t = &slices_.back();
  }
  return Room{t->block->data() + t->end, t->block->capacity - t->end};
}

void Buffer::commit(size_t size) {
  if (size == 0) {
    // Drop an empty slice that reserve() may have added.
    if (head_ < slices_.size() && slices_.back().end == slices_.back().start) {
      release(slices_.back().block);
      slices_.pop_back();
      if (head_ == slices_.size()) {
        slices_.clear();
        head_ = 0;
      }
    }
    return;
  }
  slices_.back().end += static_cast<uint32_t>(size);
  length_ += size;
}

void Buffer::move(Buffer& other) {
  if (&other == this || other.empty()) return;
  for (size_t i = other.head_; i < other.slices_.size(); ++i) {
    Slice& s = other.slices_[i];
    Slice* t = appendableTail();
    if (s.size() < kCopyBelow && t != nullptr && t->block->capacity - t->end >= s.size()) {
      std::memcpy(t->block->data() + t->end, s.block->data() + s.start, s.size());
      t->end += static_cast<uint32_t>(s.size());
      length_ += s.size();
      release(s.block);
    } else if (s.size() > 0) {
      length_ += s.size();
      pushSlice(s);
    } else {
      release(s.block);
    }
  }
  other.slices_.clear();
  other.head_ = 0;
  other.length_ = 0;
}

void Buffer::move(Buffer& other, size_t size) {
  if (&other == this) return;
  size = std::min(size, other.length_);
  while (size > 0) {
    Slice& s = other.slices_[other.head_];
    if (s.size() <= size) {
      size -= s.size();
      other.length_ -= s.size();
      Slice whole = s;
      // Ownership of the block reference moves with the slice.
      if (++other.head_ == other.slices_.size()) {
        other.slices_.clear();
        other.head_ = 0;
      }
      Slice* t = appendableTail();
      if (whole.size() < kCopyBelow && t != nullptr &&
          t->block->capacity - t->end >= whole.size()) {
        std::memcpy(t->block->data() + t->end, whole.block->data() + whole.start, whole.size());
        t->end += static_cast<uint32_t>(whole.size());
        length_ += whole.size();
        release(whole.block);
      } else {
        length_ += whole.size();
        pushSlice(whole);
      }
    } else {
      if (size < kCopyBelow) {
        add(std::string_view(s.block->data() + s.start, size));
      } else {
        ++s.block->refs;
        pushSlice(Slice{s.block, s.start, static_cast<uint32_t>(s.start + size)});
        length_ += size;
      }
      s.start += static_cast<uint32_t>(size);
      other.length_ -= size;
      size = 0;
    }
  }
}

void Buffer::drain(size_t size) {
  size = std::min(size, length_);
  length_ -= size;
  while (size > 0) {
    Slice& s = slices_[head_];
    if (s.size() <= size) {
      size -= s.size();
      popFront();
    } else {
      s.start += static_cast<uint32_t>(size);
      size = 0;
    }
  }
  if (length_ == 0) clear();
}

void Buffer::clear() {
  for (size_t i = head_; i < slices_.size(); ++i)
    release(slices_[i].block);
  slices_.clear();
  head_ = 0;
  length_ = 0;
}

std::string_view Buffer::linearize(size_t size) {
  size = std::min(size, length_);
  if (size == 0) return {};
  Slice& front = slices_[head_];
  if (front.size() >= size) return std::string_view(front.block->data() + front.start, size);
  Block* b = allocate(size);
  uint32_t filled = 0;
  size_t need = size;
  while (need > 0) {
    Slice& s = slices_[head_];
    size_t take = std::min(need, s.size());
    std::memcpy(b->data() + filled, s.block->data() + s.start, take);
    filled += static_cast<uint32_t>(take);
    need -= take;
    if (take == s.size()) {
      release(s.block);
      ++head_;
    } else {
      s.start += static_cast<uint32_t>(take);
    }
  }
  // Put the merged slice in front of what is left.
  if (head_ > 0) {
    slices_[--head_] = Slice{b, 0, filled};
  } else {
    slices_.insert(slices_.begin(), Slice{b, 0, filled});
  }
  return std::string_view(b->data(), size);
}

std::vector<std::string_view> Buffer::slices() const {
  std::vector<std::string_view> out;
  out.reserve(sliceCount());
  for (size_t i = head_; i < slices_.size(); ++i) {
    const Slice& s = slices_[i];
    out.emplace_back(s.block->data() + s.start, s.size());
  }
  return out;
}

int Buffer::fillIovec(iovec* iov, int max) const {
  int n = 0;
  for (size_t i = head_; i < slices_.size() && n < max; ++i) {
    const Slice& s = slices_[i];
    if (s.size() == 0) continue;
    iov[n].iov_base = s.block->data() + s.start;
    iov[n].iov_len = s.size();
    ++n;
  }
  return n;
}

std::string Buffer::toString() const {
  std::string out;
  out.reserve(length_);
  for (size_t i = head_; i < slices_.size(); ++i) {
    const Slice& s = slices_[i];
    out.append(s.block->data() + s.start, s.size());
  }
  return out;
}

}  // namespace remora::http
