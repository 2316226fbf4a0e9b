// The telescope's findings as alert observations (issue 12: "infected or
// abusive hosts from the telescope"). What the telescope knows per source
// address, and what becomes of it:
//   - a sources object of one of our sensors' intervals
//     (x-kizuna-telescope-sources, telescope/objects.h) holds, per
//     fingerprint rule, the exact set of source addresses whose probes
//     matched it (sensor/fingerprint.h: "mirai", "zmap", "masscan"). Each
//     address of a bot's rule (ObservationContext::bot_fingerprints, by
//     default kBotFingerprints: "mirai"; [alerts] bot_fingerprints) is
//     malicious-code / infected-system with identifier and family the rule's
//     name, confidence 90; each of any other rule (a scanning tool) is
//     information-gathering / scanner with identifier the rule's name,
//     confidence 80. Protocol "tcp" for the built-in rules (all three match
//     TCP SYNs), "" for others; port 0 (the host's own port is an ephemeral
//     one; the darknet ports it probed, of the interval's kMaxPortsChecked
//     busiest, are in the evidence); time: the interval's last packet.
//     Addresses that matched no rule are not observations: a darknet source
//     alone may be spoofed or backscatter.
//   - a surge's observed-data (telescope/surges.h: the addresses new on the
//     surging port) is information-gathering / scanner, identifier
//     "surge-<port>-<proto>", the surge's protocol, port 0, confidence 50,
//     at the surge's start.
// Only our own sensors' (origin "", created by our identity, in the
// telescope collection): a partner's telescope addresses are the partner's
// to alert on, and its surges come in as its observations
// (partner_observations.h). The source is "telescope/<sensor>" (a surge's:
// "telescope/surge"), the TLP the object's (sources_tlp, AMBER by default),
// the evidence a compact JSON object: sensor, interval, seconds,
// fingerprint, ports (or the surge's port, metric, baseline, observed).
//
// Functions only; thread-safe as the store and the database are.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "alerts/observation_intake.h"

namespace kizuna::alerts {

inline constexpr std::array<std::string_view, 1> kBotFingerprints = {"mirai"};
inline constexpr size_t kMaxPortsChecked = 16;

// Whether `change` is one of our telescope's objects this intake reads.
bool IsOwnTelescopeObject(const ObservationContext& context, const store::Change& change);

// What it says (see the top); nullopt when it says nothing of a host;
// kInvalidArgument when it does not parse.
Result<std::optional<Extracted>> ExtractTelescopeObservations(const ObservationContext& context,
                                                              const store::Change& change);

// Takes one of our telescope's objects in (TakeIn with the above).
Result<TakeResult> TakeInTelescopeObject(const ObservationContext& context,
                                         const store::Change& change);

}  // namespace kizuna::alerts
