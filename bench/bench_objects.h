// STIX objects the benchmarks post: GREEN IPv4 indicators with ids that
// name the run and the sample, so runs never collide in one store.
#pragma once

#include <cstdio>
#include <string>

namespace kizuna::bench {

// indicator--RRRRRRRR-0000-4000-8000-NNNNNNNNNNNN: run R, sample N.
inline std::string IndicatorId(int run, int n) {
  char text[80];
  std::snprintf(text, sizeof text, "indicator--%08d-0000-4000-8000-%012d", run, n);
  return text;
}

// A GREEN indicator `id` whose pattern is the IPv4 address 10.x.y.z of `k`.
inline std::string Indicator(const std::string& id, int k) {
  return "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" + id +
         "\",\"created\":\"2026-11-23T00:00:00.000Z\",\"modified\":\"2026-11-23T00:00:00.000Z\","
         "\"pattern\":\"[ipv4-addr:value = '10." +
         std::to_string((k >> 16) & 255) + "." + std::to_string((k >> 8) & 255) + "." +
         std::to_string(k & 255) +
         "']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-11-23T00:00:00Z\","
         "\"object_marking_refs\":[\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\"]}";
}

}  // namespace kizuna::bench
