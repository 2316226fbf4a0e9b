#include "alerts/shadowserver.h"

#include <algorithm>
#include <array>

namespace kizuna::alerts {
namespace {

using Layout = ShadowserverLayout;

// Generated from report_schema/intelmq.json (every report whose host is
// `ip` or `src_ip`; blocklist left out: its type "blacklist" is not RSIT):
// name, layout, classification.taxonomy, .type, constant .identifier, the
// column of a per-row identifier, the column of malware.name, constant
// protocol.transport.
constexpr ShadowserverReport kReports[] = {
    {"botnet_drone", Layout::kDrone, "malicious-code", "infected-system", "", "infection",
     "infection", ""},
    {"compromised_iot", Layout::kScan, "intrusions", "system-compromise", "compromised-iot", "",
     "family", ""},
    {"compromised_iot6", Layout::kScan, "intrusions", "system-compromise", "compromised-iot", "",
     "family", ""},
    {"compromised_website", Layout::kScan, "intrusions", "system-compromise", "compromised-website",
     "", "family", ""},
    {"compromised_website6", Layout::kScan, "intrusions", "system-compromise",
     "compromised-website", "", "family", ""},
    {"device_id", Layout::kScan, "other", "undetermined", "device-id", "", "", ""},
    {"device_id6", Layout::kScan, "other", "undetermined", "device-id", "", "", ""},
    {"event4_ddos_participant", Layout::kEvent, "availability", "ddos", "ddos-participant", "",
     "infection", ""},
    {"event4_honeypot_adb_scan", Layout::kEvent, "information-gathering", "scanner",
     "honeypot-adb-scan", "", "infection", ""},
    {"event4_honeypot_brute_force", Layout::kEvent, "intrusion-attempts", "brute-force", "",
     "application", "infection", ""},
    {"event4_honeypot_darknet", Layout::kEvent, "other", "other", "", "tag", "infection", ""},
    {"event4_honeypot_ddos", Layout::kEvent, "availability", "ddos", "honeypot-ddos", "",
     "infection", ""},
    {"event4_honeypot_ddos_amp", Layout::kEvent, "availability", "ddos",
     "amplification-ddos-victim", "", "infection", ""},
    {"event4_honeypot_ddos_target", Layout::kEvent, "availability", "ddos", "honeypot-ddos-target",
     "", "infection", ""},
    {"event4_honeypot_http_scan", Layout::kEvent, "information-gathering", "scanner",
     "honeypot-http-scan", "", "infection", ""},
    {"event4_honeypot_ics_scan", Layout::kEvent, "information-gathering", "scanner",
     "honeypot-ics-scan", "", "infection", ""},
    {"event4_honeypot_ikev2_scan", Layout::kEvent, "information-gathering", "scanner",
     "honeypot-ikev2-scan", "", "infection", ""},
    {"event4_honeypot_rdp_scan", Layout::kEvent, "information-gathering", "scanner",
     "honeypot-rdp-scan", "", "infection", ""},
    {"event4_honeypot_rocketmq_scan", Layout::kEvent, "information-gathering", "scanner",
     "honeypot-rocketmq-scan", "", "infection", ""},
    {"event4_honeypot_smb_scan", Layout::kEvent, "information-gathering", "scanner",
     "honeypot-smb-scan", "", "infection", ""},
    {"event4_ip_spoofer", Layout::kEvent, "fraud", "masquerade", "ip-spoofer", "", "infection", ""},
    {"event4_microsoft_sinkhole", Layout::kEvent, "malicious-code", "infected-system", "",
     "infection", "infection", ""},
    {"event4_microsoft_sinkhole_http", Layout::kEvent, "malicious-code", "infected-system", "",
     "infection", "infection", ""},
    {"event4_sinkhole", Layout::kEvent, "malicious-code", "infected-system", "", "infection",
     "infection", ""},
    {"event4_sinkhole_dns", Layout::kEvent, "other", "other", "sinkholedns", "", "infection", ""},
    {"event4_sinkhole_http", Layout::kEvent, "malicious-code", "infected-system", "", "infection",
     "infection", ""},
    {"event6_sinkhole", Layout::kEvent, "malicious-code", "infected-system", "", "infection",
     "infection", ""},
    {"event6_sinkhole_http", Layout::kEvent, "malicious-code", "infected-system", "", "infection",
     "infection", ""},
    {"malware_url", Layout::kScan, "malicious-code", "malware-distribution", "malware-url", "", "",
     ""},
    {"population6_bgp", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-bgp", "", "",
     ""},
    {"population6_http_proxy", Layout::kScan, "other", "other", "accessible-http-proxy", "", "",
     ""},
    {"population6_isakmp", Layout::kScan, "other", "other", "accessible-ike", "", "", ""},
    {"population6_msmq", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-msmq", "",
     "", ""},
    {"population_bgp", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-bgp", "", "",
     ""},
    {"population_http_proxy", Layout::kScan, "other", "other", "accessible-http-proxy", "", "", ""},
    {"population_isakmp", Layout::kScan, "other", "other", "accessible-ike", "", "", ""},
    {"population_msmq", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-msmq", "", "",
     ""},
    {"population_ntrip", Layout::kScan, "other", "other", "accessible-ntrip", "", "", ""},
    {"sandbox_conn", Layout::kScan, "malicious-code", "malware-distribution", "sandbox-conn", "",
     "", ""},
    {"sandbox_url", Layout::kScan, "malicious-code", "malware-distribution", "sandbox-url", "", "",
     ""},
    {"scan6_activemq", Layout::kScan, "vulnerable", "vulnerable-system", "open-activemq", "", "",
     ""},
    {"scan6_badsecrets", Layout::kScan, "vulnerable", "weak-crypto", "badsecret", "", "", ""},
    {"scan6_bgp", Layout::kScan, "vulnerable", "vulnerable-system", "open-bgp", "", "", ""},
    {"scan6_cwmp", Layout::kScan, "vulnerable", "vulnerable-system", "open-cwmp", "", "", ""},
    {"scan6_dns", Layout::kScan, "vulnerable", "vulnerable-system", "dns-open-resolver", "", "",
     ""},
    {"scan6_elasticsearch", Layout::kScan, "vulnerable", "vulnerable-system", "open-elasticsearch",
     "", "", ""},
    {"scan6_exchange", Layout::kScan, "", "", "", "tag", "", ""},
    {"scan6_ftp", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-ftp", "", "", ""},
    {"scan6_http", Layout::kScan, "other", "other", "accessible-http", "", "", ""},
    {"scan6_http_proxy", Layout::kScan, "vulnerable", "vulnerable-system", "open-http-proxy", "",
     "", ""},
    {"scan6_http_vulnerable", Layout::kScan, "vulnerable", "vulnerable-system", "vulnerable-http",
     "", "", ""},
    {"scan6_imap", Layout::kScan, "other", "other", "accessible-imap", "", "", ""},
    {"scan6_imap_vulnerable", Layout::kScan, "vulnerable", "vulnerable-system", "vulnerable-imap",
     "", "", ""},
    {"scan6_ip_tunnel", Layout::kScan, "vulnerable", "vulnerable-system", "open-ip-tunnel", "", "",
     ""},
    {"scan6_ipp", Layout::kScan, "vulnerable", "vulnerable-system", "open-ipp", "", "", ""},
    {"scan6_isakmp", Layout::kScan, "vulnerable", "vulnerable-system", "open-ike", "", "", ""},
    {"scan6_ldap_tcp", Layout::kScan, "vulnerable", "vulnerable-system", "open-ldap", "", "", ""},
    {"scan6_mongodb", Layout::kScan, "vulnerable", "vulnerable-system", "open-mongodb", "", "", ""},
    {"scan6_mqtt", Layout::kScan, "vulnerable", "vulnerable-system", "open-mqtt", "", "", ""},
    {"scan6_mqtt_anon", Layout::kScan, "vulnerable", "vulnerable-system", "open-mqtt-anon", "", "",
     ""},
    {"scan6_msrpc", Layout::kScan, "vulnerable", "potentially-unwanted-accessible",
     "accessible-msrpc", "", "", ""},
    {"scan6_mysql", Layout::kScan, "vulnerable", "vulnerable-system", "open-mysql", "", "", ""},
    {"scan6_ntp", Layout::kScan, "vulnerable", "vulnerable-system", "ntp-version", "", "", ""},
    {"scan6_ntpmonitor", Layout::kScan, "vulnerable", "vulnerable-system", "ntp-monitor", "", "",
     ""},
    {"scan6_pop3", Layout::kScan, "other", "other", "accessible-pop3", "", "", ""},
    {"scan6_pop3_vulnerable", Layout::kScan, "vulnerable", "vulnerable-system", "vulnerable-pop3",
     "", "", ""},
    {"scan6_postgres", Layout::kScan, "vulnerable", "vulnerable-system", "open-postgres", "", "",
     ""},
    {"scan6_rdp", Layout::kScan, "vulnerable", "vulnerable-system", "open-rdp", "", "", "tcp"},
    {"scan6_rsync", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-rsync", "", "",
     ""},
    {"scan6_slp", Layout::kScan, "vulnerable", "vulnerable-system", "open-slp", "", "", ""},
    {"scan6_smb", Layout::kScan, "vulnerable", "vulnerable-system", "open-smb", "", "", "tcp"},
    {"scan6_smtp", Layout::kScan, "other", "other", "open-smtp", "", "", ""},
    {"scan6_smtp_vulnerable", Layout::kScan, "vulnerable", "vulnerable-system", "vulnerable-smtp",
     "", "", ""},
    {"scan6_snmp", Layout::kScan, "vulnerable", "vulnerable-system", "open-snmp", "", "", ""},
    {"scan6_ssh", Layout::kScan, "other", "other", "open-ssh", "", "", ""},
    {"scan6_ssl", Layout::kScan, "other", "other", "open-ssl", "", "", ""},
    {"scan6_ssl_freak", Layout::kScan, "vulnerable", "weak-crypto", "ssl-freak", "", "", ""},
    {"scan6_ssl_poodle", Layout::kScan, "vulnerable", "weak-crypto", "ssl-poodle", "", "", ""},
    {"scan6_stun", Layout::kScan, "other", "other", "open-stun", "", "", ""},
    {"scan6_telnet", Layout::kScan, "vulnerable", "vulnerable-system", "open-telnet", "", "", ""},
    {"scan6_vnc", Layout::kScan, "vulnerable", "vulnerable-system", "open-vnc", "", "", "tcp"},
    {"scan_activemq", Layout::kScan, "vulnerable", "vulnerable-system", "open-activemq", "", "",
     ""},
    {"scan_adb", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-adb", "", "", ""},
    {"scan_afp", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-afp", "", "", ""},
    {"scan_amqp", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-amqp", "", "", ""},
    {"scan_ard", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-ard", "", "", ""},
    {"scan_badsecrets", Layout::kScan, "vulnerable", "weak-crypto", "badsecret", "", "", ""},
    {"scan_bgp", Layout::kScan, "vulnerable", "vulnerable-system", "open-bgp", "", "", ""},
    {"scan_chargen", Layout::kScan, "vulnerable", "vulnerable-system", "open-chargen", "", "", ""},
    {"scan_cisco_smart_install", Layout::kScan, "vulnerable", "vulnerable-system",
     "accessible-cisco-smart-install", "", "", ""},
    {"scan_coap", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-coap", "", "", ""},
    {"scan_couchdb", Layout::kScan, "vulnerable", "vulnerable-system", "open-couchdb", "", "", ""},
    {"scan_cwmp", Layout::kScan, "vulnerable", "vulnerable-system", "open-cwmp", "", "", ""},
    {"scan_db2", Layout::kScan, "vulnerable", "vulnerable-system", "open-db2-discovery-service", "",
     "", ""},
    {"scan_ddos_middlebox", Layout::kScan, "vulnerable", "vulnerable-system", "open-ddos-middlebox",
     "", "", ""},
    {"scan_dns", Layout::kScan, "vulnerable", "vulnerable-system", "dns-open-resolver", "", "", ""},
    {"scan_docker", Layout::kScan, "vulnerable", "vulnerable-system", "open-docker", "", "", ""},
    {"scan_dvr_dhcpdiscover", Layout::kScan, "vulnerable", "vulnerable-system",
     "open-dvr-dhcpdiscover", "", "", ""},
    {"scan_elasticsearch", Layout::kScan, "vulnerable", "vulnerable-system", "open-elasticsearch",
     "", "", ""},
    {"scan_epmd", Layout::kScan, "vulnerable", "vulnerable-system", "open-epmd", "", "", ""},
    {"scan_exchange", Layout::kScan, "", "", "", "tag", "", ""},
    {"scan_ftp", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-ftp", "", "", ""},
    {"scan_gtp", Layout::kScan, "vulnerable", "potentially-unwanted-accessible", "accessible-gtp",
     "", "", ""},
    {"scan_hadoop", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-hadoop", "", "",
     "tcp"},
    {"scan_http", Layout::kScan, "other", "other", "accessible-http", "", "", ""},
    {"scan_http_proxy", Layout::kScan, "vulnerable", "vulnerable-system", "open-http-proxy", "", "",
     ""},
    {"scan_http_vulnerable", Layout::kScan, "vulnerable", "vulnerable-system", "vulnerable-http",
     "", "", ""},
    {"scan_ics", Layout::kScan, "vulnerable", "vulnerable-system", "open-ics", "", "", ""},
    {"scan_imap", Layout::kScan, "other", "other", "accessible-imap", "", "", ""},
    {"scan_imap_vulnerable", Layout::kScan, "vulnerable", "vulnerable-system", "vulnerable-imap",
     "", "", ""},
    {"scan_ip_tunnel", Layout::kScan, "vulnerable", "vulnerable-system", "open-ip-tunnel", "", "",
     ""},
    {"scan_ipmi", Layout::kScan, "vulnerable", "vulnerable-system", "open-ipmi", "", "", "udp"},
    {"scan_ipp", Layout::kScan, "vulnerable", "vulnerable-system", "open-ipp", "", "", ""},
    {"scan_isakmp", Layout::kScan, "vulnerable", "vulnerable-system", "open-ike", "", "", ""},
    {"scan_kubernetes", Layout::kScan, "vulnerable", "vulnerable-system", "open-kubernetes", "", "",
     ""},
    {"scan_ldap_tcp", Layout::kScan, "vulnerable", "vulnerable-system", "open-ldap", "", "", ""},
    {"scan_ldap_udp", Layout::kScan, "vulnerable", "vulnerable-system", "open-ldap", "", "", ""},
    {"scan_loop_dos", Layout::kScan, "vulnerable", "vulnerable-system", "open-loop-dos", "", "",
     ""},
    {"scan_mdns", Layout::kScan, "vulnerable", "vulnerable-system", "open-mdns", "", "", ""},
    {"scan_memcached", Layout::kScan, "vulnerable", "vulnerable-system", "open-memcached", "", "",
     ""},
    {"scan_mongodb", Layout::kScan, "vulnerable", "vulnerable-system", "open-mongodb", "", "", ""},
    {"scan_mqtt", Layout::kScan, "vulnerable", "vulnerable-system", "open-mqtt", "", "", ""},
    {"scan_mqtt_anon", Layout::kScan, "vulnerable", "vulnerable-system", "open-mqtt-anon", "", "",
     ""},
    {"scan_msrpc", Layout::kScan, "vulnerable", "potentially-unwanted-accessible",
     "accessible-msrpc", "", "", ""},
    {"scan_mssql", Layout::kScan, "vulnerable", "vulnerable-system", "open-mssql", "", "", ""},
    {"scan_mysql", Layout::kScan, "vulnerable", "vulnerable-system", "open-mysql", "", "", ""},
    {"scan_nat_pmp", Layout::kScan, "vulnerable", "vulnerable-system", "open-natpmp", "", "", ""},
    {"scan_netbios", Layout::kScan, "vulnerable", "vulnerable-system", "open-netbios-nameservice",
     "", "", ""},
    {"scan_netis_router", Layout::kScan, "vulnerable", "vulnerable-system", "open-netis", "", "",
     "udp"},
    {"scan_ntp", Layout::kScan, "vulnerable", "vulnerable-system", "ntp-version", "", "", ""},
    {"scan_ntpmonitor", Layout::kScan, "vulnerable", "vulnerable-system", "ntp-monitor", "", "",
     ""},
    {"scan_pop3", Layout::kScan, "other", "other", "accessible-pop3", "", "", ""},
    {"scan_pop3_vulnerable", Layout::kScan, "vulnerable", "vulnerable-system", "vulnerable-pop3",
     "", "", ""},
    {"scan_portmapper", Layout::kScan, "vulnerable", "vulnerable-system", "open-portmapper", "", "",
     ""},
    {"scan_post_exploitation_framework", Layout::kScan, "malicious-code", "infected-system",
     "c2-beacon", "", "", ""},
    {"scan_postgres", Layout::kScan, "vulnerable", "vulnerable-system", "open-postgres", "", "",
     ""},
    {"scan_qotd", Layout::kScan, "vulnerable", "vulnerable-system", "open-qotd", "", "", ""},
    {"scan_quic", Layout::kScan, "other", "other", "open-quic", "", "", ""},
    {"scan_radmin", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-radmin", "", "",
     ""},
    {"scan_rdp", Layout::kScan, "vulnerable", "vulnerable-system", "open-rdp", "", "", "tcp"},
    {"scan_rdpeudp", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-msrdpeudp", "",
     "", ""},
    {"scan_redis", Layout::kScan, "vulnerable", "vulnerable-system", "open-redis", "", "", ""},
    {"scan_rsync", Layout::kScan, "vulnerable", "vulnerable-system", "accessible-rsync", "", "",
     ""},
    {"scan_sip", Layout::kScan, "vulnerable", "vulnerable-system", "open-sip", "", "", ""},
    {"scan_slp", Layout::kScan, "vulnerable", "vulnerable-system", "open-slp", "", "", ""},
    {"scan_smb", Layout::kScan, "vulnerable", "vulnerable-system", "open-smb", "", "", "tcp"},
    {"scan_smtp", Layout::kScan, "other", "other", "open-smtp", "", "", ""},
    {"scan_smtp_vulnerable", Layout::kScan, "vulnerable", "vulnerable-system", "vulnerable-smtp",
     "", "", ""},
    {"scan_snmp", Layout::kScan, "vulnerable", "vulnerable-system", "open-snmp", "", "", ""},
    {"scan_socks", Layout::kScan, "vulnerable", "vulnerable-system", "open-socks", "", "", ""},
    {"scan_ssdp", Layout::kScan, "vulnerable", "vulnerable-system", "open-ssdp", "", "", ""},
    {"scan_ssh", Layout::kScan, "other", "other", "open-ssh", "", "", ""},
    {"scan_ssl", Layout::kScan, "other", "other", "open-ssl", "", "", ""},
    {"scan_ssl_freak", Layout::kScan, "vulnerable", "weak-crypto", "ssl-freak", "", "", ""},
    {"scan_ssl_poodle", Layout::kScan, "vulnerable", "weak-crypto", "ssl-poodle", "", "", ""},
    {"scan_stun", Layout::kScan, "other", "other", "open-stun", "", "", ""},
    {"scan_synfulknock", Layout::kScan, "vulnerable", "vulnerable-system", "open-synfulknock", "",
     "", ""},
    {"scan_telnet", Layout::kScan, "vulnerable", "vulnerable-system", "open-telnet", "", "", ""},
    {"scan_tftp", Layout::kScan, "vulnerable", "vulnerable-system", "open-tftp", "", "", ""},
    {"scan_ubiquiti", Layout::kScan, "vulnerable", "vulnerable-system",
     "accessible-ubiquiti-discovery-service", "", "", ""},
    {"scan_vnc", Layout::kScan, "vulnerable", "vulnerable-system", "open-vnc", "", "", "tcp"},
    {"scan_ws_discovery", Layout::kScan, "vulnerable", "vulnerable-system", "open-ws-discovery", "",
     "", ""},
    {"scan_xdmcp", Layout::kScan, "vulnerable", "vulnerable-system", "open-xdmcp", "", "", ""},
    {"spam_url", Layout::kScan, "abusive-content", "spam", "spam-url", "", "", ""},
    {"special", Layout::kScan, "vulnerable", "vulnerable-system", "special", "", "", ""},
};

bool Has(std::span<const std::string_view> columns, std::string_view name) {
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

// The columns every scan report has besides its service-specific ones.
constexpr std::array<std::string_view, 21> kScanCommonColumns = {"timestamp",
                                                                 "severity",
                                                                 "ip",
                                                                 "protocol",
                                                                 "port",
                                                                 "hostname",
                                                                 "tag",
                                                                 "asn",
                                                                 "geo",
                                                                 "region",
                                                                 "city",
                                                                 "naics",
                                                                 "sic",
                                                                 "hostname_source",
                                                                 "sector",
                                                                 "device_vendor",
                                                                 "device_type",
                                                                 "device_model",
                                                                 "device_version",
                                                                 "device_sector",
                                                                 "banner"};

}  // namespace

std::span<const ShadowserverReport> ShadowserverReports() { return kReports; }

const ShadowserverReport* FindShadowserverReport(std::string_view name) {
  auto it =
      std::lower_bound(std::begin(kReports), std::end(kReports), name,
                       [](const ShadowserverReport& r, std::string_view n) { return r.name < n; });
  if (it == std::end(kReports) || it->name != name) return nullptr;
  return &*it;
}

std::string ShadowserverReportFromFileName(std::string_view file_name) {
  const size_t slash = file_name.find_last_of("/\\");
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  constexpr std::string_view kCsv = ".csv";
  if (file_name.size() <= kCsv.size() || file_name.substr(file_name.size() - kCsv.size()) != kCsv) {
    return "";
  }
  file_name.remove_suffix(kCsv.size());
  // An optional "YYYY-MM-DD-" date.
  auto digits = [&](size_t from, size_t count) {
    for (size_t i = from; i < from + count; ++i) {
      if (file_name[i] < '0' || file_name[i] > '9') return false;
    }
    return true;
  };
  if (file_name.size() >= 11 && digits(0, 4) && file_name[4] == '-' && digits(5, 2) &&
      file_name[7] == '-' && digits(8, 2) && file_name[10] == '-') {
    file_name.remove_prefix(11);
  }
  const std::string_view type = file_name.substr(0, file_name.find('-'));
  if (type.empty()) return "";
  for (char c : type) {
    const bool word =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word) return "";
  }
  return std::string(type);
}

const ShadowserverReport* DetectShadowserverReport(std::span<const std::string_view> columns) {
  if (!Has(columns, "timestamp")) return nullptr;
  if (Has(columns, "src_ip") && Has(columns, "infection")) {
    if (Has(columns, "http_url") || Has(columns, "http_host")) {
      return FindShadowserverReport("event4_sinkhole_http");
    }
    if (Has(columns, "count")) return FindShadowserverReport("event4_honeypot_darknet");
    // Sinkhole events have none of the honeypot reports' own columns.
    if (!Has(columns, "pattern") && !Has(columns, "username") && !Has(columns, "request_raw")) {
      return FindShadowserverReport("event4_sinkhole");
    }
    return nullptr;
  }
  if (Has(columns, "ip") && Has(columns, "infection") && Has(columns, "cc_ip")) {
    return FindShadowserverReport("botnet_drone");
  }
  if (Has(columns, "ip") && Has(columns, "port") && Has(columns, "tag") && Has(columns, "asn") &&
      Has(columns, "geo") && Has(columns, "banner")) {
    for (auto c : columns) {
      if (std::find(kScanCommonColumns.begin(), kScanCommonColumns.end(), c) ==
          kScanCommonColumns.end()) {
        return nullptr;  // a service-specific column: some other scan
      }
    }
    return FindShadowserverReport("scan_telnet");
  }
  return nullptr;
}

}  // namespace kizuna::alerts
