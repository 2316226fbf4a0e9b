#include "platform/route_table.h"

#include <algorithm>

namespace kizuna::platform {
namespace {

// The non-empty segments of a path: "/api//v1/x/" -> "api", "v1", "x".
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool ValidParamName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

const std::string& PathParams::Get(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [key, value] : values_) {
    if (key == name) return value;
  }
  return kEmpty;
}

bool PathParams::Has(std::string_view name) const {
  return std::any_of(values_.begin(), values_.end(),
                     [&](const auto& entry) { return entry.first == name; });
}

void PathParams::Add(std::string name, std::string value) {
  values_.emplace_back(std::move(name), std::move(value));
}

void RouteTable::Add(std::string method, std::string_view pattern, RouteHandler handler,
                     RouteOptions options) {
  auto fail = [&](Status error) {
    if (status_.ok()) status_ = std::move(error);
  };
  const std::string what = method + " " + std::string(pattern);
  if (method.empty()) return fail(InvalidArgument("route " + what + ": no method"));
  if (!handler) return fail(InvalidArgument("route " + what + ": no handler"));
  if (pattern.empty() || pattern.front() != '/') {
    return fail(InvalidArgument("route " + what + ": a pattern starts with '/'"));
  }
  Route route;
  route.method = std::move(method);
  route.pattern = std::string(pattern);
  route.handler = std::move(handler);
  route.options = options;
  std::vector<std::string_view> names;
  const std::vector<std::string_view> parts = SplitPath(pattern);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    if (part.front() == '{') {
      if (part.back() != '}') {
        return fail(
            InvalidArgument("route " + what + ": unclosed '{' in '" + std::string(part) + "'"));
      }
      std::string_view name = part.substr(1, part.size() - 2);
      SegmentKind kind = SegmentKind::kParam;
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        name.remove_suffix(3);
        kind = SegmentKind::kRest;
        if (i + 1 != parts.size()) {
          return fail(InvalidArgument("route " + what + ": '{" + std::string(name) +
                                      "...}' must be the last segment"));
        }
      }
      if (!ValidParamName(name)) {
        return fail(InvalidArgument("route " + what + ": bad parameter name '" + std::string(name) +
                                    "' (letters, digits, '_')"));
      }
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        return fail(
            InvalidArgument("route " + what + ": parameter '" + std::string(name) + "' twice"));
      }
      names.push_back(name);
      route.segments.push_back({kind, std::string(name)});
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) {
        return fail(InvalidArgument("route " + what + ": '{' and '}' enclose a whole segment"));
      }
      route.segments.push_back({SegmentKind::kLiteral, std::string(part)});
    }
  }
  for (const Route& existing : routes_) {
    if (existing.method != route.method || existing.segments.size() != route.segments.size()) {
      continue;
    }
    bool same = true;
    for (size_t i = 0; i < route.segments.size() && same; ++i) {
      const Segment& a = existing.segments[i];
      const Segment& b = route.segments[i];
      same = a.kind == b.kind && (a.kind != SegmentKind::kLiteral || a.text == b.text);
    }
    if (same) {
      return fail(AlreadyExists("route " + what + ": already registered as " + existing.method +
                                " " + existing.pattern));
    }
  }
  routes_.push_back(std::move(route));
}

bool RouteTable::Matches(const Route& route, const std::vector<std::string_view>& path,
                         PathParams* params) {
  size_t i = 0;
  for (const Segment& segment : route.segments) {
    if (segment.kind == SegmentKind::kRest) {
      if (params) {
        std::string rest;
        for (size_t j = i; j < path.size(); ++j) {
          if (j > i) rest += '/';
          rest += path[j];
        }
        params->Add(segment.text, std::move(rest));
      }
      return true;
    }
    if (i >= path.size()) return false;
    if (segment.kind == SegmentKind::kLiteral) {
      if (segment.text != path[i]) return false;
    } else if (params) {
      params->Add(segment.text, std::string(path[i]));
    }
    ++i;
  }
  return i == path.size();
}

bool RouteTable::MoreSpecific(const Route& a, const Route& b) {
  size_t n = std::min(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < n; ++i) {
    // kLiteral < kParam < kRest: the lower kind is the more specific.
    if (a.segments[i].kind != b.segments[i].kind) return a.segments[i].kind < b.segments[i].kind;
  }
  // Both matched the same path, so they differ only past a `{rest...}`; the
  // longer pattern consumed more segments itself.
  return a.segments.size() > b.segments.size();
}

const RouteTable::Route* RouteTable::Find(const http::Request& request,
                                          const std::vector<std::string_view>& path,
                                          bool* path_known) const {
  const Route* best = nullptr;
  for (const Route& route : routes_) {
    if (!Matches(route, path, nullptr)) continue;
    *path_known = true;
    if (route.method != request.method) continue;
    if (!best || MoreSpecific(route, *best)) best = &route;
  }
  return best;
}

Lane RouteTable::LaneOf(const http::Request& request) const {
  bool path_known = false;
  const Route* best = Find(request, SplitPath(request.path), &path_known);
  return best != nullptr ? best->options.lane : Lane::kIo;
}

bool RouteTable::IsRateLimited(const http::Request& request) const {
  bool path_known = false;
  const Route* best = Find(request, SplitPath(request.path), &path_known);
  return best != nullptr && best->options.rate_limited;
}

bool RouteTable::IsPublic(const http::Request& request) const {
  bool path_known = false;
  const Route* best = Find(request, SplitPath(request.path), &path_known);
  return best != nullptr && best->options.is_public;
}

http::Response RouteTable::Dispatch(const http::Request& request, const store::User& user) const {
  const std::vector<std::string_view> path = SplitPath(request.path);
  bool path_known = false;
  const Route* best = Find(request, path, &path_known);
  if (!best) {
    if (!path_known) return NoSuchEndpoint();
    std::string allow;
    for (const std::string& method : AllowedMethods(request.path)) {
      if (!allow.empty()) allow += ", ";
      allow += method;
    }
    http::Response response = http::ErrorResponse(
        405, "Method not allowed", "the method is not allowed on this endpoint (see Allow)");
    response.headers.Set("Allow", allow);
    return response;
  }
  PathParams params;
  (void)Matches(*best, path, &params);
  return best->handler(request, user, params);
}

bool RouteTable::Handles(std::string_view path) const {
  const std::vector<std::string_view> segments = SplitPath(path);
  return std::any_of(routes_.begin(), routes_.end(),
                     [&](const Route& route) { return Matches(route, segments, nullptr); });
}

std::vector<std::string> RouteTable::AllowedMethods(std::string_view path) const {
  const std::vector<std::string_view> segments = SplitPath(path);
  std::vector<std::string> methods;
  for (const Route& route : routes_) {
    if (Matches(route, segments, nullptr)) methods.push_back(route.method);
  }
  std::sort(methods.begin(), methods.end());
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  return methods;
}

std::vector<std::string> RouteTable::Describe() const {
  std::vector<std::string> out;
  out.reserve(routes_.size());
  for (const Route& route : routes_) out.push_back(route.method + " " + route.pattern);
  return out;
}

http::Response NoSuchEndpoint() {
  // The request's bytes are not echoed back.
  return http::ErrorResponse(404, "Not found", "no such endpoint");
}

}  // namespace kizuna::platform
