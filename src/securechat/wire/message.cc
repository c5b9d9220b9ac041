#include "securechat/wire/message.h"

#include <type_traits>
#include <utility>

#include "securechat/wire/text.h"
#include "securechat/wire/writer.h"

namespace securechat::msg {
namespace {

// KindsAreDistinct (run only by the compiler: consteval, so no code of it is emitted or counted
// by coverage): no kind appears twice in `kinds`, and all are client kinds (below 0x80)
// or all server kinds, so that no byte string is both a client and a server message.
template <size_t N>
consteval bool KindsAreDistinct(const std::array<proto::Kind, N>& kinds, bool server) {
  for (size_t i = 0; i < N; ++i) {
    if ((static_cast<uint8_t>(kinds[i]) >= 0x80) != server) {
      return false;
    }
    for (size_t j = i + 1; j < N; ++j) {
      if (kinds[i] == kinds[j]) {
        return false;
      }
    }
  }
  return true;
}
static_assert(KindsAreDistinct(kClientKinds, /*server=*/false));
static_assert(KindsAreDistinct(kServerKinds, /*server=*/true));

bool Meets(Rule rule, std::string_view s) {
  switch (rule) {
    case Rule::kAny:
      return true;
    case Rule::kData:
      return s.size() <= proto::kMaxPingDataLen;
    case Rule::kNick:
      return IsValidNick(s);
    case Rule::kText:
      return IsValidText(s);
    case Rule::kMotd:
      return s.empty() || IsValidText(s);
    case Rule::kNickOrEmpty:
      return s.empty() || IsValidNick(s);
    case Rule::kEd25519Public:
      return s.size() == proto::kEd25519PublicLen;
    case Rule::kEd25519Signature:
      return s.size() == proto::kEd25519SignatureLen;
    case Rule::kReason:
      return s.empty() || (s.size() <= proto::kMaxReasonLen && IsValidText(s));
    case Rule::kEd25519PublicOrEmpty:
      return s.empty() || s.size() == proto::kEd25519PublicLen;
    case Rule::kRoom:
      return IsValidRoom(s);
    case Rule::kTopic:
      return s.empty() || (s.size() <= proto::kMaxTopicLen && IsValidText(s));
    case Rule::kFileHash:
      return s.size() == proto::kFileHashLen;
    case Rule::kChunk:
      return !s.empty() && s.size() <= proto::kMaxChunkLen;
    case Rule::kFileName:
      return IsValidFileName(s);
  }
  return false;
}

bool IsFlagByte(uint8_t v) { return v == 0 || v == 1; }

// ReadField reads one field into its member of *m (views into the reader's data). Returns
// false if the field is missing, runs past the end or breaks its rule.
template <typename M, auto kMember, Rule kRule>
bool ReadField(Reader& r, M* m, Str<kMember, kRule>) {
  return r.ReadStr(&(m->*kMember)) && Meets(kRule, m->*kMember);
}
template <typename M, auto kMember>
bool ReadField(Reader& r, M* m, U16<kMember>) {
  return r.ReadU16(&(m->*kMember));
}
template <typename M, auto kMember>
bool ReadField(Reader& r, M* m, U32<kMember>) {
  return r.ReadU32(&(m->*kMember));
}
template <typename M, auto kMember>
bool ReadField(Reader& r, M* m, U64<kMember>) {
  return r.ReadU64(&(m->*kMember));
}
template <typename M, auto kMember>
bool ReadField(Reader& r, M* m, Flag<kMember>) {
  return r.ReadU8(&(m->*kMember)) && IsFlagByte(m->*kMember);
}
template <typename M, auto kMember, uint8_t kMax>
bool ReadField(Reader& r, M* m, Enum<kMember, kMax>) {
  return r.ReadU8(&(m->*kMember)) && m->*kMember >= 1 && m->*kMember <= kMax;
}
template <typename M, auto kMember>
bool ReadField(Reader& r, M* m, Code<kMember>) {
  uint16_t code;
  if (!r.ReadU16(&code)) {
    return false;
  }
  m->*kMember = static_cast<proto::ErrorCode>(code);
  return true;
}
template <typename M, auto kMember>
bool ReadField(Reader& r, M* m, NickList<kMember>) {
  std::vector<std::string_view>& nicks = m->*kMember;
  uint16_t count;
  // Each nick takes at least 3 bytes, so a count the rest cannot hold fails before any space
  // is reserved for it.
  if (!r.ReadU16(&count) || count > r.remaining() / 3) {
    return false;
  }
  nicks.reserve(count);
  for (uint16_t i = 0; i < count; ++i) {
    std::string_view nick;
    if (!r.ReadStr(&nick) || !Meets(Rule::kNick, nick)) {
      return false;
    }
    nicks.push_back(nick);
  }
  return true;
}

// WriteField appends one field from its member of m: the mirror of ReadField.
template <typename M, auto kMember, Rule kRule>
void WriteField(Writer& w, const M& m, Str<kMember, kRule>) {
  w.Str(m.*kMember);
}
template <typename M, auto kMember>
void WriteField(Writer& w, const M& m, U16<kMember>) {
  w.U16(m.*kMember);
}
template <typename M, auto kMember>
void WriteField(Writer& w, const M& m, U32<kMember>) {
  w.U32(m.*kMember);
}
template <typename M, auto kMember>
void WriteField(Writer& w, const M& m, U64<kMember>) {
  w.U64(m.*kMember);
}
template <typename M, auto kMember>
void WriteField(Writer& w, const M& m, Flag<kMember>) {
  w.U8(m.*kMember);
}
template <typename M, auto kMember, uint8_t kMax>
void WriteField(Writer& w, const M& m, Enum<kMember, kMax>) {
  w.U8(m.*kMember);
}
template <typename M, auto kMember>
void WriteField(Writer& w, const M& m, Code<kMember>) {
  w.U16(static_cast<uint16_t>(m.*kMember));
}
template <typename M, auto kMember>
void WriteField(Writer& w, const M& m, NickList<kMember>) {
  const std::vector<std::string_view>& nicks = m.*kMember;
  w.U16(static_cast<uint16_t>(nicks.size()));
  for (std::string_view nick : nicks) {
    w.Str(nick);
  }
}

// ReadFields reads the fields of M's Layout in order, stopping at the first that fails;
// WriteFields writes them.
template <typename M, typename... Fs>
bool ReadFields([[maybe_unused]] Reader& r, [[maybe_unused]] M* m, Fields<Fs...>) {
  return (ReadField(r, m, Fs{}) && ...);
}
template <typename M, typename... Fs>
void WriteFields([[maybe_unused]] Writer& w, [[maybe_unused]] const M& m, Fields<Fs...>) {
  (WriteField(w, m, Fs{}), ...);
}

// DecodeAs finds the alternative of Variant, from index I on, whose kind is `kind`, makes *out
// hold it and reads its fields. A message is valid only if nothing is left after them.
template <typename Variant, size_t I = 0>
DecodeStatus DecodeAs(uint8_t kind, Reader& r, Variant* out) {
  if constexpr (I == std::variant_size_v<Variant>) {
    return DecodeStatus::kUnknownKind;
  } else {
    using M = std::variant_alternative_t<I, Variant>;
    if (kind != static_cast<uint8_t>(M::kKind)) {
      return DecodeAs<Variant, I + 1>(kind, r, out);
    }
    M* m = &out->template emplace<I>();
    return ReadFields(r, m, typename M::Layout{}) && r.empty() ? DecodeStatus::kOk
                                                               : DecodeStatus::kMalformed;
  }
}

template <typename Variant>
DecodeStatus Decode(ByteView plaintext, Variant* out) {
  Reader r(plaintext);
  uint8_t kind;
  if (!r.ReadU8(&kind)) {
    return DecodeStatus::kMalformed;
  }
  return DecodeAs(kind, r, out);
}

template <typename Variant>
void Encode(const Variant& m, std::vector<uint8_t>* out) {
  Writer w(out);
  std::visit(
      [&w](const auto& held) {
        using M = std::decay_t<decltype(held)>;
        w.U8(static_cast<uint8_t>(M::kKind));
        WriteFields(w, held, typename M::Layout{});
      },
      m);
}

}  // namespace

DecodeStatus DecodeClientMessage(ByteView plaintext, ClientMessage* out) {
  return Decode(plaintext, out);
}

DecodeStatus DecodeServerMessage(ByteView plaintext, ServerMessage* out) {
  return Decode(plaintext, out);
}

void EncodeMessage(const ClientMessage& m, std::vector<uint8_t>* out) { Encode(m, out); }

void EncodeMessage(const ServerMessage& m, std::vector<uint8_t>* out) { Encode(m, out); }

}  // namespace securechat::msg
