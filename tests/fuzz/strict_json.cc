#include "strict_json.h"

#include <set>

namespace fuzz {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  std::optional<Value> document() {
    ws();
    auto v = value(0);
    ws();
    if (!v || pos_ != t_.size()) return std::nullopt;
    return v;
  }

 private:
  void ws() {
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r')) ++pos_;
  }
  bool eat(char c) {
    if (pos_ < t_.size() && t_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (t_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  std::optional<Value> value(int depth) {
    if (depth > 64 || pos_ >= t_.size()) return std::nullopt;
    Value v;
    char c = t_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      v.kind = Value::Kind::kString;
      if (!string(v.text)) return std::nullopt;
      return v;
    }
    if (literal("true")) { v.kind = Value::Kind::kBool; v.b = true; return v; }
    if (literal("false")) { v.kind = Value::Kind::kBool; return v; }
    if (literal("null")) return v;
    return number();
  }

  std::optional<Value> number() {
    std::size_t start = pos_;
    eat('-');
    if (eat('0')) {
    } else if (pos_ < t_.size() && t_[pos_] >= '1' && t_[pos_] <= '9') {
      while (pos_ < t_.size() && isdigit(static_cast<unsigned char>(t_[pos_]))) ++pos_;
    } else {
      return std::nullopt;
    }
    if (eat('.')) {
      if (pos_ >= t_.size() || !isdigit(static_cast<unsigned char>(t_[pos_]))) return std::nullopt;
      while (pos_ < t_.size() && isdigit(static_cast<unsigned char>(t_[pos_]))) ++pos_;
    }
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (pos_ >= t_.size() || !isdigit(static_cast<unsigned char>(t_[pos_]))) return std::nullopt;
      while (pos_ < t_.size() && isdigit(static_cast<unsigned char>(t_[pos_]))) ++pos_;
    }
    Value v;
    v.kind = Value::Kind::kNumber;
    v.text = std::string(t_.substr(start, pos_ - start));
    return v;
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(std::uint32_t& out) {
    if (pos_ + 4 > t_.size()) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = t_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9') out |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') out |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') out |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }

  bool string(std::string& out) {
    if (!eat('"')) return false;
    while (pos_ < t_.size()) {
      unsigned char c = static_cast<unsigned char>(t_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;  // raw control bytes are not JSON
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (pos_ >= t_.size()) return false;
      char e = t_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // lone low surrogate
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo;
            if (!literal("\\u") || !hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  std::optional<Value> array(int depth) {
    Value v;
    v.kind = Value::Kind::kArray;
    eat('[');
    ws();
    if (eat(']')) return v;
    while (true) {
      ws();
      auto item = value(depth + 1);
      if (!item) return std::nullopt;
      v.items.push_back(std::move(*item));
      ws();
      if (eat(']')) return v;
      if (!eat(',')) return std::nullopt;
    }
  }

  std::optional<Value> object(int depth) {
    Value v;
    v.kind = Value::Kind::kObject;
    std::set<std::string> keys;
    eat('{');
    ws();
    if (eat('}')) return v;
    while (true) {
      ws();
      std::string key;
      if (!string(key) || !keys.insert(key).second) return std::nullopt;
      ws();
      if (!eat(':')) return std::nullopt;
      ws();
      auto item = value(depth + 1);
      if (!item) return std::nullopt;
      v.keys.push_back(std::move(key));
      v.values.push_back(std::move(*item));
      ws();
      if (eat('}')) return v;
      if (!eat(',')) return std::nullopt;
    }
  }

  std::string_view t_;
  std::size_t pos_ = 0;
};

}  // namespace

const Value* Value::get(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return &values[i];
  return nullptr;
}

std::optional<Value> parse_strict(std::string_view text) { return Parser(text).document(); }

std::optional<std::string> base64_decode(std::string_view b64) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (b64.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += 4) {
    int pad = (b64[i + 2] == '=') + (b64[i + 3] == '=');
    if (b64[i + 3] == '=' && i + 4 != b64.size()) return std::nullopt;
    if (b64[i + 2] == '=' && b64[i + 3] != '=') return std::nullopt;
    std::uint32_t n = 0;
    for (int k = 0; k < 4; ++k) {
      int d = (k >= 4 - pad) ? 0 : val(b64[i + k]);
      if (d < 0) return std::nullopt;
      n = (n << 6) | static_cast<std::uint32_t>(d);
    }
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

}  // namespace fuzz
