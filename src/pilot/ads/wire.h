// DiscoveryResponse and DiscoveryRequest on the wire, for the ADS method
// registered as raw (ByteBuffer) with gRPC: a response is assembled from the
// already serialized resource entries of a PushContext, each one a gRPC slice
// that refers to the shared bytes (no copy per proxy), plus one small slice
// with version_info, type_url and nonce. Any thread.
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <string>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "pilot/ads/push_context.h"

namespace remora::pilot {

grpc::ByteBuffer encodeDiscoveryResponse(const std::string& version, const std::string& type_url,
                                         const std::string& nonce, const EncodedResponse& body);

// False when the bytes are not a DiscoveryRequest.
bool decodeDiscoveryRequest(grpc::ByteBuffer* buffer,
                            envoy::service::discovery::v3::DiscoveryRequest* out);

}  // namespace remora::pilot
