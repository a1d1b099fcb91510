#include "pilot/ads/wire.h"

#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/slice.h>

#include <vector>

namespace remora::pilot {
namespace {

void deleteHeldBytes(void* held) {
  delete static_cast<std::shared_ptr<const std::string>*>(held);
}

}  // namespace

grpc::ByteBuffer encodeDiscoveryResponse(const std::string& version, const std::string& type_url,
                                         const std::string& nonce, const EncodedResponse& body) {
  // The fields other than resources, serialized by protobuf; fields may come
  // in any order on the wire, so the resources simply follow.
  envoy::service::discovery::v3::DiscoveryResponse head;
  head.set_version_info(version);
  head.set_type_url(type_url);
  head.set_nonce(nonce);
  std::string head_bytes = head.SerializeAsString();
  std::vector<grpc::Slice> slices;
  slices.reserve(body.resources.size() + 1);
  slices.emplace_back(head_bytes.data(), head_bytes.size());
  for (const auto& r : body.resources) {
    // The slice holds a reference to the shared bytes until gRPC has sent them.
    auto* held = new std::shared_ptr<const std::string>(r.bytes);
    slices.emplace_back(const_cast<char*>(r.bytes->data()), r.bytes->size(), deleteHeldBytes, held);
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

bool decodeDiscoveryRequest(grpc::ByteBuffer* buffer,
                            envoy::service::discovery::v3::DiscoveryRequest* out) {
  grpc::ProtoBufferReader reader(buffer);
  return out->ParseFromZeroCopyStream(&reader);
}

}  // namespace remora::pilot
