#include "pilot/translate/proto_writer.h"

namespace remora::pilot {

namespace {
// Each thread's scratch buffer, while no writer borrows it (null while one
// does: a second writer on the thread then gets a buffer of its own).
thread_local std::unique_ptr<char[]> t_scratch;
thread_local size_t t_scratch_capacity = 0;
// A bigger buffer than this is not kept (one huge message would pin it).
constexpr size_t kMaxScratch = 1 << 20;
}  // namespace

ProtoWriter::ProtoWriter(Scratch) : scratch_(true) {
  if (t_scratch) {
    buf_ = std::move(t_scratch);
    capacity_ = t_scratch_capacity;
  } else {
    capacity_ = 4096;
    buf_.reset(new char[capacity_]);
  }
}

ProtoWriter::~ProtoWriter() {
  if (scratch_ && buf_ && capacity_ <= kMaxScratch &&
      (!t_scratch || t_scratch_capacity < capacity_)) {
    t_scratch = std::move(buf_);
    t_scratch_capacity = capacity_;
  }
}

void ProtoWriter::message(int field, const google::protobuf::Message& m) {
  size_t len = m.ByteSizeLong();
  char* p = room(20 + len);
  p = varint(tagOf(field, kLengthDelimited), p);
  p = varint(len, p);
  m.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(p));
  pos_ = static_cast<size_t>(p - buf_.get()) + len;
}

void ProtoWriter::durationMs(int field, int64_t ms) {
  size_t at = begin(field);
  uint(1, static_cast<uint64_t>(ms / 1000));
  uint(2, static_cast<uint64_t>((ms % 1000) * 1000000));
  end(at);
}

void ProtoWriter::stringMetadata(int field, std::string_view filter, std::string_view key,
                                 std::string_view value) {
  size_t metadata = begin(field);
  size_t filter_entry = begin(1);  // map<string, Struct> filter_metadata
  stringAlways(1, filter);
  size_t fields = begin(2);       // Struct
  size_t field_entry = begin(1);  // map<string, Value> fields
  stringAlways(1, key);
  size_t v = begin(2);     // Value
  stringAlways(3, value);  // string_value, a oneof member
  end(v);
  end(field_entry);
  end(fields);
  end(filter_entry);
  end(metadata);
}

bool ProtoReader::varint(uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in_.empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return true;
  }
  return false;
}

bool ProtoReader::next(int* field, uint64_t* value, std::string_view* bytes) {
  uint64_t tag = 0;
  if (in_.empty() || !varint(&tag)) return false;
  *field = static_cast<int>(tag >> 3);
  switch (tag & 7) {
    case 0:
      return varint(value);
    case 1:
    case 5: {
      size_t n = (tag & 7) == 1 ? 8 : 4;
      if (in_.size() < n) return false;
      *bytes = in_.substr(0, n);
      in_.remove_prefix(n);
      return true;
    }
    case 2: {
      uint64_t len = 0;
      if (!varint(&len) || len > in_.size()) return false;
      *bytes = in_.substr(0, len);
      in_.remove_prefix(len);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace remora::pilot
