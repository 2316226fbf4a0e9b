#include "stix/stix.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "common/uuid.h"

namespace kizuna::stix {
namespace {

namespace json = boost::json;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

json::object Obj(std::string_view text) {
  auto parsed = ParseJson(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
  if (!parsed.ok() || !parsed->is_object()) return {};
  return parsed->get_object();
}

// Validates every object of a file (a bundle or a single object); returns the count.
int ValidateFile(const std::filesystem::path& path) {
  auto parsed = ParseJson(ReadFile(path));
  EXPECT_TRUE(parsed.ok()) << path << ": " << parsed.status().message();
  if (!parsed.ok()) return 0;
  const json::object& top = parsed->get_object();
  std::vector<const json::object*> objects;
  if (top.at("type") == "bundle") {
    EXPECT_TRUE(ValidateBundleEnvelope(top).ok()) << path;
    for (const auto& o : top.at("objects").get_array()) objects.push_back(&o.get_object());
  } else {
    objects.push_back(&top);
  }
  for (const json::object* o : objects) {
    auto info = ValidateObject(*o);
    EXPECT_TRUE(info.ok()) << path << ": " << info.status().message();
    if (info.ok()) {
      EXPECT_EQ(info->id, o->at("id").get_string());
    }
  }
  return static_cast<int>(objects.size());
}

TEST(StixExamples, EveryOasisExampleValidates) {
  int count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::filesystem::path(KIZUNA_SHARED_DATA) / "stix21-examples")) {
    if (entry.path().extension() == ".json") count += ValidateFile(entry.path());
  }
  EXPECT_EQ(count, 260);
}

TEST(StixExamples, IcsAttackBundleValidatesCompletely) {
  EXPECT_EQ(
      ValidateFile(std::filesystem::path(KIZUNA_SHARED_DATA) / "mitre-attack/ics-attack-18.1.json"),
      1826);
}

TEST(StixExamples, AttackNeedsAllowCustom) {
  auto bundle = ParseJson(
      ReadFile(std::filesystem::path(KIZUNA_SHARED_DATA) / "mitre-attack/ics-attack-18.1.json"));
  ASSERT_TRUE(bundle.ok());
  ValidationOptions strict;
  strict.allow_custom = false;
  int rejected = 0;
  for (const auto& o : bundle->get_object().at("objects").get_array()) {
    rejected += !ValidateObject(o.get_object(), strict).ok();
  }
  EXPECT_GT(rejected, 0);
}

// One valid object of every STIX 2.1 type. The mutation tests start from these.
const std::map<std::string, std::string>& ValidSamples() {
  static const auto*
      samples =
          new std::
              map<std::string, std::string>{
                  {"attack-pattern",
                   R"({"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2016-05-12T08:17:27.000Z","modified":"2016-05-12T08:17:27.000Z","name":"Spear Phishing","aliases":["phish"],"kill_chain_phases":[{"kill_chain_name":"lockheed-martin-cyber-kill-chain","phase_name":"delivery"}],"external_references":[{"source_name":"capec","external_id":"CAPEC-163"}]})"},
                  {"campaign",
                   R"({"type":"campaign","spec_version":"2.1","id":"campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","name":"Green Group Attacks Against Finance","first_seen":"2016-04-06T20:03:00Z","last_seen":"2016-05-06T20:03:00Z","objective":"money"})"},
                  {"course-of-action",
                   R"({"type":"course-of-action","spec_version":"2.1","id":"course-of-action--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"Add TCP port 80 Filter Rule"})"},
                  {"grouping",
                   R"({"type":"grouping","spec_version":"2.1","id":"grouping--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3","created":"2015-12-21T19:59:11.000Z","modified":"2015-12-21T19:59:11.000Z","name":"The Black Vine","context":"suspicious-activity","object_refs":["indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2","x-custom--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"]})"},
                  {"identity",
                   R"({"type":"identity","spec_version":"2.1","id":"identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","name":"John Smith","identity_class":"individual","sectors":["technology"],"roles":["analyst"]})"},
                  {"incident",
                   R"({"type":"incident","spec_version":"2.1","id":"incident--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","name":"Breach"})"},
                  {"indicator",
                   R"({"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","indicator_types":["malicious-activity"],"name":"Poison Ivy Malware","pattern":"[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","valid_until":"2017-01-01T00:00:00Z","confidence":80,"labels":["x"],"lang":"en","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],"granular_markings":[{"selectors":["name","labels.[0]"],"marking_ref":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"}]})"},
                  {"infrastructure",
                   R"({"type":"infrastructure","spec_version":"2.1","id":"infrastructure--38c47d93-d984-4fd9-b87b-d69d0841628d","created":"2016-05-07T11:22:30.000Z","modified":"2016-05-07T11:22:30.000Z","name":"Poison Ivy C2","infrastructure_types":["command-and-control"],"first_seen":"2016-05-07T11:22:30Z"})"},
                  {"intrusion-set",
                   R"({"type":"intrusion-set","spec_version":"2.1","id":"intrusion-set--4e78f46f-a023-4e5f-bc24-71b3ca22ec29","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"Bobcat Breakin","goals":["acquisition-theft"],"primary_motivation":"organizational-gain"})"},
                  {"location",
                   R"({"type":"location","spec_version":"2.1","id":"location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","latitude":48.8566,"longitude":2.3522,"precision":1000,"region":"europe"})"},
                  {"malware",
                   R"({"type":"malware","spec_version":"2.1","id":"malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2016-05-12T08:17:27.000Z","modified":"2016-05-12T08:17:27.000Z","name":"Cryptolocker","malware_types":["ransomware"],"is_family":false,"sample_refs":["file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"],"operating_system_refs":["software--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"]})"},
                  {"malware-analysis",
                   R"({"type":"malware-analysis","spec_version":"2.1","id":"malware-analysis--d25167b7-fed0-4068-9ccd-a73dd2c5b07c","created":"2020-01-16T18:52:24.277Z","modified":"2020-01-16T18:52:24.277Z","product":"microsoft","result":"malicious","analysis_started":"2020-01-16T18:52:24Z","analysis_ended":"2020-01-16T18:53:24Z","sample_ref":"file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"})"},
                  {"note",
                   R"({"type":"note","spec_version":"2.1","id":"note--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2016-05-12T08:17:27.000Z","modified":"2016-05-12T08:17:27.000Z","content":"This note indicates the various steps taken.","authors":["John Doe"],"object_refs":["campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]})"},
                  {"observed-data",
                   R"({"type":"observed-data","spec_version":"2.1","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf","created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":50,"object_refs":["ipv4-addr--efcd5e80-570d-4131-b213-62cb18eaa6a8","relationship--efcd5e80-570d-4131-b213-62cb18eaa6a8"]})"},
                  {"opinion",
                   R"({"type":"opinion","spec_version":"2.1","id":"opinion--b01efc25-77b4-4003-b18b-f6e24b5cd9f7","created":"2016-05-12T08:17:27.000Z","modified":"2016-05-12T08:17:27.000Z","object_refs":["relationship--16d2358f-3b0d-4c88-b047-0da2f7ed4471"],"opinion":"strongly-disagree","explanation":"This doesn't seem like it is feasible."})"},
                  {"report",
                   R"({"type":"report","spec_version":"2.1","id":"report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3","created":"2015-12-21T19:59:11.000Z","modified":"2015-12-21T19:59:11.000Z","name":"The Black Vine Cyberespionage Group","report_types":["campaign"],"published":"2016-01-20T17:00:00.000Z","object_refs":["indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"]})"},
                  {"threat-actor", R"({"type":"threat-actor","spec_version":"2.1","id":"threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","threat_actor_types":["crime-syndicate"],"name":"Evil Org","aliases":["Syndicate 1"],"roles":["director"],"sophistication":"advanced","resource_level":"team","primary_motivation":"personal-gain"})"},
                  {"tool",
                   R"({"type":"tool","spec_version":"2.1","id":"tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","tool_types":["remote-access"],"name":"VNC","tool_version":"1.0"})"},
                  {"vulnerability",
                   R"({"type":"vulnerability","spec_version":"2.1","id":"vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2016-05-12T08:17:27.000Z","modified":"2016-05-12T08:17:27.000Z","name":"CVE-2016-1234","external_references":[{"source_name":"cve","external_id":"CVE-2016-1234"}]})"},
                  {"relationship",
                   R"({"type":"relationship","spec_version":"2.1","id":"relationship--57b56a43-b8b0-4cba-9deb-34e3e1faed9e","created":"2016-04-06T20:06:37.000Z","modified":"2016-04-06T20:06:37.000Z","relationship_type":"indicates","source_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","target_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","start_time":"2016-04-06T20:06:37Z","stop_time":"2016-04-07T20:06:37Z"})"},
                  {"sighting",
                   R"({"type":"sighting","spec_version":"2.1","id":"sighting--ee20065d-2555-424f-ad9e-0f8428623c75","created":"2016-04-06T20:08:31.000Z","modified":"2016-04-06T20:08:31.000Z","first_seen":"2015-12-21T19:00:00Z","last_seen":"2015-12-21T19:00:00Z","count":50,"sighting_of_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","observed_data_refs":["observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"],"where_sighted_refs":["identity--b67d30ff-02ac-498a-92f9-32f845f448ff"],"summary":false})"},
                  {"artifact",
                   R"({"type":"artifact","spec_version":"2.1","id":"artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641","mime_type":"application/zip","url":"https://example.com/a.zip","hashes":{"SHA-256":"6b885a1e1d42c0ca66e5f8a17e5a5d29c0d5a7bbfc6a27ff8e0a9cf57b8fbf4f"},"encryption_algorithm":"mime-type-indicated","decryption_key":"My voice is my passport"})"},
                  {"autonomous-system",
                   R"({"type":"autonomous-system","spec_version":"2.1","id":"autonomous-system--f720c34b-98ae-597f-ade5-27dc241e8c74","number":15139,"name":"Slime Industries","rir":"ARIN"})"},
                  {"directory",
                   R"({"type":"directory","spec_version":"2.1","id":"directory--93c0a9b0-520d-545d-9094-1a08ddf46b05","path":"C:\\Windows\\System32","contains_refs":["file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"]})"},
                  {"domain-name",
                   R"({"type":"domain-name","spec_version":"2.1","id":"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5","value":"example.com","resolves_to_refs":["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"]})"},
                  {"email-addr",
                   R"({"type":"email-addr","spec_version":"2.1","id":"email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3","value":"john@example.com","display_name":"John Doe","belongs_to_ref":"user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c"})"},
                  {"email-message",
                   R"({"type":"email-message","spec_version":"2.1","id":"email-message--cf9b4b7f-14c8-5955-8065-020e0316b559","is_multipart":true,"received_lines":["from mail.example.com"],"content_type":"multipart/mixed","date":"2016-06-19T14:20:40.000Z","from_ref":"email-addr--89f52ea8-d6ef-51e9-8fce-6a29236436ed","to_refs":["email-addr--d1b3bf0c-f02a-51a1-8102-11aba7959868"],"subject":"Check out this picture","additional_header_fields":{"Content-Disposition":"inline","X-Mailer":"Mutt/1.5.23"},"body_multipart":[{"content_type":"text/plain","body":"Cats are funny!"},{"content_type":"image/png","body_raw_ref":"artifact--4cce66f8-6eaa-53cb-85d5-3a85fca3a6c5"}]})"},
                  {"file",
                   R"({"type":"file","spec_version":"2.1","id":"file--e277603e-1060-5ad4-9937-c26c97f1ca68","hashes":{"MD5":"3773a88f65a5e780c8dff9cdc3a056f3","SSDEEP":"96:hJb5c3tFWPTAHD1gu1WhCNKC4h:hJbKQg5WhC"},"size":25536,"name":"foo.dll","magic_number_hex":"4D5A","parent_directory_ref":"directory--93c0a9b0-520d-545d-9094-1a08ddf46b05","extensions":{"archive-ext":{"contains_refs":["file--019fde1c-94ab-5b19-8e4e-8b7a0f2b3b7c"]},"windows-pebinary-ext":{"pe_type":"exe","machine_hex":"014c","number_of_sections":4}}})"},
                  {"ipv4-addr",
                   R"({"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.0/24","resolves_to_refs":["mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00"]})"},
                  {"ipv6-addr",
                   R"({"type":"ipv6-addr","spec_version":"2.1","id":"ipv6-addr--1e61d36c-a16c-53b7-a80f-2a00161c96b1","value":"2001:0db8::/96"})"},
                  {"mac-addr",
                   R"({"type":"mac-addr","spec_version":"2.1","id":"mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00","value":"d2:fb:49:24:37:18"})"},
                  {"mutex",
                   R"({"type":"mutex","spec_version":"2.1","id":"mutex--eba44954-d4e4-5d3b-814c-2b17dd8de300","name":"__CLEANSWEEP__"})"},
                  {"network-traffic",
                   R"({"type":"network-traffic","spec_version":"2.1","id":"network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d","src_ref":"ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53","dst_ref":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","src_port":223,"dst_port":502,"protocols":["ipv4","tcp"],"start":"2016-06-19T14:20:40.000Z","end":"2016-06-19T14:20:45.000Z","extensions":{"tcp-ext":{"src_flags_hex":"00000002"},"socket-ext":{"address_family":"AF_INET","socket_type":"SOCK_STREAM"}}})"},
                  {"process",
                   R"({"type":"process","spec_version":"2.1","id":"process--f52a906a-0dfc-40bd-92f1-e7778ead38a9","pid":1221,"created_time":"2016-01-20T14:11:25.55Z","command_line":"./gedit-bin --new-window","image_ref":"file--e04f22d1-be2c-59de-add8-10f61d15fe20","extensions":{"windows-process-ext":{"aslr_enabled":true,"integrity_level":"high"}}})"},
                  {"software",
                   R"({"type":"software","spec_version":"2.1","id":"software--a1827f6d-ca53-5605-9e93-4316cd22a00a","name":"Word","cpe":"cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*","version":"2002","vendor":"Microsoft"})"},
                  {"url",
                   R"({"type":"url","spec_version":"2.1","id":"url--c1477287-23ac-5971-a010-5c287877fa60","value":"https://example.com/research/index.html"})"},
                  {"user-account",
                   R"({"type":"user-account","spec_version":"2.1","id":"user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c","user_id":"1001","account_login":"jdoe","account_type":"unix","display_name":"John Doe","is_privileged":false,"account_created":"2016-01-20T12:31:12Z","extensions":{"unix-account-ext":{"gid":1001,"groups":["wheel"],"home_dir":"/home/jdoe","shell":"/bin/bash"}}})"},
                  {"windows-registry-key",
                   R"({"type":"windows-registry-key","spec_version":"2.1","id":"windows-registry-key--2ba37ae7-2745-5082-9dfd-9486dad41016","key":"hkey_local_machine\\system\\bar\\foo","values":[{"name":"Foo","data":"qwerty","data_type":"REG_SZ"}]})"},
                  {"x509-certificate",
                   R"({"type":"x509-certificate","spec_version":"2.1","id":"x509-certificate--463d7b2a-8516-5a50-a3d7-6f801465d5de","issuer":"C=ZA, ST=Western Cape, L=Cape Town, O=Thawte Consulting cc","validity_not_before":"2016-03-12T12:00:00Z","validity_not_after":"2016-08-21T12:00:00Z","subject":"C=US, ST=Maryland, L=Pasadena, O=Brent Baccala","serial_number":"36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06","x509_v3_extensions":{"basic_constraints":"critical,CA:TRUE"}})"},
                  {"language-content",
                   R"({"type":"language-content","spec_version":"2.1","id":"language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d","created":"2017-02-08T21:31:22.007Z","modified":"2017-02-08T21:31:22.007Z","object_ref":"campaign--12a111f0-b824-4baf-a224-83b80237a094","object_modified":"2017-02-08T21:31:22.007Z","contents":{"de":{"name":"Bank Angriff 1","description":"Weitere Informationen über Banküberfall"}}})"},
                  {"marking-definition",
                   R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}})"},
                  {"extension-definition",
                   R"({"type":"extension-definition","spec_version":"2.1","id":"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e","created_by_ref":"identity--11b76a96-5d2b-45e0-8a5a-f6994f370731","created":"2014-02-20T09:16:08.000Z","modified":"2014-02-20T09:16:08.000Z","name":"Extension Foo Bar","schema":"https://www.example.com/schema-foo-1/v1/","version":"1.2.1","extension_types":["property-extension","toplevel-property-extension"],"extension_properties":["rank","toxicity"]})"},
              };
  return *samples;
}

TEST(StixValidate, EveryTypeHasAValidSample) {
  int count = 0;
  for (const auto& [type, text] : ValidSamples()) {
    json::object o = Obj(text);
    auto info = ValidateObject(o);
    EXPECT_TRUE(info.ok()) << type << ": " << info.status().message();
    ++count;
  }
  EXPECT_EQ(count, 19 + 2 + 18 + 3);
}

TEST(StixValidate, StrictModeAcceptsSamples) {
  ValidationOptions strict;
  strict.allow_custom = false;
  for (const auto& [type, text] : ValidSamples()) {
    if (type == "grouping") continue;  // refers to a custom type on purpose
    auto info = ValidateObject(Obj(text), strict);
    EXPECT_TRUE(info.ok()) << type << ": " << info.status().message();
  }
}

// Replacing any property of any sample with a value of no valid kind must be
// rejected with an error naming that property.
TEST(StixValidate, WrongKindOfEveryPropertyIsNamed) {
  int checked = 0;
  for (const auto& [type, text] : ValidSamples()) {
    json::object base = Obj(text);
    for (const auto& kv : base) {
      json::object mutated = base;
      mutated[kv.key()] = json::parse(R"([[1]])");
      auto result = ValidateObject(mutated);
      ASSERT_FALSE(result.ok()) << type << "." << kv.key();
      EXPECT_NE(result.status().message().find("'" + std::string(kv.key())), std::string::npos)
          << type << "." << kv.key() << ": " << result.status().message();
      ++checked;
    }
  }
  EXPECT_GT(checked, 300);
}

// The required properties of each type, per the spec (and the OASIS schemas).
TEST(StixValidate, MissingEachRequiredPropertyIsNamed) {
  const std::map<std::string, std::vector<std::string>> required = {
      {"attack-pattern", {"name"}},
      {"campaign", {"name"}},
      {"course-of-action", {"name"}},
      {"grouping", {"context", "object_refs"}},
      {"identity", {"name"}},
      {"incident", {"name"}},
      {"indicator", {"pattern", "pattern_type", "valid_from"}},
      {"infrastructure", {"name"}},
      {"intrusion-set", {"name"}},
      {"malware", {"is_family"}},
      {"malware-analysis", {"product"}},
      {"note", {"content", "object_refs"}},
      {"observed-data", {"first_observed", "last_observed", "number_observed"}},
      {"opinion", {"opinion", "object_refs"}},
      {"report", {"name", "published", "object_refs"}},
      {"threat-actor", {"name"}},
      {"tool", {"name"}},
      {"vulnerability", {"name"}},
      {"relationship", {"relationship_type", "source_ref", "target_ref"}},
      {"sighting", {"sighting_of_ref"}},
      {"autonomous-system", {"number"}},
      {"directory", {"path"}},
      {"domain-name", {"value"}},
      {"email-addr", {"value"}},
      {"email-message", {"is_multipart"}},
      {"ipv4-addr", {"value"}},
      {"ipv6-addr", {"value"}},
      {"mac-addr", {"value"}},
      {"mutex", {"name"}},
      {"network-traffic", {"protocols"}},
      {"software", {"name"}},
      {"url", {"value"}},
      {"language-content", {"object_ref", "contents"}},
      {"extension-definition", {"name", "schema", "version", "extension_types"}},
      {"marking-definition", {"created"}},
  };
  const std::vector<std::string> sdo_common = {"type", "id", "spec_version", "created", "modified"};
  for (const auto& [type, text] : ValidSamples()) {
    std::vector<std::string> names = IsScoType(type) ? std::vector<std::string>{"type", "id"}
                                     : type == "marking-definition"
                                         ? std::vector<std::string>{"type", "id", "spec_version"}
                                         : sdo_common;
    if (auto it = required.find(type); it != required.end()) {
      names.insert(names.end(), it->second.begin(), it->second.end());
    }
    for (const std::string& name : names) {
      json::object mutated = Obj(text);
      ASSERT_TRUE(mutated.erase(name)) << type << " sample lacks " << name;
      auto result = ValidateObject(mutated);
      ASSERT_FALSE(result.ok()) << type << " without " << name;
      EXPECT_NE(result.status().message().find("'" + name + "'"), std::string::npos)
          << type << ": " << result.status().message();
    }
  }
}

struct Mutation {
  std::string type;    // sample to start from
  std::string patch;   // JSON object merged into it; null values delete
  std::string expect;  // substring of the error
};

json::object Apply(const Mutation& m) {
  json::object o = Obj(ValidSamples().at(m.type));
  for (const auto& kv : Obj(m.patch)) {
    if (kv.value().is_null()) {
      o.erase(kv.key());
    } else {
      o[kv.key()] = kv.value();
    }
  }
  return o;
}

TEST(StixValidate, InvalidMutationsAreRejectedWithTheRule) {
  const std::vector<Mutation> mutations = {
      // identifiers and common properties
      {"indicator", R"({"id":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"})",
       "property 'id' must start with 'indicator--'"},
      {"indicator", R"({"id":"indicator--not-a-uuid"})", "property 'id' must be of the form"},
      {"indicator", R"({"type":"Indicator"})", "property 'type'"},
      {"indicator", R"({"type":"in"})", "property 'type'"},
      {"indicator", R"({"spec_version":"2.0"})", "property 'spec_version' must be \"2.1\""},
      {"indicator", R"({"created":"2016-04-06T20:03:48Z"})",
       "property 'created' must be precise to at least milliseconds"},
      {"indicator", R"({"created":"2016-13-06T20:03:48.000Z"})",
       "property 'created' must be a valid timestamp"},
      {"indicator", R"({"modified":"2016-04-06 20:03:48.000Z"})",
       "property 'modified' must be a valid timestamp"},
      {"indicator", R"({"modified":"2016-04-05T20:03:48.000Z"})",
       "property 'modified' must not be earlier than 'created'"},
      {"indicator", R"({"created_by_ref":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"})",
       "property 'created_by_ref' must reference identity, not 'malware'"},
      {"indicator", R"({"confidence":101})", "property 'confidence' must be at most 100"},
      {"indicator", R"({"confidence":-1})", "property 'confidence' must be at least 0"},
      {"indicator", R"({"confidence":50.5})", "property 'confidence' must be an integer"},
      {"indicator", R"({"revoked":"yes"})", "property 'revoked' must be a boolean"},
      {"indicator", R"({"labels":[]})", "property 'labels' must not be an empty list"},
      {"indicator", R"({"labels":["a",1]})", "property 'labels[1]' must be a string"},
      {"indicator", R"({"object_marking_refs":["identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e"]})",
       "property 'object_marking_refs[0]' must reference marking-definition, not 'identity'"},
      {"indicator", R"({"Bad-Name":1})", "property 'Bad-Name' is not a valid property name"},
      {"indicator", R"({"x_":1})", "property 'x_' is not a valid property name"},
      // indicator rules
      {"indicator", R"({"valid_until":"2016-01-01T00:00:00Z"})",
       "property 'valid_until' must be later than 'valid_from'"},
      {"indicator", R"({"pattern":""})", "property 'pattern' must not be empty"},
      {"indicator", R"({"pattern":"[file:name = 'a'"})",
       "property 'pattern' is not a valid STIX pattern"},
      {"indicator", R"({"pattern":"file:name = 'a']"})",
       "property 'pattern' is not a valid STIX pattern"},
      {"indicator", R"({"pattern":"[file:name = 'a]"})", "unterminated string"},
      {"indicator", R"({"pattern_type":""})", "property 'pattern_type' must not be empty"},
      // granular markings
      {"indicator",
       R"({"granular_markings":[{"selectors":["nonexistent"],"marking_ref":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"}]})",
       "property 'granular_markings[0].selectors[0]' 'nonexistent' does not select"},
      {"indicator",
       R"({"granular_markings":[{"selectors":["labels.[5]"],"marking_ref":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"}]})",
       "property 'granular_markings[0].selectors[0]'"},
      {"indicator", R"({"granular_markings":[{"selectors":["name"]}]})",
       "property 'granular_markings[0]' must have exactly one of 'marking_ref' and 'lang'"},
      {"indicator",
       R"({"granular_markings":[{"selectors":["name"],"lang":"en","marking_ref":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"}]})",
       "exactly one of 'marking_ref' and 'lang'"},
      {"indicator", R"({"granular_markings":[{"selectors":[],"lang":"en"}]})",
       "property 'granular_markings[0].selectors' must not be an empty list"},
      {"indicator",
       R"({"granular_markings":[{"selectors":["name"],"marking_ref":"identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e"}]})",
       "property 'granular_markings[0].marking_ref' must reference marking-definition"},
      // external references and kill chains
      {"attack-pattern", R"({"external_references":[{"url":"https://x"}]})",
       "property 'external_references[0].source_name' is required"},
      {"attack-pattern", R"({"external_references":[{"source_name":"x"}]})",
       "property 'external_references[0]' must have at least one of"},
      {"attack-pattern", R"({"external_references":[{"source_name":"capec","external_id":"163"}]})",
       "property 'external_references[0].external_id' must be a CAPEC-N"},
      {"vulnerability",
       R"({"external_references":[{"source_name":"cve","external_id":"CVE-16-1"}]})",
       "property 'external_references[0].external_id' must be a CVE"},
      {"attack-pattern",
       R"({"external_references":[{"source_name":"x","url":"u","hashes":{"MD5":"zz"}}]})",
       "property 'external_references[0].hashes.MD5' is not a valid MD5"},
      {"attack-pattern", R"({"kill_chain_phases":[{"kill_chain_name":"lm"}]})",
       "property 'kill_chain_phases[0].phase_name' is required"},
      // vocabularies
      {"opinion", R"({"opinion":"maybe"})",
       "property 'opinion' must be one of: strongly-disagree, disagree, neutral, agree, "
       "strongly-agree"},
      {"identity", R"({"identity_class":"anything-goes"})", ""},  // open vocabulary: valid
      {"extension-definition", R"({"extension_types":["new-thing"]})",
       "property 'extension_types' must contain only"},
      {"extension-definition", R"({"extension_types":["new-sdo"]})",
       "property 'extension_properties' is only allowed"},
      {"artifact", R"({"encryption_algorithm":"rot13"})",
       "property 'encryption_algorithm' must be one of"},
      {"network-traffic", R"({"extensions":{"socket-ext":{"address_family":"AF_FOO"}}})",
       "property 'extensions.socket-ext.address_family' must be one of"},
      {"process", R"({"extensions":{"windows-process-ext":{"integrity_level":"ultra"}}})",
       "property 'extensions.windows-process-ext.integrity_level' must be one of"},
      {"windows-registry-key", R"({"values":[{"name":"a","data_type":"REG_FOO"}]})",
       "property 'values[0].data_type' must be one of"},
      // references to the right types
      {"relationship", R"({"source_ref":"bundle--57b56a43-b8b0-4cba-9deb-34e3e1faed9e"})",
       "property 'source_ref' must reference an SDO or SCO"},
      {"relationship",
       R"({"target_ref":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"})",
       "property 'target_ref' must reference"},
      {"relationship", R"({"relationship_type":"Indicates"})",
       "property 'relationship_type' must contain only"},
      {"relationship", R"({"stop_time":"2016-04-06T20:06:37Z"})",
       "property 'stop_time' must be later than 'start_time'"},
      {"sighting", R"({"sighting_of_ref":"relationship--57b56a43-b8b0-4cba-9deb-34e3e1faed9e"})",
       "property 'sighting_of_ref' must reference an SDO"},
      {"sighting", R"({"where_sighted_refs":["malware--57b56a43-b8b0-4cba-9deb-34e3e1faed9e"]})",
       "property 'where_sighted_refs[0]' must reference identity or location"},
      {"sighting", R"({"observed_data_refs":["indicator--57b56a43-b8b0-4cba-9deb-34e3e1faed9e"]})",
       "property 'observed_data_refs[0]' must reference observed-data"},
      {"sighting", R"({"count":1000000000})", "property 'count' must be at most 999999999"},
      {"sighting", R"({"count":-1})", "property 'count' must be at least 0"},
      {"sighting", R"({"last_seen":"2015-12-21T18:00:00Z"})",
       "property 'last_seen' must not be earlier than 'first_seen'"},
      {"malware", R"({"sample_refs":["url--c1477287-23ac-5971-a010-5c287877fa60"]})",
       "property 'sample_refs[0]' must reference file or artifact"},
      {"email-addr", R"({"belongs_to_ref":"identity--c1477287-23ac-5971-a010-5c287877fa60"})",
       "property 'belongs_to_ref' must reference user-account"},
      {"file", R"({"parent_directory_ref":"file--c1477287-23ac-5971-a010-5c287877fa60"})",
       "property 'parent_directory_ref' must reference directory"},
      {"observed-data", R"({"object_refs":["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]})",
       "property 'object_refs[0]' must reference an SCO or relationship"},
      // mutually exclusive / dependent properties
      {"observed-data", R"({"objects":{"0":{"type":"ipv4-addr","value":"1.2.3.4"}}})",
       "property 'object_refs' must be present if and only if 'objects' is absent"},
      {"observed-data", R"({"object_refs":null})",
       "property 'object_refs' must be present if and only if"},
      {"observed-data", R"({"number_observed":0})",
       "property 'number_observed' must be at least 1"},
      {"observed-data", R"({"number_observed":1000000000})",
       "property 'number_observed' must be at most 999999999"},
      {"observed-data", R"({"last_observed":"2015-12-20T19:00:00Z"})",
       "property 'last_observed' must not be earlier than 'first_observed'"},
      {"location", R"({"latitude":91})", "property 'latitude' must be between -90 and 90"},
      {"location", R"({"longitude":-181})", "property 'longitude' must be between -180 and 180"},
      {"location", R"({"longitude":null})",
       "property 'longitude' must be present together with 'latitude'"},
      {"location", R"({"latitude":null,"longitude":null,"precision":null,"region":null})",
       "property 'region' or 'country'"},
      {"location", R"({"latitude":null,"longitude":null})", "property 'precision' requires"},
      {"malware", R"({"is_family":true,"name":null})",
       "property 'name' is required when 'is_family' is true"},
      {"malware-analysis", R"({"result":null})", "property 'result' or 'analysis_sco_refs'"},
      {"malware-analysis", R"({"analysis_ended":"2020-01-16T18:50:24Z"})",
       "property 'analysis_ended' must not be earlier than 'analysis_started'"},
      {"artifact", R"({"payload_bin":"aGVsbG8="})",
       "property 'url' must not be present with 'payload_bin'"},
      {"artifact", R"({"hashes":null})", "property 'hashes' is required when 'url' is present"},
      {"artifact", R"({"encryption_algorithm":null})",
       "property 'decryption_key' requires 'encryption_algorithm'"},
      {"artifact", R"({"url":null,"payload_bin":"not base64!"})",
       "property 'payload_bin' must be base64"},
      {"email-message", R"({"is_multipart":false})",
       "property 'body_multipart' must not be present when 'is_multipart' is false"},
      {"email-message", R"({"body":"hi"})",
       "property 'body' must not be present when 'is_multipart' is true"},
      {"email-message", R"({"body_multipart":[{"content_type":"text/plain"}]})",
       "property 'body_multipart[0]' must have exactly one of"},
      {"email-message", R"({"additional_header_fields":{"bad key":"x"}})",
       "property 'additional_header_fields' has an invalid key"},
      {"network-traffic", R"({"src_ref":null,"dst_ref":null})", "property 'src_ref' or 'dst_ref'"},
      {"network-traffic", R"({"is_active":true})",
       "property 'end' must not be present when 'is_active' is true"},
      {"network-traffic", R"({"src_port":65536})", "property 'src_port' must be at most 65535"},
      {"network-traffic", R"({"src_ref":"file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"})",
       "property 'src_ref' must reference ipv4-addr or ipv6-addr or mac-addr or domain-name"},
      {"network-traffic", R"({"end":"2016-06-19T14:20:39.000Z"})",
       "property 'end' must not be earlier than 'start'"},
      {"file", R"({"hashes":null,"name":null})", "property 'hashes' or 'name' must be present"},
      {"file", R"({"size":-1})", "property 'size' must be at least 0"},
      {"file", R"({"magic_number_hex":"4D5"})",
       "property 'magic_number_hex' must be an even number of hexadecimal digits"},
      {"file", R"({"extensions":{"archive-ext":{"comment":"x"}}})",
       "property 'extensions.archive-ext.contains_refs' is required"},
      {"file", R"({"extensions":{"tcp-ext":{"src_flags_hex":"00"}}})",
       "property 'extensions.tcp-ext' is not a predefined extension of file"},
      {"file", R"({"extensions":{"bogus":{}}})",
       "property 'extensions.bogus' is not an extension-definition id"},
      {"file",
       R"({"extensions":{"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e":"x"}})",
       "must be an object"},
      {"file",
       R"({"extensions":{"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e":{"extension_type":"new-thing"}}})",
       "extension_type' must be one of"},
      // hashes
      {"file", R"({"hashes":{"MD5":"3773a88f65a5e780c8dff9cdc3a056f"}})",
       "property 'hashes.MD5' is not a valid MD5"},
      {"file", R"({"hashes":{"SHA-1":"xyz"}})", "property 'hashes.SHA-1' is not a valid SHA-1"},
      {"file", R"({"hashes":{"SHA-256":"3773a88f65a5e780c8dff9cdc3a056f3"}})",
       "property 'hashes.SHA-256' is not a valid SHA-256"},
      {"file", R"({"hashes":{"SHA-512":"00"}})", "property 'hashes.SHA-512'"},
      {"file", R"({"hashes":{"SHA3-256":"00"}})", "property 'hashes.SHA3-256'"},
      {"file", R"({"hashes":{"TLSH":"00"}})", "property 'hashes.TLSH'"},
      {"file", R"({"hashes":{"SSDEEP":"has space"}})", "property 'hashes.SSDEEP'"},
      {"file", R"({"hashes":{}})", "property 'hashes' must contain at least one hash"},
      {"file", R"({"hashes":{"MD5":5}})", "property 'hashes.MD5' must be a string"},
      // SCO values
      {"ipv4-addr", R"({"value":"300.1.2.3"})", "property 'value' must be an IPv4 address"},
      {"ipv4-addr", R"({"value":"1.2.3.4/33"})", "property 'value' must be an IPv4 address"},
      {"ipv6-addr", R"({"value":"2001:zz::1"})", "property 'value' must be an IPv6 address"},
      {"mac-addr", R"({"value":"D2:FB:49:24:37:18"})", "property 'value' must be a lowercase"},
      {"process",
       R"({"pid":null,"created_time":null,"command_line":null,"image_ref":null,"extensions":null})",
       "at least one process-specific property"},
      {"language-content", R"({"contents":{"de":"x"}})",
       "property 'contents.de' must be an object"},
      {"language-content", R"({"object_ref":"bundle--b86bd89f-98bb-4fa9-8cb2-9ad421da981d"})",
       "property 'object_ref' must reference a STIX object"},
      // marking definitions (TLP 1.0, statement, TLP 2.0)
      {"marking-definition", R"({"definition":{"tlp":"purple"}})",
       "property 'definition.tlp' must be one of: white, green, amber, red"},
      {"marking-definition", R"({"definition":{"tlp":"red"}})",
       "property 'id' must be marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed for "
       "TLP:red"},
      {"marking-definition", R"({"definition_type":"statement","definition":{"tlp":"red"}})",
       "property 'definition.statement' is required"},
      {"marking-definition", R"({"definition":null})", "missing required property 'definition'"},
      {"marking-definition", R"({"definition_type":null})",
       "missing required property 'definition_type'"},
      {"marking-definition", R"({"definition":"green"})",
       "property 'definition' must be an object"},
      {"marking-definition", R"({"created":"2017-01-20T00:00:00Z"})",
       "property 'created' must be precise"},
      {"marking-definition",
       R"({"object_marking_refs":["identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e"]})",
       "property 'object_marking_refs[0]' must reference marking-definition"},
  };
  for (const Mutation& m : mutations) {
    auto result = ValidateObject(Apply(m));
    if (m.expect.empty()) {
      EXPECT_TRUE(result.ok()) << m.type << " " << m.patch << ": " << result.status().message();
      continue;
    }
    ASSERT_FALSE(result.ok()) << m.type << " " << m.patch;
    EXPECT_NE(result.status().message().find(m.expect), std::string::npos)
        << m.type << " " << m.patch << "\n  got: " << result.status().message()
        << "\n  want: " << m.expect;
    EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
  }
}

TEST(StixValidate, ErrorNamesObjectId) {
  auto result =
      ValidateObject(Apply({"indicator", R"({"valid_until":"2015-01-01T00:00:00Z"})", ""}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: property 'valid_until' must be later "
            "than 'valid_from'");
  result = ValidateObject(Apply({"indicator", R"({"pattern":null})", ""}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: missing required property 'pattern'");
}

TEST(StixValidate, StatementAndTlp2Markings) {
  EXPECT_TRUE(
      ValidateObject(
          Obj(R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f","created":"2017-04-14T13:07:49.812Z","definition_type":"statement","definition":{"statement":"Copyright (c) Acme"}})"))
          .ok());
  const std::string tlp2 =
      R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER+STRICT","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}})";
  auto info = ValidateObject(Obj(tlp2));
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_TRUE(info->is_marking_definition);

  json::object wrong_level = Obj(tlp2);
  wrong_level["extensions"].as_object().begin()->value().as_object()["tlp_2_0"] = "amber+";
  auto result = ValidateObject(wrong_level);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(
                "tlp_2_0' must be one of: clear, green, amber, amber+strict, red"),
            std::string::npos)
      << result.status().message();

  json::object wrong_id = Obj(tlp2);
  wrong_id["id"] = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
  result = ValidateObject(wrong_id);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("property 'id' must be marking-definition--939a9414"),
            std::string::npos)
      << result.status().message();
}

// A RED granular marking on one property makes the whole object RED for
// every sharing decision (found in review: the description leaked).
TEST(StixValidate, GranularTlpMarkingsRestrictTheWholeObject) {
  const std::string indicator =
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","description":"source: a human informant","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],"granular_markings":[{"selectors":["description"],"marking_ref":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}]})";
  auto info = ValidateObject(Obj(indicator));
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->tlp, Tlp::kRed);
}

TEST(StixValidate, CustomContent) {
  const std::string custom_type =
      R"({"type":"x-mitre-tactic","spec_version":"2.1","id":"x-mitre-tactic--69da72d2-f550-41c5-ab9e-e8255707f28a","created":"2020-05-21T17:43:26.506Z","modified":"2020-05-21T17:43:26.506Z","name":"Evasion","x_mitre_shortname":"evasion-ics"})";
  ValidationOptions strict;
  strict.allow_custom = false;
  EXPECT_TRUE(ValidateObject(Obj(custom_type)).ok());
  auto result = ValidateObject(Obj(custom_type), strict);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("property 'type'"), std::string::npos);

  // Custom SDOs still need valid common properties.
  json::object bad = Obj(custom_type);
  bad["created"] = "yesterday";
  result = ValidateObject(bad);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("property 'created'"), std::string::npos);

  // A custom property on a standard type: fine with allow_custom only.
  json::object with_custom = Obj(ValidSamples().at("indicator"));
  with_custom["x_acme_score"] = 3;
  EXPECT_TRUE(ValidateObject(with_custom).ok());
  result = ValidateObject(with_custom, strict);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(
      result.status().message().find("property 'x_acme_score' is not a property of indicator"),
      std::string::npos);

  // A type declared through an extension definition is the spec's own
  // mechanism and passes even in strict mode; so do toplevel properties.
  const std::string new_sdo =
      R"({"type":"my-favorite-sdo","spec_version":"2.1","id":"my-favorite-sdo--ac97aae4-83f1-46ca-a351-7aeb76678189","created":"2014-02-20T09:16:08.989Z","modified":"2014-02-20T09:16:08.989Z","name":"This is the name of my favorite","some_property_name1":"value1","extensions":{"extension-definition--9c59fd79-4215-4ba2-920d-3e4f320e1e62":{"extension_type":"new-sdo"}}})";
  EXPECT_TRUE(ValidateObject(Obj(new_sdo), strict).ok());
  json::object toplevel = Obj(ValidSamples().at("indicator"));
  toplevel["rank"] = 5;
  toplevel["extensions"] = json::parse(
      R"({"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e":{"extension_type":"toplevel-property-extension"}})");
  EXPECT_TRUE(ValidateObject(toplevel, strict).ok())
      << ValidateObject(toplevel, strict).status().message();
}

TEST(StixValidate, ScoWithRandomOrDifferentIdIsAccepted) {
  // SCO ids SHOULD be deterministic; a v4 id must not be rejected.
  json::object o = Obj(ValidSamples().at("ipv4-addr"));
  o["id"] = "ipv4-addr--" + NewUuid4();
  EXPECT_TRUE(ValidateObject(o).ok());
}

TEST(StixValidate, DescribeObjectFillsInfo) {
  auto info = ValidateObject(Obj(ValidSamples().at("indicator")));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->type, "indicator");
  EXPECT_EQ(info->spec_version, "2.1");
  EXPECT_EQ(info->created, "2016-04-06T20:03:48.000Z");
  EXPECT_EQ(info->created_us, 1459973028000000);
  EXPECT_EQ(info->modified_us, 1459973028000000);
  EXPECT_FALSE(info->revoked);
  // GREEN on the object, AMBER (TLP 1.0) on its name: the object is AMBER.
  EXPECT_EQ(info->tlp, Tlp::kAmber);
  EXPECT_FALSE(info->is_marking_definition);

  json::object o = Obj(ValidSamples().at("indicator"));
  o["revoked"] = true;
  o["object_marking_refs"] = json::parse(
      R"(["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"])");
  info = ValidateObject(o);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_TRUE(info->revoked);
  EXPECT_EQ(info->tlp, Tlp::kRed);
  EXPECT_EQ(info->object_marking_refs.size(), 3u);

  ObjectInfo sco = DescribeObject(Obj(ValidSamples().at("url")));
  EXPECT_EQ(sco.created_us, 0);
  EXPECT_TRUE(sco.created.empty());
}

TEST(StixValidate, NonObjectsAndGarbageDoNotThrow) {
  for (const char* text : {"{}", R"({"type":5})", R"({"type":"indicator"})",
                           R"({"type":"indicator","id":5})", R"({"id":"x","type":"x"})"}) {
    auto result = ValidateObject(Obj(text));
    EXPECT_FALSE(result.ok()) << text;
  }
}

TEST(StixValidate, DepthLimit) {
  json::object o = Obj(ValidSamples().at("indicator"));
  json::value deep = json::array();
  for (int i = 0; i < 100; ++i) {
    json::array wrap;
    wrap.push_back(std::move(deep));
    deep = std::move(wrap);
  }
  o["x_deep"] = std::move(deep);
  auto result = ValidateObject(o);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("nesting deeper than 64"), std::string::npos);
}

TEST(StixBundle, Envelope) {
  EXPECT_TRUE(
      ValidateBundleEnvelope(
          Obj(R"({"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{}]})"))
          .ok());
  EXPECT_FALSE(ValidateBundleEnvelope(Obj(R"({"type":"bundle","id":"bundle--x"})")).ok());
  EXPECT_FALSE(
      ValidateBundleEnvelope(
          Obj(R"({"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[1]})"))
          .ok());
  EXPECT_FALSE(
      ValidateBundleEnvelope(
          Obj(R"({"type":"indicator","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"})"))
          .ok());
}

TEST(StixJson, ParseErrorsGiveBytePosition) {
  auto result = ParseJson(R"({"a": })");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message().rfind("invalid JSON at byte 6: ", 0), 0u)
      << result.status().message();
  result = ParseJson(R"({"a": 1} x)");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message().rfind("invalid JSON at byte 9: ", 0), 0u)
      << result.status().message();
  result = ParseJson("");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message().rfind("invalid JSON at byte 0: ", 0), 0u);
  result = ParseJson("\"\xff\"");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(ParseJson(" {\"a\": [1, 2.5, null]} \n").ok());
}

TEST(StixJson, DepthLimit) {
  std::string ok(64, '[');
  ok += std::string(64, ']');
  EXPECT_TRUE(ParseJson(ok, 64).ok());
  std::string deep(65, '[');
  deep += std::string(65, ']');
  auto result = ParseJson(deep, 64);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("invalid JSON at byte 64"), std::string::npos)
      << result.status().message();
  EXPECT_FALSE(ParseJson(std::string(100000, '['), 64).ok());
}

TEST(StixJson, CanonicalJsonFollowsRfc8785) {
  auto v = ParseJson(
      R"({"b":[1,2.5,true,null],"a":{"z":"\u0001\"\\\n","y":-0.0},"\u20ac":1,"\ud83d\ude00":2,"c":1e21,"d":1e-7,"e":0.000001,"f":123456789012})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(
      CanonicalJson(*v),
      "{\"a\":{\"y\":0,\"z\":\"\\u0001\\\"\\\\\\n\"},\"b\":[1,2.5,true,null],\"c\":1e+21,"
      "\"d\":1e-7,\"e\":0.000001,\"f\":123456789012,\"\xe2\x82\xac\":1,\"\xf0\x9f\x98\x80\":2}");
  // RFC 8785 §3.2.2.3 samples.
  EXPECT_EQ(CanonicalJson(json::value(333333333.33333329)), "333333333.3333333");
  EXPECT_EQ(CanonicalJson(json::value(1E30)), "1e+30");
  EXPECT_EQ(CanonicalJson(json::value(4.50)), "4.5");
  EXPECT_EQ(CanonicalJson(json::value(2e-3)), "0.002");
  EXPECT_EQ(CanonicalJson(json::value(0.000000000000000000000000001)), "1e-27");
}

TEST(StixScoId, MatchesUuid5OfCanonicalValue) {
  // uuid.uuid5(UUID("00abedb4-aa42-466c-9c01-fed23315a9b7"), '{"value":"198.51.100.3"}')
  EXPECT_EQ(DeterministicScoId(Obj(R"({"type":"ipv4-addr","value":"198.51.100.3"})")),
            "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
  EXPECT_EQ(DeterministicScoId(
                Obj(R"({"type":"domain-name","value":"example.com","id":"domain-name--x"})")),
            "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7");
}

TEST(StixScoId, DeterministicAndKeyOrderIndependent) {
  std::string a = DeterministicScoId(Obj(
      R"({"type":"network-traffic","src_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","dst_port":80,"protocols":["tcp"],"src_byte_count":100})"));
  std::string b = DeterministicScoId(Obj(
      R"({"protocols":["tcp"],"dst_port":80,"type":"network-traffic","src_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"})"));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.rfind("network-traffic--", 0), 0u);
  EXPECT_EQ(UuidVersion(a.substr(17)), 5);
  // Non-contributing properties do not matter; contributing ones do.
  std::string c = DeterministicScoId(Obj(
      R"({"type":"network-traffic","src_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","dst_port":81,"protocols":["tcp"]})"));
  EXPECT_NE(a, c);
  EXPECT_EQ(
      a,
      DeterministicScoId(Obj(
          R"({"type":"network-traffic","src_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","dst_port":80,"protocols":["tcp"]})")));
}

TEST(StixScoId, HashesUsePreferredAlgorithmOnly) {
  const std::string md5 = "3773a88f65a5e780c8dff9cdc3a056f3";
  std::string only_md5 =
      DeterministicScoId(Obj(R"({"type":"file","hashes":{"MD5":")" + md5 + R"("}})"));
  std::string both = DeterministicScoId(Obj(
      R"({"type":"file","hashes":{"SHA-256":"6b885a1e1d42c0ca66e5f8a17e5a5d29c0d5a7bbfc6a27ff8e0a9cf57b8fbf4f","MD5":")" +
      md5 + R"("}})"));
  EXPECT_EQ(only_md5, both);
  EXPECT_EQ(only_md5,
            "file--" + Uuid5(kStixScoNamespace, R"({"hashes":{"MD5":")" + md5 + R"("}})"));
}

TEST(StixScoId, NoContributingPropertiesGiveEmpty) {
  EXPECT_EQ(DeterministicScoId(Obj(R"({"type":"process","pid":1})")), "");
  EXPECT_EQ(DeterministicScoId(Obj(R"({"type":"file","size":1})")), "");
  EXPECT_EQ(DeterministicScoId(Obj(R"({"type":"indicator","value":"x"})")), "");
  EXPECT_EQ(DeterministicScoId(Obj(R"({"type":5})")), "");
}

TEST(StixScoId, IsScoType) {
  int count = 0;
  for (const auto& [type, text] : ValidSamples()) count += IsScoType(type);
  EXPECT_EQ(count, 18);
  EXPECT_FALSE(IsScoType("indicator"));
  EXPECT_FALSE(IsScoType("x-custom"));
}

TEST(StixTlp, NamesAndIds) {
  EXPECT_EQ(TlpName(Tlp::kAmberStrict), "amber+strict");
  EXPECT_EQ(TlpName(Tlp::kNone), "");
  EXPECT_EQ(*ParseTlp("TLP:WHITE"), Tlp::kClear);
  EXPECT_EQ(*ParseTlp("tlp:Amber+Strict"), Tlp::kAmberStrict);
  EXPECT_EQ(*ParseTlp("RED"), Tlp::kRed);
  EXPECT_FALSE(ParseTlp("purple").ok());
  EXPECT_FALSE(ParseTlp("").ok());

  EXPECT_EQ(TlpOfMarkingId("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Tlp::kClear);
  EXPECT_EQ(TlpOfMarkingId("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"),
            Tlp::kGreen);
  EXPECT_EQ(TlpOfMarkingId("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),
            Tlp::kAmber);
  EXPECT_EQ(TlpOfMarkingId("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"), Tlp::kRed);
  EXPECT_EQ(TlpOfMarkingId("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
            Tlp::kClear);
  EXPECT_EQ(TlpOfMarkingId("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
            Tlp::kGreen);
  EXPECT_EQ(TlpOfMarkingId("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
            Tlp::kAmber);
  EXPECT_EQ(TlpOfMarkingId("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
            Tlp::kAmberStrict);
  EXPECT_EQ(TlpOfMarkingId("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"), Tlp::kRed);
  EXPECT_EQ(TlpOfMarkingId("marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"), Tlp::kNone);
  for (Tlp tlp : {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict, Tlp::kRed}) {
    EXPECT_EQ(TlpOfMarkingId(TlpMarkingId(tlp)), tlp);
  }
  EXPECT_EQ(TlpMarkingId(Tlp::kNone), "");
  EXPECT_EQ(Tlp1MarkingId(Tlp::kAmberStrict), "");
  EXPECT_EQ(MostRestrictiveTlp(Tlp::kAmber, Tlp::kGreen), Tlp::kAmber);
  EXPECT_EQ(MostRestrictiveTlp(Tlp::kNone, Tlp::kClear), Tlp::kClear);
}

TEST(StixPattern, CheckerHookIsUsed) {
  ValidationOptions options;
  options.stix_pattern_checker = [](std::string_view) -> Status {
    return InvalidArgument("unexpected token");
  };
  auto result = ValidateObject(Obj(ValidSamples().at("indicator")), options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(
                "property 'pattern' is not a valid STIX pattern: unexpected token"),
            std::string::npos);
  // Non-STIX pattern languages are not checked.
  json::object snort = Obj(ValidSamples().at("indicator"));
  snort["pattern_type"] = "snort";
  snort["pattern"] = "alert tcp any any -> any 80 (msg:\"x\";";
  EXPECT_TRUE(ValidateObject(snort, options).ok());
}

// Random byte flips, truncations and splices of real objects: never a crash
// or an exception, whatever ParseJson and ValidateObject make of them.
TEST(StixFuzz, MutatedJsonNeverCrashes) {
  std::vector<std::string> seeds;
  for (const auto& [type, text] : ValidSamples()) seeds.push_back(text);
  std::mt19937 rng(12345);
  const std::string alphabet = "{}[]\",:0123456789.eE-+tfnul\\ abcxyz_";
  int parsed_objects = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = seeds[rng() % seeds.size()];
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t pos = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(pos, 1 + rng() % 8);
          break;
        case 2:
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 3:
          text.resize(pos);
          break;
      }
    }
    auto parsed = ParseJson(text);
    if (!parsed.ok() || !parsed->is_object()) continue;
    ++parsed_objects;
    auto result = ValidateObject(parsed->get_object());
    if (!result.ok()) {
      EXPECT_NE(result.status().code(), Code::kInternal) << result.status().message() << "\n"
                                                         << text;
    }
    DescribeObject(parsed->get_object());
    DeterministicScoId(parsed->get_object());
    CanonicalJson(*parsed);
  }
  EXPECT_GT(parsed_objects, 1000);
}

// How fast ValidateObject is (microseconds per typical indicator) is
// measured by bench/validation_bench.cc, not asserted here.

}  // namespace
}  // namespace kizuna::stix
