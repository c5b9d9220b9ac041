// Seen: a server message with its fields copied out of the record that carried it, so that a
// test can keep it after the record is gone and compare it field by field. Shared by the
// in-memory RawClient (support/raw_client.h) and the socket clients of the integration tests.
#ifndef SECURECHAT_TESTS_SUPPORT_SEEN_H_
#define SECURECHAT_TESTS_SUPPORT_SEEN_H_

#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "securechat/wire/message.h"
#include "securechat/wire/protocol.h"

namespace securechat::testing {

// Seen is one server message as a test client received it, its fields copied out of the record.
// Fields a kind does not have stay empty or 0.
struct Seen {
  proto::Kind kind{};              // WELCOME ... ERROR, or a newer kind
  uint16_t code = 0;               // ERROR
  uint8_t fatal = 0;               // ERROR
  uint8_t flags = 0;               // CHAT
  uint8_t more = 0;                // USERS
  std::string from;                // CHAT; WELCOME's and AUTH_OK's nick
  std::string text;                // CHAT, NOTICE, ERROR; PONG's data
  std::vector<std::string> nicks;  // USERS
  std::string room;                // ROOM_LINE, HISTORY_END
  uint64_t seq = 0;                // ROOM_LINE; HISTORY_END's last_seq
  uint64_t epoch = 0;              // HISTORY_END
  uint64_t missed = 0;             // HISTORY_END
  uint8_t history = 0;             // ROOM_LINE
  uint8_t action = 0;              // ROOM_LINE
  uint16_t members = 0;            // ROOM_JOINED, ROOM_INFO (more: ROOM_INFO's and ROOM_USERS')
  uint8_t event = 0;               // ROOM_EVENT (from: its nick; text: its text)
  // File transfer (PROTOCOL.md 6.14): FILE_INCOMING's from, name (text) and hash (data);
  // FILE_DATA's data; FILE_END's why and reason (text).
  uint32_t id = 0;      // every FILE_* kind
  uint32_t tag = 0;     // FILE_OFFERED, FILE_END
  uint64_t size = 0;    // FILE_INCOMING
  uint64_t offset = 0;  // FILE_DATA
  uint8_t why = 0;      // FILE_END
  std::string data;     // FILE_DATA; FILE_INCOMING's hash

  bool IsError(proto::ErrorCode c, bool is_fatal) const {
    return kind == proto::Kind::kError && code == static_cast<uint16_t>(c) &&
           fatal == (is_fatal ? 1 : 0);
  }
};

// ToSeen copies the fields of `m` out of its record.
inline Seen ToSeen(const msg::ServerMessage& m) {
  Seen s;
  std::vector<uint8_t> bytes;
  msg::EncodeMessage(m, &bytes);
  s.kind = static_cast<proto::Kind>(bytes.front());
  std::visit(
      [&s](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, msg::Error>) {
          s.code = static_cast<uint16_t>(v.code);
          s.fatal = v.fatal;
          s.text = std::string(v.text);
        } else if constexpr (std::is_same_v<T, msg::Chat>) {
          s.from = std::string(v.from);
          s.flags = v.flags;
          s.text = std::string(v.text);
        } else if constexpr (std::is_same_v<T, msg::Welcome>) {
          s.from = std::string(v.nick);
        } else if constexpr (std::is_same_v<T, msg::AuthOk>) {
          s.from = std::string(v.nick);
        } else if constexpr (std::is_same_v<T, msg::WhoisReply>) {
          s.from = std::string(v.nick);
          s.text = std::string(v.away);
        } else if constexpr (std::is_same_v<T, msg::ActionChat>) {
          s.from = std::string(v.from);
          s.text = std::string(v.text);
        } else if constexpr (std::is_same_v<T, msg::Users>) {
          s.more = v.more;
          s.nicks.assign(v.nicks.begin(), v.nicks.end());
        } else if constexpr (std::is_same_v<T, msg::Notice>) {
          s.text = std::string(v.text);
        } else if constexpr (std::is_same_v<T, msg::Pong>) {
          s.text = std::string(v.data);
        } else if constexpr (std::is_same_v<T, msg::RoomLine>) {
          s.room = std::string(v.room);
          s.seq = v.seq;
          s.from = std::string(v.from);
          s.action = v.action;
          s.history = v.history;
          s.text = std::string(v.text);
        } else if constexpr (std::is_same_v<T, msg::HistoryEnd>) {
          s.room = std::string(v.room);
          s.epoch = v.epoch;
          s.seq = v.last_seq;
          s.missed = v.missed;
        } else if constexpr (std::is_same_v<T, msg::RoomJoined>) {
          s.room = std::string(v.room);
          s.text = std::string(v.topic);
          s.members = v.members;
        } else if constexpr (std::is_same_v<T, msg::RoomEvent>) {
          s.room = std::string(v.room);
          s.event = v.event;
          s.from = std::string(v.nick);
          s.text = std::string(v.text);
        } else if constexpr (std::is_same_v<T, msg::RoomInfo>) {
          s.room = std::string(v.room);
          s.members = v.members;
          s.text = std::string(v.topic);
          s.more = v.more;
        } else if constexpr (std::is_same_v<T, msg::RoomUsers>) {
          s.room = std::string(v.room);
          s.more = v.more;
          s.nicks.assign(v.nicks.begin(), v.nicks.end());
        } else if constexpr (std::is_same_v<T, msg::FileOffered>) {
          s.tag = v.tag;
          s.id = v.id;
        } else if constexpr (std::is_same_v<T, msg::FileIncoming>) {
          s.id = v.id;
          s.from = std::string(v.from);
          s.text = std::string(v.name);
          s.size = v.size;
          s.data = std::string(v.hash);
        } else if constexpr (std::is_same_v<T, msg::FileAccepted>) {
          s.id = v.id;
        } else if constexpr (std::is_same_v<T, msg::FileData>) {
          s.id = v.id;
          s.offset = v.offset;
          s.data = std::string(v.data);
        } else if constexpr (std::is_same_v<T, msg::FileEnd>) {
          s.id = v.id;
          s.tag = v.tag;
          s.why = v.why;
          s.text = std::string(v.reason);
        }
      },
      m);
  return s;
}

}  // namespace securechat::testing

#endif  // SECURECHAT_TESTS_SUPPORT_SEEN_H_
