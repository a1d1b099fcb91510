#include "pilot/model/naming.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace remora::pilot {
namespace {

using Domains = std::vector<std::string>;

TEST(PilotNaming, ClusterNames) {
  EXPECT_EQ(clusterName(TrafficDirection::kOutbound, 9080, "", "ratings.default.svc.cluster.local"),
            "outbound|9080||ratings.default.svc.cluster.local");
  EXPECT_EQ(
      clusterName(TrafficDirection::kOutbound, 9080, "v1", "reviews.default.svc.cluster.local"),
      "outbound|9080|v1|reviews.default.svc.cluster.local");
  EXPECT_EQ(clusterName(TrafficDirection::kInbound, 9080, "", "reviews.default.svc.cluster.local"),
            "inbound|9080||reviews.default.svc.cluster.local");
}

TEST(PilotNaming, ParseClusterNameInvertsClusterName) {
  ClusterKey key;
  ASSERT_TRUE(parseClusterName("outbound|9080|v1|reviews.default.svc.cluster.local", &key));
  EXPECT_EQ(key.direction, TrafficDirection::kOutbound);
  EXPECT_EQ(key.port, 9080u);
  EXPECT_EQ(key.subset, "v1");
  EXPECT_EQ(key.host, "reviews.default.svc.cluster.local");
  ASSERT_TRUE(parseClusterName("inbound|80||a.b", &key));
  EXPECT_EQ(key.direction, TrafficDirection::kInbound);
  EXPECT_EQ(key.subset, "");
  EXPECT_EQ(clusterName(key.direction, key.port, key.subset, key.host), "inbound|80||a.b");
}

TEST(PilotNaming, ParseClusterNameRejectsOtherNames) {
  ClusterKey key;
  for (const char* name :
       {"BlackHoleCluster", "PassthroughCluster", "outbound|9080|v1", "sideways|80||a",
        "outbound|http||a", "outbound||v1|a", "outbound|999999||a"}) {
    EXPECT_FALSE(parseClusterName(name, &key)) << name;
  }
}

TEST(PilotNaming, ListenerNamesAndHostPorts) {
  EXPECT_EQ(listenerName("0.0.0.0", 9080), "0.0.0.0_9080");
  EXPECT_EQ(listenerName("10.244.0.21", 9080), "10.244.0.21_9080");
  EXPECT_EQ(hostPort("ratings.default.svc.cluster.local", 9080),
            "ratings.default.svc.cluster.local:9080");
  EXPECT_EQ(hostPort("10.96.0.13", 65535), "10.96.0.13:65535");
}

// The seed's route `9080` from a proxy in the same namespace, domain for domain.
TEST(PilotNaming, DomainsFromTheSameNamespaceAreTheSeeds) {
  EXPECT_EQ(virtualHostDomains("ratings.default.svc.cluster.local", 9080, {"10.254.234.130"},
                               "default", "cluster.local"),
            (Domains{"ratings.default.svc.cluster.local", "ratings.default.svc.cluster.local:9080",
                     "ratings", "ratings:9080", "ratings.default.svc.cluster",
                     "ratings.default.svc.cluster:9080", "ratings.default.svc",
                     "ratings.default.svc:9080", "ratings.default", "ratings.default:9080",
                     "10.254.234.130", "10.254.234.130:9080"}));
}

// A bare name would resolve in the caller's namespace, so a caller elsewhere
// must write at least name.namespace.
TEST(PilotNaming, DomainsFromAnotherNamespaceNeverHaveTheBareName) {
  Domains d = virtualHostDomains("ratings.default.svc.cluster.local", 9080, {"10.96.0.13"}, "prod",
                                 "cluster.local");
  EXPECT_EQ(d,
            (Domains{"ratings.default.svc.cluster.local", "ratings.default.svc.cluster.local:9080",
                     "ratings.default", "ratings.default:9080", "ratings.default.svc.cluster",
                     "ratings.default.svc.cluster:9080", "ratings.default.svc",
                     "ratings.default.svc:9080", "10.96.0.13", "10.96.0.13:9080"}));
  EXPECT_EQ(std::count(d.begin(), d.end(), "ratings"), 0);
}

TEST(PilotNaming, DomainsFollowTheMeshDomainSuffix) {
  EXPECT_EQ(
      virtualHostDomains("a.b.svc.example.org", 80, {}, "b", "example.org"),
      (Domains{"a.b.svc.example.org", "a.b.svc.example.org:80", "a", "a:80", "a.b.svc.example",
               "a.b.svc.example:80", "a.b.svc", "a.b.svc:80", "a.b", "a.b:80"}));
}

TEST(PilotNaming, DomainsOfExternalHostsHaveNoShortForms) {
  EXPECT_EQ(virtualHostDomains("api.example.com", 443, {}, "default", "cluster.local"),
            (Domains{"api.example.com", "api.example.com:443"}));
  EXPECT_EQ(virtualHostDomains("*.example.com", 80, {}, "default", "cluster.local"),
            (Domains{"*.example.com", "*.example.com:80"}));
}

TEST(PilotNaming, DomainsListEveryVip) {
  EXPECT_EQ(virtualHostDomains("billing.example.com", 8080, {"240.240.0.10", "240.240.0.11"},
                               "default", "cluster.local"),
            (Domains{"billing.example.com", "billing.example.com:8080", "240.240.0.10",
                     "240.240.0.10:8080", "240.240.0.11", "240.240.0.11:8080"}));
}

TEST(PilotNaming, ProtocolFromAppProtocolFirst) {
  EXPECT_EQ(protocolForServicePort("tcp-db", "http", "TCP"), Protocol::kHttp);
  EXPECT_EQ(protocolForServicePort("http", "tcp", "TCP"), Protocol::kTcp);
  EXPECT_EQ(protocolForServicePort("web", "kubernetes.io/h2c", "TCP"), Protocol::kHttp2);
  EXPECT_EQ(protocolForServicePort("web", "grpc", "TCP"), Protocol::kGrpc);
  // An appProtocol pilot does not know falls back to the name.
  EXPECT_EQ(protocolForServicePort("http-web", "example.com/custom", "TCP"), Protocol::kHttp);
}

TEST(PilotNaming, ProtocolFromPortNamePrefix) {
  struct Case {
    const char* name;
    Protocol want;
  };
  for (const Case& c :
       {Case{"http", Protocol::kHttp}, Case{"http-web", Protocol::kHttp},
        Case{"HTTP", Protocol::kHttp}, Case{"http2", Protocol::kHttp2},
        Case{"http2-api", Protocol::kHttp2}, Case{"grpc", Protocol::kGrpc},
        Case{"grpc-web", Protocol::kGrpc}, Case{"grpc-web-ui", Protocol::kGrpc},
        Case{"tcp", Protocol::kTcp}, Case{"tcp-db", Protocol::kTcp}, Case{"mongo", Protocol::kTcp},
        Case{"mysql", Protocol::kTcp}, Case{"redis", Protocol::kTcp}, Case{"https", Protocol::kTls},
        Case{"tls-api", Protocol::kTls}, Case{"web", Protocol::kTcp}, Case{"httpx", Protocol::kTcp},
        Case{"", Protocol::kTcp}}) {
    EXPECT_EQ(protocolForServicePort(c.name, "", "TCP"), c.want) << c.name;
  }
}

TEST(PilotNaming, UdpAndSctpPortsAreNotProxied) {
  EXPECT_EQ(protocolForServicePort("dns", "", "UDP"), Protocol::kUdp);
  EXPECT_EQ(protocolForServicePort("http", "http", "SCTP"), Protocol::kUdp);
  EXPECT_FALSE(isHttpProtocol(Protocol::kUdp));
}

TEST(PilotNaming, HttpFamily) {
  EXPECT_TRUE(isHttpProtocol(Protocol::kHttp));
  EXPECT_TRUE(isHttpProtocol(Protocol::kHttp2));
  EXPECT_TRUE(isHttpProtocol(Protocol::kGrpc));
  EXPECT_FALSE(isHttpProtocol(Protocol::kTcp));
  EXPECT_FALSE(isHttpProtocol(Protocol::kTls));
}

TEST(PilotNaming, ServiceEntryProtocols) {
  EXPECT_EQ(protocolForServiceEntryPort("HTTP"), Protocol::kHttp);
  EXPECT_EQ(protocolForServiceEntryPort("HTTP2"), Protocol::kHttp2);
  EXPECT_EQ(protocolForServiceEntryPort("GRPC"), Protocol::kGrpc);
  EXPECT_EQ(protocolForServiceEntryPort("TLS"), Protocol::kTls);
  EXPECT_EQ(protocolForServiceEntryPort("HTTPS"), Protocol::kTls);
  EXPECT_EQ(protocolForServiceEntryPort("MONGO"), Protocol::kTcp);
  EXPECT_EQ(protocolForServiceEntryPort("TCP"), Protocol::kTcp);
}

TEST(PilotNaming, ResolveHostAgainstTheRulesNamespace) {
  EXPECT_EQ(resolveHost("reviews", "default", "cluster.local"),
            "reviews.default.svc.cluster.local");
  EXPECT_EQ(resolveHost("reviews", "prod", "cluster.local"), "reviews.prod.svc.cluster.local");
  EXPECT_EQ(resolveHost("reviews.prod", "default", "cluster.local"),
            "reviews.prod.svc.cluster.local");
  EXPECT_EQ(resolveHost("reviews.prod.svc", "default", "cluster.local"),
            "reviews.prod.svc.cluster.local");
  EXPECT_EQ(resolveHost("reviews.prod.svc.cluster.local", "default", "cluster.local"),
            "reviews.prod.svc.cluster.local");
  EXPECT_EQ(resolveHost("api.example.com", "default", "cluster.local"), "api.example.com");
  EXPECT_EQ(resolveHost("*.example.com", "default", "cluster.local"), "*.example.com");
  EXPECT_EQ(resolveHost("reviews", "default", "example.org"), "reviews.default.svc.example.org");
}

TEST(PilotNaming, ServiceFqdn) {
  EXPECT_EQ(serviceFqdn("ratings", "default", "cluster.local"),
            "ratings.default.svc.cluster.local");
}

TEST(PilotNaming, HostPatterns) {
  EXPECT_TRUE(
      hostMatches("ratings.default.svc.cluster.local", "ratings.default.svc.cluster.local"));
  EXPECT_TRUE(hostMatches("*", "ratings.default.svc.cluster.local"));
  EXPECT_TRUE(hostMatches("*.default.svc.cluster.local", "ratings.default.svc.cluster.local"));
  EXPECT_TRUE(hostMatches("*.cluster.local", "ratings.default.svc.cluster.local"));
  EXPECT_FALSE(hostMatches("*.prod.svc.cluster.local", "ratings.default.svc.cluster.local"));
  EXPECT_FALSE(hostMatches("*.example.com", "example.com"));
  EXPECT_FALSE(hostMatches("ratings", "ratings.default.svc.cluster.local"));
}

}  // namespace
}  // namespace remora::pilot
