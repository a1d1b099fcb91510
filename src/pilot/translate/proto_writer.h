// Protocol buffers wire format written straight into a string, for the shared
// resources pilot builds by the thousand (assignments, EDS clusters, virtual
// hosts): building a message tree for each one, only to serialize it, cost
// most of the first proxy's translation in allocations (every string over
// 15 bytes is a malloc even on an arena) and in map entries of metadata.
//
// The output is exactly what protobuf's serializer writes for the same
// message (proto_writer_test.cc checks it shape by shape), provided the
// caller follows its rules:
// - fields in field-number order (protobuf's C++ serializer writes known
//   fields in that order, oneof members included);
// - proto3 scalars holding their default (0, "", false) are left out: uint()
//   and string() do it; a oneof member is written even when it is the
//   default, with uintAlways()/stringAlways();
// - a message field that is set is written even when empty (begin()/end(),
//   empty());
// - a map entry has both its key and its value, even when default
//   (stringMetadata()).
#pragma once

#include <google/protobuf/message.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace remora::pilot {

// Serialized bytes in a buffer of their own: handed from the writer to the
// resource without zero-filling or copying it (a std::string would do both).
class WireBytes {
 public:
  WireBytes() = default;
  WireBytes(std::unique_ptr<char[]> data, size_t size) : data_(std::move(data)), size_(size) {}
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
};

class ProtoWriter {
 public:
  // `reserve`: the expected size; the buffer grows as needed.
  explicit ProtoWriter(size_t reserve = 256)
      : buf_(new char[std::max<size_t>(reserve, 16)]), capacity_(std::max<size_t>(reserve, 16)) {}
  // A writer that borrows its thread's scratch buffer and gives it back when
  // destroyed: for small messages copied out of it (EncodedMessage::copyOf),
  // so that building thousands of them allocates no buffer for each and
  // writes into memory that is already in cache.
  struct Scratch {};
  explicit ProtoWriter(Scratch);
  ~ProtoWriter();
  ProtoWriter(const ProtoWriter&) = delete;
  ProtoWriter& operator=(const ProtoWriter&) = delete;

  // Bytes written so far.
  size_t size() const { return pos_; }
  // What was written (valid until the next write).
  std::string_view bytes() const { return {buf_.get(), pos_}; }
  // The message; the writer is empty afterwards.
  WireBytes take() {
    WireBytes out(std::move(buf_), pos_);
    capacity_ = pos_ = 0;
    return out;
  }

  void uint(int field, uint64_t v) {
    if (v != 0) uintAlways(field, v);
  }
  void uintAlways(int field, uint64_t v) {
    char* p = room(20);
    p = varint(tagOf(field, kVarint), p);
    pos_ = static_cast<size_t>(varint(v, p) - buf_.get());
  }
  void string(int field, std::string_view s) {
    if (!s.empty()) stringAlways(field, s);
  }
  void stringAlways(int field, std::string_view s) {
    char* p = room(20 + s.size());
    p = varint(tagOf(field, kLengthDelimited), p);
    p = varint(s.size(), p);
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    pos_ = static_cast<size_t>(p - buf_.get()) + s.size();
  }
  // A string field made of `parts`, one after the other (saves building the
  // string first).
  void stringOf(int field, std::initializer_list<std::string_view> parts) {
    size_t len = 0;
    for (auto p : parts)
      len += p.size();
    char* p = room(20 + len);
    p = varint(tagOf(field, kLengthDelimited), p);
    p = varint(len, p);
    for (auto part : parts) {
      if (!part.empty()) std::memcpy(p, part.data(), part.size());
      p += part.size();
    }
    pos_ = static_cast<size_t>(p - buf_.get());
  }
  // A repeated scalar field, packed (proto3's encoding for repeated
  // numbers); nothing when there are none.
  void packedUints(int field, std::span<const uint64_t> values) {
    if (values.empty()) return;
    size_t at = begin(field);
    for (uint64_t v : values) {
      char* p = room(10);
      pos_ = static_cast<size_t>(varint(v, p) - buf_.get());
    }
    end(at);
  }
  // A set message field with no fields set (e.g. `ads {}`).
  void empty(int field) {
    char* p = room(11);
    p = varint(tagOf(field, kLengthDelimited), p);
    *p++ = 0;
    pos_ = static_cast<size_t>(p - buf_.get());
  }
  // A message field whose body is written next; end() with what begin()
  // returned closes it. The length is not known in advance: one byte is
  // reserved, enough for bodies under 128 bytes; longer ones move their body
  // by the few bytes more the length needs.
  size_t begin(int field) {
    empty(field);
    return pos_;
  }
  // Returns the body's length: the body is the last that many bytes written.
  size_t end(size_t start) {
    size_t len = pos_ - start;
    if (len < 0x80) {
      buf_[start - 1] = static_cast<char>(len);
      return len;
    }
    char digits[10];
    size_t n = static_cast<size_t>(varint(len, digits) - digits);
    room(n - 1);
    char* body = buf_.get() + start;
    std::memmove(body + n - 1, body, len);
    std::memcpy(body - 1, digits, n);
    pos_ += n - 1;
    return len;
  }
  // Drops a message field begun at `start` (with begin(field)) and all of
  // its body.
  void cancel(int field, size_t start) {
    char digits[10];
    pos_ = start - 1 - static_cast<size_t>(varint(tagOf(field, 0), digits) - digits);
  }
  // A message field whose serialized body is `body` (e.g. taken from an
  // earlier resource).
  void raw(int field, std::string_view body) { stringAlways(field, body); }
  // A message field serialized by protobuf (shapes too rare or too varied to
  // write by hand).
  void message(int field, const google::protobuf::Message& m);

  // Well-known types and Envoy's common shapes.
  // google.protobuf.UInt32Value / BoolValue: present, with `value` unless 0.
  void uint32Value(int field, uint32_t value) {
    size_t at = begin(field);
    uint(1, value);
    end(at);
  }
  // google.protobuf.Duration from milliseconds (>= 0).
  void durationMs(int field, int64_t ms);
  // envoy.config.core.v3.Metadata with filter_metadata[filter].fields[key] =
  // string_value `value`.
  void stringMetadata(int field, std::string_view filter, std::string_view key,
                      std::string_view value);

 private:
  static constexpr int kVarint = 0;
  static constexpr int kLengthDelimited = 2;

  static uint64_t tagOf(int field, int wire_type) {
    return (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type);
  }
  static char* varint(uint64_t v, char* p) {
    while (v >= 0x80) {
      *p++ = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    return p;
  }
  // Where the next `n` bytes go (valid until the next write).
  char* room(size_t n) {
    if (pos_ + n > capacity_) grow(n);
    return buf_.get() + pos_;
  }
  void grow(size_t n) {
    size_t capacity = std::max(capacity_ * 2, pos_ + n);
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (pos_ != 0) std::memcpy(bigger.get(), buf_.get(), pos_);
    buf_ = std::move(bigger);
    capacity_ = capacity;
  }

  // Written bytes are [0, pos_); up to capacity_ is room (not initialised).
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t pos_ = 0;
  bool scratch_ = false;
};

// Reading back what ProtoWriter (or protobuf) wrote, one field at a time:
// enough to find fields of a serialized message without parsing it.
class ProtoReader {
 public:
  explicit ProtoReader(std::string_view bytes) : in_(bytes) {}
  // The next field; false at the end or on malformed input. For
  // length-delimited fields `bytes` is the value, for varints `value`.
  bool next(int* field, uint64_t* value, std::string_view* bytes);

 private:
  bool varint(uint64_t* v);
  std::string_view in_;
};

}  // namespace remora::pilot
