// The STIX 2.1 property tables (spec sections 4-7 and the OASIS JSON schemas in
// cti-stix2-json-schemas, which were read to write them; nothing is loaded at
// run time). Open vocabularies accept any string, so only the closed
// enumerations carry their values here.
#include <string>
#include <unordered_map>

#include "stix/schema.h"

namespace kizuna::stix::internal {
namespace {

constexpr int64_t kMaxCount = 999999999;

constexpr PropSpec Str(std::string_view name) { return {.name = name, .kind = Kind::kString}; }
constexpr PropSpec Of(std::string_view name, Kind kind) { return {.name = name, .kind = kind}; }
constexpr PropSpec Req(PropSpec p) {
  p.required = true;
  return p;
}
constexpr PropSpec Int(std::string_view name, int64_t min = std::numeric_limits<int64_t>::min(),
                       int64_t max = std::numeric_limits<int64_t>::max()) {
  return {.name = name, .kind = Kind::kInteger, .min = min, .max = max};
}
constexpr PropSpec Num(std::string_view name, int64_t min, int64_t max) {
  return {.name = name, .kind = Kind::kNumber, .min = min, .max = max};
}
constexpr PropSpec Ref(std::string_view name, std::string_view targets) {
  return {.name = name, .kind = Kind::kIdentifier, .targets = targets};
}
constexpr PropSpec Refs(std::string_view name, std::string_view targets) {
  return {.name = name, .kind = Kind::kIdentifierList, .targets = targets};
}
constexpr PropSpec Enum(std::string_view name, Values values) {
  return {.name = name, .kind = Kind::kClosedEnum, .values = values};
}
constexpr PropSpec EnumList(std::string_view name, Values values) {
  return {.name = name, .kind = Kind::kClosedEnumList, .values = values};
}
constexpr PropSpec Ov(std::string_view name) { return Of(name, Kind::kOpenVocab); }
constexpr PropSpec OvList(std::string_view name) { return Of(name, Kind::kOpenVocabList); }
constexpr PropSpec List(std::string_view name) { return Of(name, Kind::kStringList); }
constexpr PropSpec Ts(std::string_view name) { return Of(name, Kind::kTimestamp); }
constexpr PropSpec Bool(std::string_view name) { return Of(name, Kind::kBoolean); }
constexpr PropSpec Dict(std::string_view name) { return Of(name, Kind::kDictionary); }
constexpr PropSpec Hex(std::string_view name) { return Of(name, Kind::kHex); }

// Closed enumerations (spec §10).
constexpr std::string_view kOpinionEnum[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                             "strongly-agree"};
constexpr std::string_view kExtensionTypes[] = {
    "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"};
constexpr std::string_view kEncryptionAlgorithms[] = {"AES-256-GCM", "ChaCha20-Poly1305",
                                                      "mime-type-indicated"};
constexpr std::string_view kSocketAddressFamilies[] = {"AF_UNSPEC",    "AF_INET",    "AF_IPX",
                                                       "AF_APPLETALK", "AF_NETBIOS", "AF_INET6",
                                                       "AF_IRDA",      "AF_BTH"};
constexpr std::string_view kSocketTypes[] = {"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM",
                                             "SOCK_SEQPACKET"};
constexpr std::string_view kIntegrityLevels[] = {"low", "medium", "high", "system"};
constexpr std::string_view kRegistryDatatypes[] = {"REG_NONE",
                                                   "REG_SZ",
                                                   "REG_EXPAND_SZ",
                                                   "REG_BINARY",
                                                   "REG_DWORD",
                                                   "REG_DWORD_BIG_ENDIAN",
                                                   "REG_DWORD_LITTLE_ENDIAN",
                                                   "REG_LINK",
                                                   "REG_MULTI_SZ",
                                                   "REG_RESOURCE_LIST",
                                                   "REG_FULL_RESOURCE_DESCRIPTION",
                                                   "REG_RESOURCE_REQUIREMENTS_LIST",
                                                   "REG_QWORD",
                                                   "REG_INVALID_TYPE"};
constexpr std::string_view kServiceStartTypes[] = {"SERVICE_AUTO_START", "SERVICE_BOOT_START",
                                                   "SERVICE_DEMAND_START", "SERVICE_DISABLED",
                                                   "SERVICE_SYSTEM_ALERT"};
constexpr std::string_view kServiceTypes[] = {"SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER",
                                              "SERVICE_WIN32_OWN_PROCESS",
                                              "SERVICE_WIN32_SHARE_PROCESS"};
constexpr std::string_view kServiceStatuses[] = {
    "SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED", "SERVICE_RUNNING",
    "SERVICE_START_PENDING",    "SERVICE_STOP_PENDING",  "SERVICE_STOPPED"};
constexpr std::string_view kTlp1[] = {"white", "green", "amber", "red"};
constexpr std::string_view kTlp2[] = {"clear", "green", "amber", "amber+strict", "red"};

// Reference groups.
constexpr std::string_view kIpOrDomain = "ipv4-addr|ipv6-addr|mac-addr|domain-name";

// Common properties (spec §3.2, table per object category).
constexpr PropSpec kSdoCommon[] = {
    Req(Of("type", Kind::kType)),
    Req(Of("spec_version", Kind::kSpecVersion)),
    Req(Of("id", Kind::kId)),
    Req(Of("created", Kind::kTimestampMillis)),
    Req(Of("modified", Kind::kTimestampMillis)),
    Ref("created_by_ref", "identity"),
    Bool("revoked"),
    List("labels"),
    Int("confidence", 0, 100),
    Str("lang"),
    Of("external_references", Kind::kExternalReferences),
    Refs("object_marking_refs", "marking-definition"),
    Of("granular_markings", Kind::kGranularMarkings),
    Of("extensions", Kind::kExtensions),
};
constexpr PropSpec kScoCommon[] = {
    Req(Of("type", Kind::kType)),
    Of("spec_version", Kind::kSpecVersion),
    Req(Of("id", Kind::kId)),
    Refs("object_marking_refs", "marking-definition"),
    Of("granular_markings", Kind::kGranularMarkings),
    Bool("defanged"),
    Of("extensions", Kind::kExtensions),
};
constexpr PropSpec kMarkingCommon[] = {
    Req(Of("type", Kind::kType)),
    Req(Of("spec_version", Kind::kSpecVersion)),
    Req(Of("id", Kind::kId)),
    Req(Of("created", Kind::kTimestampMillis)),
    Ref("created_by_ref", "identity"),
    Of("external_references", Kind::kExternalReferences),
    Refs("object_marking_refs", "marking-definition"),
    Of("granular_markings", Kind::kGranularMarkings),
    Of("extensions", Kind::kExtensions),
};

// SDOs (spec §4).
constexpr PropSpec kAttackPattern[] = {Req(Str("name")), Str("description"), List("aliases"),
                                       Of("kill_chain_phases", Kind::kKillChainPhases)};
constexpr PropSpec kCampaign[] = {Req(Str("name")), Str("description"), List("aliases"),
                                  Ts("first_seen"), Ts("last_seen"),    Str("objective")};
constexpr PropSpec kCourseOfAction[] = {Req(Str("name")), Str("description")};
constexpr PropSpec kGrouping[] = {Str("name"), Str("description"), Req(Ov("context")),
                                  Req(Refs("object_refs", "<any>"))};
constexpr PropSpec kIdentity[] = {Req(Str("name")),  Str("description"),
                                  List("roles"),     Ov("identity_class"),
                                  OvList("sectors"), Str("contact_information")};
constexpr PropSpec kIncident[] = {Req(Str("name")), Str("description"),
                                  Of("kill_chain_phases", Kind::kKillChainPhases)};
constexpr PropSpec kIndicator[] = {Str("name"),
                                   Str("description"),
                                   OvList("indicator_types"),
                                   Req(Str("pattern")),
                                   Req(Ov("pattern_type")),
                                   Str("pattern_version"),
                                   Req(Ts("valid_from")),
                                   Ts("valid_until"),
                                   Of("kill_chain_phases", Kind::kKillChainPhases)};
constexpr PropSpec kInfrastructure[] = {Req(Str("name")),
                                        Str("description"),
                                        OvList("infrastructure_types"),
                                        List("aliases"),
                                        Of("kill_chain_phases", Kind::kKillChainPhases),
                                        Ts("first_seen"),
                                        Ts("last_seen")};
constexpr PropSpec kIntrusionSet[] = {
    Req(Str("name")),     Str("description"),       List("aliases"),
    Ts("first_seen"),     Ts("last_seen"),          List("goals"),
    Ov("resource_level"), Ov("primary_motivation"), OvList("secondary_motivations")};
constexpr PropSpec kLocation[] = {Str("name"),
                                  Str("description"),
                                  Num("latitude", -90, 90),
                                  Num("longitude", -180, 180),
                                  Num("precision", 0, std::numeric_limits<int64_t>::max()),
                                  Ov("region"),
                                  Str("country"),
                                  Str("administrative_area"),
                                  Str("city"),
                                  Str("street_address"),
                                  Str("postal_code")};
constexpr PropSpec kMalware[] = {Str("name"),
                                 Str("description"),
                                 OvList("malware_types"),
                                 Req(Bool("is_family")),
                                 List("aliases"),
                                 Of("kill_chain_phases", Kind::kKillChainPhases),
                                 Ts("first_seen"),
                                 Ts("last_seen"),
                                 Refs("operating_system_refs", "software"),
                                 OvList("architecture_execution_envs"),
                                 OvList("implementation_languages"),
                                 OvList("capabilities"),
                                 Refs("sample_refs", "file|artifact")};
constexpr PropSpec kMalwareAnalysis[] = {Req(Str("product")),
                                         Str("version"),
                                         Ref("host_vm_ref", "software"),
                                         Ref("operating_system_ref", "software"),
                                         Refs("installed_software_refs", "software"),
                                         Str("configuration_version"),
                                         List("modules"),
                                         Str("analysis_engine_version"),
                                         Str("analysis_definition_version"),
                                         Ts("submitted"),
                                         Ts("analysis_started"),
                                         Ts("analysis_ended"),
                                         Str("result_name"),
                                         Ov("result"),
                                         Refs("analysis_sco_refs", "<sco>"),
                                         Ref("sample_ref", "file|artifact|network-traffic")};
constexpr PropSpec kNote[] = {Str("abstract"), Req(Str("content")), List("authors"),
                              Req(Refs("object_refs", "<any>"))};
constexpr PropSpec kObservedData[] = {
    Req(Ts("first_observed")), Req(Ts("last_observed")), Req(Int("number_observed", 1, kMaxCount)),
    Of("objects", Kind::kObject), Refs("object_refs", "<sco-or-sro>")};
constexpr PropSpec kOpinion[] = {Str("explanation"), List("authors"),
                                 Req(Enum("opinion", kOpinionEnum)),
                                 Req(Refs("object_refs", "<any>"))};
constexpr PropSpec kReport[] = {Req(Str("name")), Str("description"), OvList("report_types"),
                                Req(Ts("published")), Req(Refs("object_refs", "<any>"))};
constexpr PropSpec kThreatActor[] = {Req(Str("name")),
                                     Str("description"),
                                     OvList("threat_actor_types"),
                                     List("aliases"),
                                     Ts("first_seen"),
                                     Ts("last_seen"),
                                     OvList("roles"),
                                     List("goals"),
                                     Ov("sophistication"),
                                     Ov("resource_level"),
                                     Ov("primary_motivation"),
                                     OvList("secondary_motivations"),
                                     OvList("personal_motivations")};
constexpr PropSpec kTool[] = {Req(Str("name")),
                              Str("description"),
                              OvList("tool_types"),
                              List("aliases"),
                              Of("kill_chain_phases", Kind::kKillChainPhases),
                              Str("tool_version")};
constexpr PropSpec kVulnerability[] = {Req(Str("name")), Str("description")};

// SROs (spec §5).
constexpr PropSpec kRelationship[] = {
    Req(Str("relationship_type")),       Str("description"), Req(Ref("source_ref", "<not-sro>")),
    Req(Ref("target_ref", "<not-sro>")), Ts("start_time"),   Ts("stop_time")};
constexpr PropSpec kSighting[] = {Str("description"),
                                  Ts("first_seen"),
                                  Ts("last_seen"),
                                  Int("count", 0, kMaxCount),
                                  Req(Ref("sighting_of_ref", "<sdo>")),
                                  Refs("observed_data_refs", "observed-data"),
                                  Refs("where_sighted_refs", "identity|location"),
                                  Bool("summary")};

// Meta objects (spec §7).
constexpr PropSpec kLanguageContent[] = {Req(Ref("object_ref", "<any>")), Ts("object_modified"),
                                         Req(Of("contents", Kind::kObject))};
constexpr PropSpec kMarkingDefinition[] = {Str("name"), Str("definition_type"),
                                           Of("definition", Kind::kObject)};
constexpr PropSpec kExtensionDefinition[] = {Req(Str("name")),
                                             Str("description"),
                                             Req(Str("schema")),
                                             Req(Str("version")),
                                             Req(EnumList("extension_types", kExtensionTypes)),
                                             List("extension_properties")};

// SCOs (spec §6).
constexpr PropSpec kArtifact[] = {Str("mime_type"),
                                  Of("payload_bin", Kind::kBinary),
                                  Str("url"),
                                  Of("hashes", Kind::kHashes),
                                  Enum("encryption_algorithm", kEncryptionAlgorithms),
                                  Str("decryption_key")};
constexpr PropSpec kAutonomousSystem[] = {Req(Int("number", 0)), Str("name"), Str("rir")};
constexpr PropSpec kDirectory[] = {Req(Str("path")), Str("path_enc"),
                                   Ts("ctime"),      Ts("mtime"),
                                   Ts("atime"),      Refs("contains_refs", "file|directory")};
constexpr PropSpec kDomainName[] = {Req(Str("value")),
                                    Refs("resolves_to_refs", "ipv4-addr|ipv6-addr|domain-name")};
constexpr PropSpec kEmailAddr[] = {Req(Str("value")), Str("display_name"),
                                   Ref("belongs_to_ref", "user-account")};
constexpr PropSpec kEmailMessage[] = {Req(Bool("is_multipart")),
                                      Ts("date"),
                                      Str("content_type"),
                                      Ref("from_ref", "email-addr"),
                                      Ref("sender_ref", "email-addr"),
                                      Refs("to_refs", "email-addr"),
                                      Refs("cc_refs", "email-addr"),
                                      Refs("bcc_refs", "email-addr"),
                                      Str("message_id"),
                                      Str("subject"),
                                      List("received_lines"),
                                      Dict("additional_header_fields"),
                                      Str("body"),
                                      Of("body_multipart", Kind::kObjectList),
                                      Ref("raw_email_ref", "artifact")};
constexpr PropSpec kFile[] = {Of("hashes", Kind::kHashes),
                              Int("size", 0),
                              Str("name"),
                              Str("name_enc"),
                              Hex("magic_number_hex"),
                              Str("mime_type"),
                              Ts("ctime"),
                              Ts("mtime"),
                              Ts("atime"),
                              Ref("parent_directory_ref", "directory"),
                              Refs("contains_refs", "<sco>"),
                              Ref("content_ref", "artifact")};
constexpr PropSpec kIpv4Addr[] = {Req(Str("value")), Refs("resolves_to_refs", "mac-addr"),
                                  Refs("belongs_to_refs", "autonomous-system")};
constexpr PropSpec kIpv6Addr[] = {Req(Str("value")), Refs("resolves_to_refs", "mac-addr"),
                                  Refs("belongs_to_refs", "autonomous-system")};
constexpr PropSpec kMacAddr[] = {Req(Str("value"))};
constexpr PropSpec kMutex[] = {Req(Str("name"))};
constexpr PropSpec kNetworkTraffic[] = {Ts("start"),
                                        Ts("end"),
                                        Bool("is_active"),
                                        Ref("src_ref", kIpOrDomain),
                                        Ref("dst_ref", kIpOrDomain),
                                        Int("src_port", 0, 65535),
                                        Int("dst_port", 0, 65535),
                                        Req(List("protocols")),
                                        Int("src_byte_count", 0),
                                        Int("dst_byte_count", 0),
                                        Int("src_packets", 0),
                                        Int("dst_packets", 0),
                                        Dict("ipfix"),
                                        Ref("src_payload_ref", "artifact"),
                                        Ref("dst_payload_ref", "artifact"),
                                        Refs("encapsulates_refs", "network-traffic"),
                                        Ref("encapsulated_by_ref", "network-traffic")};
constexpr PropSpec kProcess[] = {Bool("is_hidden"),
                                 Int("pid"),
                                 Ts("created_time"),
                                 Str("cwd"),
                                 Str("command_line"),
                                 Dict("environment_variables"),
                                 Refs("opened_connection_refs", "network-traffic"),
                                 Ref("creator_user_ref", "user-account"),
                                 Ref("image_ref", "file"),
                                 Ref("parent_ref", "process"),
                                 Refs("child_refs", "process")};
constexpr PropSpec kSoftware[] = {Req(Str("name")),  Str("cpe"),    Str("swid"),
                                  List("languages"), Str("vendor"), Str("version")};
constexpr PropSpec kUrl[] = {Req(Str("value"))};
constexpr PropSpec kUserAccount[] = {Str("user_id"),
                                     Str("credential"),
                                     Str("account_login"),
                                     Ov("account_type"),
                                     Str("display_name"),
                                     Bool("is_service_account"),
                                     Bool("is_privileged"),
                                     Bool("can_escalate_privs"),
                                     Bool("is_disabled"),
                                     Ts("account_created"),
                                     Ts("account_expires"),
                                     Ts("credential_last_changed"),
                                     Ts("account_first_login"),
                                     Ts("account_last_login")};
constexpr PropSpec kWindowsRegistryKey[] = {
    Str("key"), Of("values", Kind::kObjectList), Ts("modified_time"),
    Ref("creator_user_ref", "user-account"), Int("number_of_subkeys", 0)};
constexpr PropSpec kX509Certificate[] = {Bool("is_self_signed"),
                                         Of("hashes", Kind::kHashes),
                                         Str("version"),
                                         Str("serial_number"),
                                         Str("signature_algorithm"),
                                         Str("issuer"),
                                         Ts("validity_not_before"),
                                         Ts("validity_not_after"),
                                         Str("subject"),
                                         Str("subject_public_key_algorithm"),
                                         Str("subject_public_key_modulus"),
                                         Int("subject_public_key_exponent", 0),
                                         Of("x509_v3_extensions", Kind::kObject)};

// Predefined SCO extensions (spec §6, "-ext" dictionaries).
constexpr PropSpec kArchiveExt[] = {Req(Refs("contains_refs", "file|directory")), Str("comment")};
constexpr PropSpec kNtfsExt[] = {Str("sid"), Of("alternate_data_streams", Kind::kObjectList)};
constexpr PropSpec kPdfExt[] = {Str("version"), Bool("is_optimized"), Dict("document_info_dict"),
                                Str("pdfid0"), Str("pdfid1")};
constexpr PropSpec kRasterImageExt[] = {Int("image_height", 0), Int("image_width", 0),
                                        Int("bits_per_pixel", 0), Dict("exif_tags")};
constexpr PropSpec kWindowsPebinaryExt[] = {Req(Ov("pe_type")),
                                            Str("imphash"),
                                            Hex("machine_hex"),
                                            Int("number_of_sections", 0),
                                            Ts("time_date_stamp"),
                                            Hex("pointer_to_symbol_table_hex"),
                                            Int("number_of_symbols", 0),
                                            Int("size_of_optional_header", 0),
                                            Hex("characteristics_hex"),
                                            Of("file_header_hashes", Kind::kHashes),
                                            Of("optional_header", Kind::kObject),
                                            Of("sections", Kind::kObjectList)};
constexpr PropSpec kHttpRequestExt[] = {
    Req(Str("request_method")),    Req(Str("request_value")),
    Str("request_version"),        Dict("request_header"),
    Int("message_body_length", 0), Ref("message_body_data_ref", "artifact")};
constexpr PropSpec kIcmpExt[] = {Req(Hex("icmp_type_hex")), Req(Hex("icmp_code_hex"))};
constexpr PropSpec kSocketExt[] = {Req(Enum("address_family", kSocketAddressFamilies)),
                                   Bool("is_blocking"),
                                   Bool("is_listening"),
                                   Dict("options"),
                                   Enum("socket_type", kSocketTypes),
                                   Int("socket_descriptor", 0),
                                   Int("socket_handle")};
constexpr PropSpec kTcpExt[] = {Hex("src_flags_hex"), Hex("dst_flags_hex")};
constexpr PropSpec kWindowsProcessExt[] = {Bool("aslr_enabled"),
                                           Bool("dep_enabled"),
                                           Str("priority"),
                                           Str("owner_sid"),
                                           Str("window_title"),
                                           Dict("startup_info"),
                                           Enum("integrity_level", kIntegrityLevels)};
constexpr PropSpec kWindowsServiceExt[] = {Str("service_name"),
                                           List("descriptions"),
                                           Str("display_name"),
                                           Str("group_name"),
                                           Enum("start_type", kServiceStartTypes),
                                           Refs("service_dll_refs", "file"),
                                           Enum("service_type", kServiceTypes),
                                           Enum("service_status", kServiceStatuses)};
constexpr PropSpec kUnixAccountExt[] = {Int("gid"), List("groups"), Str("home_dir"), Str("shell")};

constexpr TypeSpec kTypes[] = {
    {"attack-pattern", Category::kSdo, kAttackPattern},
    {"campaign", Category::kSdo, kCampaign},
    {"course-of-action", Category::kSdo, kCourseOfAction},
    {"grouping", Category::kSdo, kGrouping},
    {"identity", Category::kSdo, kIdentity},
    {"incident", Category::kSdo, kIncident},
    {"indicator", Category::kSdo, kIndicator},
    {"infrastructure", Category::kSdo, kInfrastructure},
    {"intrusion-set", Category::kSdo, kIntrusionSet},
    {"location", Category::kSdo, kLocation},
    {"malware", Category::kSdo, kMalware},
    {"malware-analysis", Category::kSdo, kMalwareAnalysis},
    {"note", Category::kSdo, kNote},
    {"observed-data", Category::kSdo, kObservedData},
    {"opinion", Category::kSdo, kOpinion},
    {"report", Category::kSdo, kReport},
    {"threat-actor", Category::kSdo, kThreatActor},
    {"tool", Category::kSdo, kTool},
    {"vulnerability", Category::kSdo, kVulnerability},
    {"relationship", Category::kSro, kRelationship},
    {"sighting", Category::kSro, kSighting},
    {"artifact", Category::kSco, kArtifact},
    {"autonomous-system", Category::kSco, kAutonomousSystem},
    {"directory", Category::kSco, kDirectory},
    {"domain-name", Category::kSco, kDomainName},
    {"email-addr", Category::kSco, kEmailAddr},
    {"email-message", Category::kSco, kEmailMessage},
    {"file", Category::kSco, kFile},
    {"ipv4-addr", Category::kSco, kIpv4Addr},
    {"ipv6-addr", Category::kSco, kIpv6Addr},
    {"mac-addr", Category::kSco, kMacAddr},
    {"mutex", Category::kSco, kMutex},
    {"network-traffic", Category::kSco, kNetworkTraffic},
    {"process", Category::kSco, kProcess},
    {"software", Category::kSco, kSoftware},
    {"url", Category::kSco, kUrl},
    {"user-account", Category::kSco, kUserAccount},
    {"windows-registry-key", Category::kSco, kWindowsRegistryKey},
    {"x509-certificate", Category::kSco, kX509Certificate},
    // language-content and extension-definition carry the SDO common properties.
    {"language-content", Category::kSdo, kLanguageContent},
    {"extension-definition", Category::kSdo, kExtensionDefinition},
    {"marking-definition", Category::kMeta, kMarkingDefinition},
};

struct ScoExtension {
  std::string_view sco_type;
  TypeSpec spec;
};
constexpr ScoExtension kScoExtensions[] = {
    {"file", {"archive-ext", Category::kExtension, kArchiveExt}},
    {"file", {"ntfs-ext", Category::kExtension, kNtfsExt}},
    {"file", {"pdf-ext", Category::kExtension, kPdfExt}},
    {"file", {"raster-image-ext", Category::kExtension, kRasterImageExt}},
    {"file", {"windows-pebinary-ext", Category::kExtension, kWindowsPebinaryExt}},
    {"network-traffic", {"http-request-ext", Category::kExtension, kHttpRequestExt}},
    {"network-traffic", {"icmp-ext", Category::kExtension, kIcmpExt}},
    {"network-traffic", {"socket-ext", Category::kExtension, kSocketExt}},
    {"network-traffic", {"tcp-ext", Category::kExtension, kTcpExt}},
    {"process", {"windows-process-ext", Category::kExtension, kWindowsProcessExt}},
    {"process", {"windows-service-ext", Category::kExtension, kWindowsServiceExt}},
    {"user-account", {"unix-account-ext", Category::kExtension, kUnixAccountExt}},
};

std::span<const PropSpec> CommonFor(Category category) {
  switch (category) {
    case Category::kSdo:
    case Category::kSro:
      return kSdoCommon;
    case Category::kSco:
      return kScoCommon;
    case Category::kMeta:
      return kMarkingCommon;
    case Category::kExtension:
      return {};
  }
  return {};
}

// Name -> property lookups, built once. Keys point into the static tables.
struct Registry {
  std::unordered_map<std::string_view, const TypeSpec*> types;
  std::unordered_map<const TypeSpec*, std::unordered_map<std::string_view, const PropSpec*>> props;
  std::unordered_map<std::string, const TypeSpec*> extensions;  // "file/archive-ext"
  std::unordered_map<std::string_view, const PropSpec*> common[5];

  Registry() {
    for (const TypeSpec& spec : kTypes) {
      types.emplace(spec.type, &spec);
      auto& map = props[&spec];
      for (const PropSpec& p : spec.props) map.emplace(p.name, &p);
    }
    for (const ScoExtension& ext : kScoExtensions) {
      extensions.emplace(std::string(ext.sco_type) + "/" + std::string(ext.spec.type), &ext.spec);
      auto& map = props[&ext.spec];
      for (const PropSpec& p : ext.spec.props) map.emplace(p.name, &p);
    }
    for (int c = 0; c < 5; ++c) {
      for (const PropSpec& p : CommonFor(static_cast<Category>(c))) common[c].emplace(p.name, &p);
    }
  }
};

const Registry& GetRegistry() {
  static const Registry registry;
  return registry;
}

}  // namespace

const Values kExtensionTypeEnum = kExtensionTypes;
const Values kTlp1Levels = kTlp1;
const Values kTlp2Levels = kTlp2;
const Values kWindowsRegistryDatatypeEnum = kRegistryDatatypes;

const TypeSpec* FindTypeSpec(std::string_view type) {
  const auto& types = GetRegistry().types;
  auto it = types.find(type);
  return it == types.end() ? nullptr : it->second;
}

const TypeSpec* FindScoExtensionSpec(std::string_view sco_type, std::string_view extension_name) {
  std::string key;
  key.reserve(sco_type.size() + extension_name.size() + 1);
  key.append(sco_type).append("/").append(extension_name);
  const auto& extensions = GetRegistry().extensions;
  auto it = extensions.find(key);
  return it == extensions.end() ? nullptr : it->second;
}

bool IsPredefinedScoExtensionName(std::string_view extension_name) {
  for (const ScoExtension& ext : kScoExtensions) {
    if (ext.spec.type == extension_name) return true;
  }
  return false;
}

const PropSpec* FindProp(const TypeSpec& spec, std::string_view name) {
  const auto& props = GetRegistry().props;
  auto it = props.find(&spec);
  if (it == props.end()) return nullptr;
  auto p = it->second.find(name);
  return p == it->second.end() ? nullptr : p->second;
}

std::span<const PropSpec> CommonProps(Category category) { return CommonFor(category); }

const PropSpec* FindCommonProp(Category category, std::string_view name) {
  const auto& map = GetRegistry().common[static_cast<int>(category)];
  auto it = map.find(name);
  return it == map.end() ? nullptr : it->second;
}

}  // namespace kizuna::stix::internal
