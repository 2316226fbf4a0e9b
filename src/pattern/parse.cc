// Lexer and recursive-descent parser for STIX 2.1 patterns (see pattern.h).
#include <arpa/inet.h>
#include <re2/re2.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/encoding.h"
#include "common/time.h"
#include "pattern/pattern.h"

namespace kizuna::pattern {
namespace {

enum class Tok {
  kEnd,
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kColon,
  kDot,
  kComma,
  kStar,
  kEq,
  kNeq,
  kLt,
  kLe,
  kGt,
  kGe,
  kIdentifier,
  kString,
  kInt,
  kFloat,
  kBool,
  kTimestamp,
  kHex,
  kBinary,
  // Keywords.
  kAnd,
  kOr,
  kNot,
  kFollowedBy,
  kLike,
  kMatches,
  kIsSubset,
  kIsSuperset,
  kExists,
  kIn,
  kStart,
  kStop,
  kSeconds,
  kWithin,
  kRepeats,
  kTimes,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t position = 0;
  std::string_view raw;  // the token's text in the pattern (for messages)
  Literal literal;       // literal tokens; kIdentifier keeps its name in literal.text
};

struct Keyword {
  std::string_view text;
  Tok kind;
};
constexpr Keyword kKeywords[] = {
    {"AND", Tok::kAnd},           {"OR", Tok::kOr},
    {"NOT", Tok::kNot},           {"FOLLOWEDBY", Tok::kFollowedBy},
    {"LIKE", Tok::kLike},         {"MATCHES", Tok::kMatches},
    {"ISSUBSET", Tok::kIsSubset}, {"ISSUPERSET", Tok::kIsSuperset},
    {"EXISTS", Tok::kExists},     {"IN", Tok::kIn},
    {"START", Tok::kStart},       {"STOP", Tok::kStop},
    {"SECONDS", Tok::kSeconds},   {"WITHIN", Tok::kWithin},
    {"REPEATS", Tok::kRepeats},   {"TIMES", Tok::kTimes},
};

std::string Describe(const Token& token) {
  if (token.kind == Tok::kEnd) return "end of pattern";
  std::string_view raw = token.raw;
  if (raw.size() > 40) return "'" + std::string(raw.substr(0, 37)) + "...'";
  return "'" + std::string(raw) + "'";
}

Status ErrorAt(size_t position, std::string_view what) {
  return InvalidArgument("pattern error at position " + std::to_string(position) + ": " +
                         std::string(what));
}

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}
int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Status Run(std::vector<Token>* tokens) {
    while (true) {
      KIZUNA_RETURN_IF_ERROR(SkipSpaceAndComments());
      Token token;
      token.position = pos_;
      if (pos_ >= text_.size()) {
        tokens->push_back(token);
        return Status::Ok();
      }
      KIZUNA_RETURN_IF_ERROR(Next(&token));
      token.raw = text_.substr(token.position, pos_ - token.position);
      tokens->push_back(std::move(token));
    }
  }

 private:
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  Status SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
        ++pos_;
      } else if (c == '/' && Peek(1) == '*') {
        size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return ErrorAt(pos_, "unterminated comment");
        pos_ = end + 2;
      } else if (c == '/' && Peek(1) == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

  Status Next(Token* token) {
    char c = text_[pos_];
    auto single = [&](Tok kind) {
      token->kind = kind;
      ++pos_;
      return Status::Ok();
    };
    switch (c) {
      case '[':
        return single(Tok::kLBracket);
      case ']':
        return single(Tok::kRBracket);
      case '(':
        return single(Tok::kLParen);
      case ')':
        return single(Tok::kRParen);
      case ':':
        return single(Tok::kColon);
      case ',':
        return single(Tok::kComma);
      case '*':
        return single(Tok::kStar);
      case '=':
        token->kind = Tok::kEq;
        pos_ += Peek(1) == '=' ? 2 : 1;
        return Status::Ok();
      case '!':
        if (Peek(1) != '=') return ErrorAt(pos_, "expected '!=' but found '!'");
        token->kind = Tok::kNeq;
        pos_ += 2;
        return Status::Ok();
      case '<':
        if (Peek(1) == '=') {
          token->kind = Tok::kLe;
          pos_ += 2;
        } else if (Peek(1) == '>') {
          token->kind = Tok::kNeq;
          pos_ += 2;
        } else {
          token->kind = Tok::kLt;
          ++pos_;
        }
        return Status::Ok();
      case '>':
        if (Peek(1) == '=') {
          token->kind = Tok::kGe;
          pos_ += 2;
        } else {
          token->kind = Tok::kGt;
          ++pos_;
        }
        return Status::Ok();
      case '\'':
        return LexString(token);
      default:
        break;
    }
    if (c == '.' && !std::isdigit(static_cast<unsigned char>(Peek(1)))) return single(Tok::kDot);
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-') {
      return LexNumber(token);
    }
    if (Peek(1) == '\'' && (c == 't' || c == 'h' || c == 'b')) {
      size_t start = pos_;
      ++pos_;
      KIZUNA_RETURN_IF_ERROR(LexString(token));
      std::string body = std::move(token->literal.text);
      token->literal = Literal{};
      if (c == 't') return MakeTimestamp(start, body, token);
      if (c == 'h') return MakeHex(start, body, token);
      return MakeBinary(start, body, token);
    }
    if (IsIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      std::string_view word = text_.substr(start, pos_ - start);
      for (const Keyword& keyword : kKeywords) {
        if (word == keyword.text) {
          token->kind = keyword.kind;
          return Status::Ok();
        }
      }
      if (word == "true" || word == "false") {
        token->kind = Tok::kBool;
        token->literal.kind = LiteralKind::kBool;
        token->literal.bool_value = word == "true";
        token->literal.text = std::string(word);
        return Status::Ok();
      }
      token->kind = Tok::kIdentifier;
      token->literal.text = std::string(word);
      return Status::Ok();
    }
    std::string shown =
        static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f
            ? "byte 0x" + std::string(1, "0123456789abcdef"[(c >> 4) & 0xf]) +
                  std::string(1, "0123456789abcdef"[c & 0xf])
            : "'" + std::string(1, c) + "'";
    return ErrorAt(pos_, "unexpected character " + shown);
  }

  // A quoted string at pos_: only \' and \\ are escapes (as in the grammar).
  Status LexString(Token* token) {
    size_t start = pos_;
    ++pos_;  // opening quote
    std::string value;
    while (true) {
      if (pos_ >= text_.size()) return ErrorAt(start, "unterminated string literal");
      char c = text_[pos_];
      if (c == '\'') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        char next = Peek(1);
        if (next != '\'' && next != '\\') {
          return ErrorAt(pos_, std::string("invalid escape in string literal: only \\' and \\\\ "
                                           "are allowed (write \\\\ for a backslash)"));
        }
        value.push_back(next);
        pos_ += 2;
        continue;
      }
      value.push_back(c);
      ++pos_;
    }
    token->kind = Tok::kString;
    token->literal.kind = LiteralKind::kString;
    token->literal.text = std::move(value);
    return Status::Ok();
  }

  Status LexNumber(Token* token) {
    size_t start = pos_;
    if (Peek() == '+' || Peek() == '-') ++pos_;
    size_t digits_start = pos_;
    while (std::isdigit(static_cast<unsigned char>(Peek()))) ++pos_;
    bool is_float = false;
    if (Peek() == '.' && std::isdigit(static_cast<unsigned char>(Peek(1)))) {
      is_float = true;
      ++pos_;
      while (std::isdigit(static_cast<unsigned char>(Peek()))) ++pos_;
    }
    if (pos_ == digits_start) return ErrorAt(start, "expected a number after the sign");
    if (IsIdentStart(Peek()))
      return ErrorAt(pos_, "unexpected character '" + std::string(1, Peek()) + "' in number");
    std::string text(text_.substr(start, pos_ - start));
    std::string_view unsigned_text = text;
    if (!unsigned_text.empty() && unsigned_text[0] == '+') unsigned_text.remove_prefix(1);
    token->literal.text = text;
    if (is_float) {
      token->kind = Tok::kFloat;
      token->literal.kind = LiteralKind::kFloat;
      token->literal.float_value = std::strtod(std::string(unsigned_text).c_str(), nullptr);
      if (!std::isfinite(token->literal.float_value)) return ErrorAt(start, "number out of range");
      return Status::Ok();
    }
    int64_t value = 0;
    auto [end, ec] =
        std::from_chars(unsigned_text.data(), unsigned_text.data() + unsigned_text.size(), value);
    if (ec != std::errc() || end != unsigned_text.data() + unsigned_text.size()) {
      return ErrorAt(start, "integer out of range");
    }
    token->kind = Tok::kInt;
    token->literal.kind = LiteralKind::kInt;
    token->literal.int_value = value;
    token->literal.float_value = static_cast<double>(value);
    return Status::Ok();
  }

  Status MakeTimestamp(size_t start, const std::string& body, Token* token) {
    Result<int64_t> micros = ParseTimestamp(body);
    if (!micros.ok()) {
      return ErrorAt(start,
                     "invalid timestamp literal t'" + body + "': " + micros.status().message());
    }
    token->kind = Tok::kTimestamp;
    token->literal.kind = LiteralKind::kTimestamp;
    token->literal.text = body;
    token->literal.timestamp_us = *micros;
    return Status::Ok();
  }

  Status MakeHex(size_t start, const std::string& body, Token* token) {
    if (body.size() % 2 != 0) return ErrorAt(start, "hex literal needs an even number of digits");
    std::string bytes;
    for (size_t i = 0; i < body.size(); i += 2) {
      int high = HexDigitValue(body[i]), low = HexDigitValue(body[i + 1]);
      if (high < 0 || low < 0) return ErrorAt(start, "hex literal may hold only hex digits");
      bytes.push_back(static_cast<char>(high * 16 + low));
    }
    token->kind = Tok::kHex;
    token->literal.kind = LiteralKind::kHex;
    token->literal.text = std::move(bytes);
    return Status::Ok();
  }

  Status MakeBinary(size_t start, const std::string& body, Token* token) {
    if (body.size() % 4 != 0)
      return ErrorAt(start, "binary literal must be base64 (length a multiple of 4)");
    std::string bytes;
    uint32_t acc = 0;
    int bits = 0;
    size_t padding = 0;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (c == '=') {
        if (i + 2 < body.size() || ++padding > 2)
          return ErrorAt(start, "binary literal has misplaced '=' padding");
        continue;
      }
      if (padding > 0) return ErrorAt(start, "binary literal has misplaced '=' padding");
      int v = Base64Value(c);
      if (v < 0) return ErrorAt(start, "binary literal may hold only base64 characters");
      acc = (acc << 6) | static_cast<uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes.push_back(static_cast<char>((acc >> bits) & 0xff));
      }
    }
    token->kind = Tok::kBinary;
    token->literal.kind = LiteralKind::kBinary;
    token->literal.text = std::move(bytes);
    return Status::Ok();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

std::string TokName(Tok kind) {
  switch (kind) {
    case Tok::kEnd:
      return "end of pattern";
    case Tok::kLBracket:
      return "'['";
    case Tok::kRBracket:
      return "']'";
    case Tok::kLParen:
      return "'('";
    case Tok::kRParen:
      return "')'";
    case Tok::kColon:
      return "':'";
    case Tok::kDot:
      return "'.'";
    case Tok::kComma:
      return "','";
    case Tok::kStar:
      return "'*'";
    case Tok::kSeconds:
      return "'SECONDS'";
    case Tok::kTimes:
      return "'TIMES'";
    case Tok::kStop:
      return "'STOP'";
    default:
      return "token";
  }
}

bool IsLiteralToken(Tok kind) {
  return kind == Tok::kString || kind == Tok::kInt || kind == Tok::kFloat || kind == Tok::kBool ||
         kind == Tok::kTimestamp || kind == Tok::kHex || kind == Tok::kBinary;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Pattern> Run() {
    Pattern pattern;
    KIZUNA_RETURN_IF_ERROR(ParseFollowedBy(&pattern.root));
    if (Cur().kind != Tok::kEnd) {
      return Expected("FOLLOWEDBY, AND, OR or a qualifier");
    }
    return pattern;
  }

 private:
  const Token& Cur() const { return tokens_[index_]; }
  void Advance() {
    if (index_ + 1 < tokens_.size()) ++index_;
  }
  Status Expected(std::string_view what) const {
    return ErrorAt(Cur().position,
                   "expected " + std::string(what) + " but found " + Describe(Cur()));
  }
  Status Expect(Tok kind) {
    if (Cur().kind != kind) return Expected(TokName(kind));
    Advance();
    return Status::Ok();
  }
  Status Enter() {
    if (++depth_ > kMaxNestingDepth) {
      return Status(Code::kTooLarge, "pattern error at position " + std::to_string(Cur().position) +
                                         ": nesting deeper than " +
                                         std::to_string(kMaxNestingDepth) + " levels");
    }
    return Status::Ok();
  }

  // obs_fby / obs_or / obs_and: n-ary chains of one operator.
  using ObsParse = Status (Parser::*)(ObservationExpression*);
  Status ParseObsChain(ObservationExpression* out, Tok op, ObservationExpression::Kind kind,
                       ObsParse operand) {
    size_t position = Cur().position;
    ObservationExpression first;
    KIZUNA_RETURN_IF_ERROR((this->*operand)(&first));
    if (Cur().kind != op) {
      *out = std::move(first);
      return Status::Ok();
    }
    out->kind = kind;
    out->position = position;
    out->children.push_back(std::move(first));
    while (Cur().kind == op) {
      Advance();
      ObservationExpression next;
      KIZUNA_RETURN_IF_ERROR((this->*operand)(&next));
      out->children.push_back(std::move(next));
    }
    return Status::Ok();
  }
  Status ParseFollowedBy(ObservationExpression* out) {
    return ParseObsChain(out, Tok::kFollowedBy, ObservationExpression::Kind::kFollowedBy,
                         &Parser::ParseObsOr);
  }
  Status ParseObsOr(ObservationExpression* out) {
    return ParseObsChain(out, Tok::kOr, ObservationExpression::Kind::kOr, &Parser::ParseObsAnd);
  }
  Status ParseObsAnd(ObservationExpression* out) {
    return ParseObsChain(out, Tok::kAnd, ObservationExpression::Kind::kAnd, &Parser::ParseObsUnit);
  }

  Status ParseObsUnit(ObservationExpression* out) {
    KIZUNA_RETURN_IF_ERROR(Enter());
    size_t position = Cur().position;
    if (Cur().kind == Tok::kLBracket) {
      Advance();
      out->kind = ObservationExpression::Kind::kComparison;
      out->position = position;
      KIZUNA_RETURN_IF_ERROR(ParseCmpOr(&out->comparison));
      KIZUNA_RETURN_IF_ERROR(Expect(Tok::kRBracket));
    } else if (Cur().kind == Tok::kLParen) {
      Advance();
      KIZUNA_RETURN_IF_ERROR(ParseFollowedBy(out));
      KIZUNA_RETURN_IF_ERROR(Expect(Tok::kRParen));
    } else {
      return Expected("'[' or '('");
    }
    --depth_;
    // Qualifiers wrap what precedes them; several may follow one another.
    while (true) {
      ObservationExpression qualified;
      qualified.position = Cur().position;
      if (Cur().kind == Tok::kWithin) {
        Advance();
        double seconds = 0;
        if (Cur().kind == Tok::kInt)
          seconds = static_cast<double>(Cur().literal.int_value);
        else if (Cur().kind == Tok::kFloat)
          seconds = Cur().literal.float_value;
        else
          return Expected("a number of seconds");
        if (!(seconds > 0) || seconds > 1e12) {
          return ErrorAt(Cur().position, "WITHIN needs a positive number of seconds");
        }
        Advance();
        KIZUNA_RETURN_IF_ERROR(Expect(Tok::kSeconds));
        qualified.kind = ObservationExpression::Kind::kWithin;
        qualified.within_us = static_cast<int64_t>(std::llround(seconds * 1e6));
        if (qualified.within_us <= 0) qualified.within_us = 1;
      } else if (Cur().kind == Tok::kRepeats) {
        Advance();
        if (Cur().kind != Tok::kInt) return Expected("a positive integer");
        if (Cur().literal.int_value < 1)
          return ErrorAt(Cur().position, "REPEATS needs a positive count");
        qualified.kind = ObservationExpression::Kind::kRepeats;
        qualified.repeats = Cur().literal.int_value;
        Advance();
        KIZUNA_RETURN_IF_ERROR(Expect(Tok::kTimes));
      } else if (Cur().kind == Tok::kStart) {
        Advance();
        if (Cur().kind != Tok::kTimestamp) return Expected("a timestamp literal t'...'");
        qualified.start_us = Cur().literal.timestamp_us;
        Advance();
        KIZUNA_RETURN_IF_ERROR(Expect(Tok::kStop));
        if (Cur().kind != Tok::kTimestamp) return Expected("a timestamp literal t'...'");
        qualified.stop_us = Cur().literal.timestamp_us;
        if (qualified.stop_us <= qualified.start_us) {
          return ErrorAt(Cur().position, "STOP must be later than START");
        }
        Advance();
        qualified.kind = ObservationExpression::Kind::kStartStop;
      } else {
        return Status::Ok();
      }
      qualified.children.push_back(std::move(*out));
      *out = std::move(qualified);
    }
  }

  using CmpParse = Status (Parser::*)(ComparisonExpression*);
  Status ParseCmpChain(ComparisonExpression* out, Tok op, ComparisonExpression::Kind kind,
                       CmpParse operand) {
    size_t position = Cur().position;
    ComparisonExpression first;
    KIZUNA_RETURN_IF_ERROR((this->*operand)(&first));
    if (Cur().kind != op) {
      *out = std::move(first);
      return Status::Ok();
    }
    out->kind = kind;
    out->position = position;
    out->children.push_back(std::move(first));
    while (Cur().kind == op) {
      Advance();
      ComparisonExpression next;
      KIZUNA_RETURN_IF_ERROR((this->*operand)(&next));
      out->children.push_back(std::move(next));
    }
    return Status::Ok();
  }
  Status ParseCmpOr(ComparisonExpression* out) {
    return ParseCmpChain(out, Tok::kOr, ComparisonExpression::Kind::kOr, &Parser::ParseCmpAnd);
  }
  Status ParseCmpAnd(ComparisonExpression* out) {
    return ParseCmpChain(out, Tok::kAnd, ComparisonExpression::Kind::kAnd, &Parser::ParseTest);
  }

  Status ParseTest(ComparisonExpression* out) {
    out->position = Cur().position;
    if (Cur().kind == Tok::kLParen) {
      KIZUNA_RETURN_IF_ERROR(Enter());
      Advance();
      KIZUNA_RETURN_IF_ERROR(ParseCmpOr(out));
      KIZUNA_RETURN_IF_ERROR(Expect(Tok::kRParen));
      --depth_;
      return Status::Ok();
    }
    out->kind = ComparisonExpression::Kind::kTest;
    if (Cur().kind == Tok::kNot || Cur().kind == Tok::kExists) {
      if (Cur().kind == Tok::kNot) {
        out->negated = true;
        Advance();
        if (Cur().kind != Tok::kExists) return Expected("EXISTS");
      }
      Advance();
      out->op = CompareOp::kExists;
      return ParsePath(&out->path);
    }
    if (Cur().kind != Tok::kIdentifier) return Expected("an object path, EXISTS or '('");
    KIZUNA_RETURN_IF_ERROR(ParsePath(&out->path));
    if (Cur().kind == Tok::kNot) {
      out->negated = true;
      Advance();
    }
    size_t op_position = Cur().position;
    switch (Cur().kind) {
      case Tok::kEq:
        out->op = CompareOp::kEqual;
        break;
      case Tok::kNeq:
        out->op = CompareOp::kNotEqual;
        break;
      case Tok::kLt:
        out->op = CompareOp::kLess;
        break;
      case Tok::kLe:
        out->op = CompareOp::kLessOrEqual;
        break;
      case Tok::kGt:
        out->op = CompareOp::kGreater;
        break;
      case Tok::kGe:
        out->op = CompareOp::kGreaterOrEqual;
        break;
      case Tok::kIn:
        out->op = CompareOp::kIn;
        break;
      case Tok::kLike:
        out->op = CompareOp::kLike;
        break;
      case Tok::kMatches:
        out->op = CompareOp::kMatches;
        break;
      case Tok::kIsSubset:
        out->op = CompareOp::kIsSubset;
        break;
      case Tok::kIsSuperset:
        out->op = CompareOp::kIsSuperset;
        break;
      default:
        return Expected(out->negated ? "a comparison operator"
                                     : "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, "
                                       "MATCHES, ISSUBSET, ISSUPERSET)");
    }
    Advance();
    switch (out->op) {
      case CompareOp::kEqual:
      case CompareOp::kNotEqual:
        if (!IsLiteralToken(Cur().kind)) return Expected("a literal");
        out->literals.push_back(Cur().literal);
        Advance();
        return Status::Ok();
      case CompareOp::kLess:
      case CompareOp::kLessOrEqual:
      case CompareOp::kGreater:
      case CompareOp::kGreaterOrEqual:
        if (!IsLiteralToken(Cur().kind) || Cur().kind == Tok::kBool) {
          return Expected("an orderable literal (number, string, timestamp, hex or binary)");
        }
        out->literals.push_back(Cur().literal);
        Advance();
        return Status::Ok();
      case CompareOp::kIn:
        return ParseSet(out);
      default:
        break;
    }
    if (Cur().kind != Tok::kString) return Expected("a string literal");
    out->literals.push_back(Cur().literal);
    const std::string& text = Cur().literal.text;
    if (out->op == CompareOp::kMatches) {
      KIZUNA_RETURN_IF_ERROR(CompileRegex(text, out));
    } else if (out->op == CompareOp::kIsSubset || out->op == CompareOp::kIsSuperset) {
      out->cidr = ParseIpPrefix(text);
      if (!out->cidr) {
        return ErrorAt(Cur().position, "expected an IPv4 or IPv6 address or CIDR block but found " +
                                           Describe(Cur()));
      }
    }
    (void)op_position;
    Advance();
    return Status::Ok();
  }

  Status CompileRegex(const std::string& text, ComparisonExpression* out) {
    // RE2 runs in time linear in the input; its max_mem caps the compiled
    // program, so a partner's regex cannot make us spend unbounded memory.
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(8 << 20);
    options.set_dot_nl(false);
    auto regex = std::make_shared<RE2>(text, options);
    if (!regex->ok()) {
      std::string why = regex->error();
      if (regex->error_code() == RE2::ErrorBadPerlOp ||
          regex->error_code() == RE2::ErrorBadEscape) {
        why +=
            " (lookaround and backreferences are not supported: regular expressions must "
            "run in linear time)";
      }
      return ErrorAt(Cur().position, "invalid regular expression for MATCHES: " + why);
    }
    RE2::Options latin1 = options;
    latin1.set_encoding(RE2::Options::EncodingLatin1);
    auto regex_latin1 = std::make_shared<RE2>(text, latin1);
    out->regex = std::move(regex);
    if (regex_latin1->ok()) out->regex_latin1 = std::move(regex_latin1);
    return Status::Ok();
  }

  Status ParseSet(ComparisonExpression* out) {
    KIZUNA_RETURN_IF_ERROR(Expect(Tok::kLParen));
    if (Cur().kind == Tok::kRParen) {
      Advance();
      return Status::Ok();
    }
    while (true) {
      if (!IsLiteralToken(Cur().kind)) return Expected("a literal");
      out->literals.push_back(Cur().literal);
      Advance();
      if (Cur().kind == Tok::kComma) {
        Advance();
        continue;
      }
      if (Cur().kind == Tok::kRParen) {
        Advance();
        return Status::Ok();
      }
      return Expected("',' or ')'");
    }
  }

  Status ParsePath(ObjectPath* path) {
    if (Cur().kind != Tok::kIdentifier) return Expected("an object type");
    path->object_type = Cur().literal.text;
    Advance();
    KIZUNA_RETURN_IF_ERROR(Expect(Tok::kColon));
    KIZUNA_RETURN_IF_ERROR(ParseKey(path));
    while (true) {
      if (Cur().kind == Tok::kDot) {
        Advance();
        KIZUNA_RETURN_IF_ERROR(ParseKey(path));
      } else if (Cur().kind == Tok::kLBracket) {
        Advance();
        PathStep step;
        if (Cur().kind == Tok::kStar) {
          step.kind = PathStep::Kind::kAnyIndex;
        } else if (Cur().kind == Tok::kInt) {
          step.kind = PathStep::Kind::kIndex;
          step.index = Cur().literal.int_value;
        } else {
          return Expected("a list index or '*'");
        }
        Advance();
        KIZUNA_RETURN_IF_ERROR(Expect(Tok::kRBracket));
        path->steps.push_back(std::move(step));
      } else {
        return Status::Ok();
      }
    }
  }

  Status ParseKey(ObjectPath* path) {
    PathStep step;
    if (Cur().kind == Tok::kString) {
      step.key = Cur().literal.text;
    } else if (Cur().kind == Tok::kIdentifier) {
      if (Cur().literal.text.find('-') != std::string::npos) {
        return ErrorAt(Cur().position, "property name " + Describe(Cur()) +
                                           " contains '-': quote it, e.g. 'SHA-256'");
      }
      step.key = Cur().literal.text;
    } else if (Cur().kind >= Tok::kAnd) {
      step.key = std::string(Cur().raw);  // keywords are fine as property names
    } else {
      return Expected("a property name");
    }
    Advance();
    path->steps.push_back(std::move(step));
    return Status::Ok();
  }

  std::vector<Token> tokens_;
  size_t index_ = 0;
  int depth_ = 0;
};

bool IsPlainIdentifier(std::string_view key) {
  if (key.empty() || !IsIdentStart(key[0])) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

std::string ObjectPath::PropertyString() const {
  std::string out;
  for (size_t i = 0; i < steps.size(); ++i) {
    const PathStep& step = steps[i];
    switch (step.kind) {
      case PathStep::Kind::kKey:
        if (i > 0) out.push_back('.');
        if (IsPlainIdentifier(step.key)) {
          out += step.key;
        } else {
          out.push_back('\'');
          for (char c : step.key) {
            if (c == '\'' || c == '\\') out.push_back('\\');
            out.push_back(c);
          }
          out.push_back('\'');
        }
        break;
      case PathStep::Kind::kIndex:
        out += "[" + std::to_string(step.index) + "]";
        break;
      case PathStep::Kind::kAnyIndex:
        out += "[*]";
        break;
    }
  }
  return out;
}

std::optional<IpPrefix> ParseIpPrefix(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  IpPrefix prefix;
  std::string address(text);
  int max_length = 32;
  std::optional<int> length;
  size_t slash = address.find('/');
  if (slash != std::string::npos) {
    std::string_view digits = std::string_view(address).substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    int value = 0;
    for (char c : digits) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      value = value * 10 + (c - '0');
    }
    length = value;
    address.resize(slash);
  }
  if (address.find(':') != std::string::npos) {
    prefix.v6 = true;
    max_length = 128;
    if (inet_pton(AF_INET6, address.c_str(), prefix.bytes) != 1) return std::nullopt;
  } else {
    // inet_pton accepts exactly the dotted-quad form (no octal, no short forms).
    if (inet_pton(AF_INET, address.c_str(), prefix.bytes) != 1) return std::nullopt;
  }
  prefix.prefix_length = length.value_or(max_length);
  if (prefix.prefix_length > max_length) return std::nullopt;
  return prefix;
}

bool IpPrefixContains(const IpPrefix& outer, const IpPrefix& inner) {
  if (outer.v6 != inner.v6 || inner.prefix_length < outer.prefix_length) return false;
  int full_bytes = outer.prefix_length / 8;
  if (std::memcmp(outer.bytes, inner.bytes, full_bytes) != 0) return false;
  int rest = outer.prefix_length % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (outer.bytes[full_bytes] & mask) == (inner.bytes[full_bytes] & mask);
}

Result<Pattern> ParsePattern(std::string_view text) {
  if (text.size() > kMaxPatternBytes) {
    return TooLarge("pattern of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                    std::to_string(kMaxPatternBytes));
  }
  std::vector<Token> tokens;
  Lexer lexer(text);
  KIZUNA_RETURN_IF_ERROR(lexer.Run(&tokens));
  Parser parser(std::move(tokens));
  return parser.Run();
}

Status CheckStixPattern(std::string_view text) {
  Result<Pattern> pattern = ParsePattern(text);
  return pattern.ok() ? Status::Ok() : pattern.status();
}

std::string EscapePatternString(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace kizuna::pattern
