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

#include <cstdint>
#include <string>
#include <string_view>

namespace remora::pilot {

class ProtoWriter {
 public:
  explicit ProtoWriter(std::string* out) : out_(out) {}

  std::string* out() const { return out_; }

  void uint(int field, uint64_t v) {
    if (v != 0) uintAlways(field, v);
  }
  void uintAlways(int field, uint64_t v) {
    tag(field, kVarint);
    varint(v);
  }
  void string(int field, std::string_view s) {
    if (!s.empty()) stringAlways(field, s);
  }
  void stringAlways(int field, std::string_view s) {
    tag(field, kLengthDelimited);
    varint(s.size());
    out_->append(s);
  }
  // A set message field with no fields set (e.g. `ads {}`).
  void empty(int field) {
    tag(field, kLengthDelimited);
    out_->push_back(0);
  }
  // A message field whose body is written next; end() with what begin()
  // returned closes it. The length is not known in advance: one byte is
  // reserved, enough for bodies under 128 bytes; longer ones move their body
  // by the few bytes more the length needs.
  size_t begin(int field) {
    tag(field, kLengthDelimited);
    out_->push_back(0);
    return out_->size();
  }
  // Returns the body's length: the body is the last that many bytes of out().
  size_t end(size_t start) {
    size_t len = out_->size() - start;
    if (len < 0x80) {
      (*out_)[start - 1] = static_cast<char>(len);
      return len;
    }
    char buf[10];
    size_t n = encodeVarint(len, buf);
    (*out_)[start - 1] = buf[0];
    out_->insert(start, buf + 1, n - 1);
    return len;
  }
  // Drops a message field begun at `start` (with begin(field)) and all of
  // its body.
  void cancel(int field, size_t start) {
    char buf[10];
    out_->resize(start - 1 - encodeVarint(static_cast<uint64_t>(field) << 3, buf));
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
  // string_value `value` (what setStringMetadata sets on a message).
  void stringMetadata(int field, std::string_view filter, std::string_view key,
                      std::string_view value);

 private:
  static constexpr int kVarint = 0;
  static constexpr int kLengthDelimited = 2;

  static size_t encodeVarint(uint64_t v, char* buf) {
    size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    return n;
  }
  void varint(uint64_t v) {
    char buf[10];
    out_->append(buf, encodeVarint(v, buf));
  }
  void tag(int field, int wire_type) {
    varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
  }

  std::string* out_;
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
