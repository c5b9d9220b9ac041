// Every number, kind, code and label of securechat protocol version 1, in one place.
// PROTOCOL.md explains each one; logic code names these constants and never repeats a value.
#ifndef SECURECHAT_WIRE_PROTOCOL_H_
#define SECURECHAT_WIRE_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace securechat::proto {

inline constexpr uint8_t kVersion = 1;

// Frames: type u8 || flags u8 || length u16 || body.
enum class FrameType : uint8_t {
  kClientHello = 0x01,
  kServerHello = 0x02,
  kAlert = 0x03,
  kRecord = 0x04,
  // Before CLIENT_HELLO, a client that has no pinned key may ask for it (PROTOCOL.md 4.8).
  kKeyRequest = 0x05,
  kServerKey = 0x06,
};
inline constexpr size_t kFrameHeaderLen = 4;
inline constexpr uint8_t kFrameFlags = 0;

// Handshake field sizes.
inline constexpr size_t kRandomLen = 32;
inline constexpr size_t kShareLen = 32;  // X25519 public key
inline constexpr size_t kX25519Len = 32;
inline constexpr size_t kWrapSecretLen = 32;
inline constexpr size_t kConfirmLen = 32;
inline constexpr size_t kHashLen = 32;  // SHA-256
// Ed25519 (RFC 8032): user identity keys.
inline constexpr size_t kEd25519PublicLen = 32;
inline constexpr size_t kEd25519SeedLen = 32;
inline constexpr size_t kEd25519SignatureLen = 64;
// AUTH (PROTOCOL.md 6.9): the client signs, with its Ed25519 key, the SSHSIG signed-data
// blob (OpenSSH PROTOCOL.sshsig) of the message kAuthContext || th, in namespace
// kSshsigNamespace, hashed with SHA-512.
inline constexpr std::string_view kAuthContext = "securechat v1 client auth";
inline constexpr std::string_view kSshsigMagic = "SSHSIG";
inline constexpr std::string_view kSshsigNamespace = "securechat";
inline constexpr std::string_view kSshsigHash = "sha512";
// CLIENT_HELLO body: version || client_random || client_share || wrapped[k].
inline constexpr size_t kClientHelloFixedLen = 1 + kRandomLen + kShareLen;
// SERVER_HELLO body: version || server_random || server_share || confirm.
inline constexpr size_t kServerHelloBodyLen = 1 + kRandomLen + kShareLen + kConfirmLen;
// The part of the SERVER_HELLO frame that enters the transcript hash.
inline constexpr size_t kServerHelloTranscriptLen =
    kFrameHeaderLen + kServerHelloBodyLen - kConfirmLen;
// Accepted RSA modulus sizes in bytes (2048, 3072 and 4096 bits).
inline constexpr size_t kRsaLenMin = 256;
inline constexpr size_t kRsaLenMid = 384;
inline constexpr size_t kRsaLenMax = 512;
inline constexpr bool IsAllowedRsaLen(size_t k) {
  return k == kRsaLenMin || k == kRsaLenMid || k == kRsaLenMax;
}

// ALERT body: code u8 || reason str, reason at most 256 bytes.
enum class AlertCode : uint8_t {
  kServerFull = 1,
  kUnsupportedVersion = 2,
  kTooManyFromAddress = 3,
};
inline constexpr size_t kMaxAlertReasonLen = 256;
inline constexpr size_t kAlertMinBodyLen = 1 + 2;
inline constexpr size_t kAlertMaxBodyLen = kAlertMinBodyLen + kMaxAlertReasonLen;

// KEY_REQUEST has no body. SERVER_KEY's body is the DER SubjectPublicKeyInfo of the server's
// RSA key: it holds the whole modulus (at least kRsaLenMin bytes) and, with the largest
// modulus, at most kServerKeyDerSlack more bytes of DER framing and public exponent.
inline constexpr size_t kKeyRequestBodyLen = 0;
inline constexpr size_t kServerKeyDerSlack = 64;
inline constexpr size_t kServerKeyMinBodyLen = kRsaLenMin;
inline constexpr size_t kServerKeyMaxBodyLen = kRsaLenMax + kServerKeyDerSlack;

// Records: body = iv[16] || ct || tag[32], ct a whole number of AES blocks.
inline constexpr size_t kAesKeyLen = 16;
inline constexpr size_t kAesBlockLen = 16;
inline constexpr size_t kIvLen = 16;
inline constexpr size_t kMacKeyLen = 32;
inline constexpr size_t kTagLen = 32;
inline constexpr size_t kMaxPlaintextLen = 16384;
inline constexpr size_t kRecordOverhead = kIvLen + kTagLen;
inline constexpr size_t kRecordMinBodyLen = kRecordOverhead + kAesBlockLen;
inline constexpr size_t kRecordMaxBodyLen = kRecordOverhead + kMaxPlaintextLen + kAesBlockLen;
// The MAC input starts with the u64 sequence number.
inline constexpr size_t kSeqLen = 8;

// The largest frame either side can ever accept; no input buffer grows past it.
inline constexpr size_t kMaxFrameLen = kFrameHeaderLen + kRecordMaxBodyLen;
static_assert(kMaxFrameLen >= kFrameHeaderLen + kClientHelloFixedLen + kRsaLenMax);
static_assert(kMaxFrameLen >= kFrameHeaderLen + kServerKeyMaxBodyLen);

// Key schedule.
inline constexpr size_t kOkmLen = 128;
inline constexpr size_t kOkmC2sEnc = 0;
inline constexpr size_t kOkmC2sMac = 16;
inline constexpr size_t kOkmS2cEnc = 48;
inline constexpr size_t kOkmS2cMac = 64;
inline constexpr size_t kOkmConfirm = 96;
inline constexpr std::string_view kOaepLabel = "securechat v1 key wrap";
inline constexpr std::string_view kHkdfInfo = "securechat v1 keys";
inline constexpr std::string_view kConfirmLabel = "securechat v1 server confirm";

// Messages: the first plaintext byte of a record.
enum class Kind : uint8_t {
  kJoin = 0x01,
  kSay = 0x02,
  kWhisper = 0x03,
  kWho = 0x04,
  kNick = 0x05,
  kPing = 0x06,
  kBye = 0x07,
  // Everyday commands (PROTOCOL.md 6.10). 0x08 stays unused: the v1 vectors take it as their
  // unknown client kind.
  kAction = 0x09,
  kAway = 0x0A,
  kWhois = 0x0B,
  kQuit = 0x0C,
  kWelcome = 0x81,
  kChat = 0x82,
  kNotice = 0x83,
  kUsers = 0x84,
  kPong = 0x85,
  kError = 0x86,
  // Membership (PROTOCOL.md 6.8): each is followed at once by the NOTICE that says the same to
  // people. 0x87 stays unused: the v1 vectors take it as their unknown server kind.
  kMemberJoined = 0x88,
  kMemberLeft = 0x89,
  kMemberRenamed = 0x8A,
  // The answers to the everyday commands (PROTOCOL.md 6.10). 0x8B stays unused: the
  // membership vectors take it as the kind after theirs, unknown to a client.
  kActionChat = 0x8C,
  kWhoisReply = 0x8D,
  // Authentication (PROTOCOL.md 6.9), from the range reserved for it (0x20 to 0x2F). 0x20 and
  // 0x2F stay unused: the v1 vectors take the range's ends as unknown kinds.
  kAuth = 0x21,
  kAuthOk = 0xA1,
  // History (PROTOCOL.md 6.11), from the range reserved for rooms and history (client 0x30 to
  // 0x3F, server 0xB0 to 0xBF). Each range's ends stay unused, as the authentication range's
  // do, so that a test of unknown kinds always has one at hand.
  kHistory = 0x31,
  // Moderation (PROTOCOL.md 6.12): an operator's command, from the same range.
  kModerate = 0x32,
  // Rooms (PROTOCOL.md 6.13), from the same range: a member joins and leaves rooms besides
  // #lobby, says lines in them, asks who is in one and which there are, and sets a topic.
  kRoomJoin = 0x33,
  kRoomPart = 0x34,
  kRoomList = 0x35,
  kRoomTopic = 0x36,
  kRoomSay = 0x37,
  kRoomWho = 0x38,
  kRoomLine = 0xB1,
  kHistoryEnd = 0xB2,
  kRoomJoined = 0xB3,
  kRoomEvent = 0xB4,
  kRoomInfo = 0xB5,
  kRoomUsers = 0xB6,
  // File transfer (PROTOCOL.md 6.14), from the range reserved for it (client 0x10 to 0x1F,
  // server 0x90 to 0x9F). The ranges' ends stay unused: the v1 vectors take 0x10 and 0x1F as
  // unknown client kinds and 0x10 as an unknown server kind.
  kFileOffer = 0x11,
  kFileAccept = 0x12,
  kFileCancel = 0x13,
  kFileChunk = 0x14,
  kFileDone = 0x15,
  kFileOffered = 0x91,
  kFileIncoming = 0x92,
  kFileAccepted = 0x93,
  kFileData = 0x94,
  kFileEnd = 0x95,
};

enum class ErrorCode : uint16_t {
  kMalformed = 1,
  kNotJoined = 2,
  kNickTaken = 3,
  kInvalidNick = 4,
  kNoSuchUser = 5,
  kRateLimited = 6,
  kBadText = 7,
  kUnknownKind = 8,
  kShuttingDown = 9,
  kAuthFailed = 10,      // a bad signature, or a key that may not join: fatal
  kRemoved = 11,         // an operator removed the client (/kick at the console): fatal
  kBanned = 12,          // a ban holds the client (PROTOCOL.md 6.12): fatal, at JOIN or at once
  kMuted = 13,           // a mute holds the client: its room line was not said
  kNotOperator = 14,     // MODERATE from a client the members file does not mark `op`; a
                         // ROOM_TOPIC from a client that may not set the room's topic
  kRoomRefused = 15,     // a ROOM_* message naming an invalid room, or one the client is not
                         // in (or, for ROOM_JOIN, is in); ROOM_PART of #lobby (PROTOCOL.md 6.13)
  kRoomLimit = 16,       // ROOM_JOIN past a server limit: rooms, rooms per client, room size
  kNoSuchTransfer = 17,  // FILE_ACCEPT, FILE_CANCEL, FILE_CHUNK or FILE_DONE naming a transfer
                         // the client is not the right side of, or not in a state that allows
                         // it (PROTOCOL.md 6.14)
};

inline constexpr size_t kMaxTextLen = 4096;
inline constexpr size_t kMaxNickLen = 32;
inline constexpr size_t kMaxPingDataLen = 64;
inline constexpr std::string_view kServerNick = "server";
inline constexpr uint8_t kChatFlagPrivate = 0x01;
// AWAY's and QUIT's reason: empty, or a valid text of at most this many bytes (PROTOCOL.md
// 6.10). Shorter than a line: it is repeated in /who, /whois and to everyone who whispers.
inline constexpr size_t kMaxReasonLen = 256;

// Rooms (PROTOCOL.md 6.11, 6.13): `#` and then 1 to 31 bytes of the nick alphabet, unique
// without regard to case. Every client joins kLobby with JOIN and stays in it until it leaves
// the server; other rooms it joins and leaves with ROOM_JOIN and ROOM_PART.
inline constexpr size_t kMaxRoomLen = 32;
inline constexpr char kRoomPrefix = '#';
inline constexpr std::string_view kLobby = "#lobby";
// ROOM_EVENT's event byte.
enum class RoomEvent : uint8_t {
  kJoined = 1,  // `nick` joined the room
  kLeft = 2,    // `nick` left it (ROOM_PART); `text` is empty
  kTopic = 3,   // `nick` set the topic to `text` (empty: cleared)
};
inline constexpr uint8_t kMaxRoomEvent = 3;
// A topic: empty, or a valid text of at most this many bytes on the wire; a server may keep
// topics shorter (this one: --max_topic_bytes).
inline constexpr size_t kMaxTopicLen = 1024;

// USERS: more u8 || count u16 || count x nick str. A full page of the longest nicks must fit
// in one record's plaintext.
inline constexpr size_t kUsersPerPage = 256;
static_assert(1 + 1 + 2 + kUsersPerPage * (2 + kMaxNickLen) <= kMaxPlaintextLen);
// ROOM_USERS is USERS with the room's name first.
static_assert(1 + 2 + kMaxRoomLen + 1 + 2 + kUsersPerPage * (2 + kMaxNickLen) <= kMaxPlaintextLen);

// File transfer (PROTOCOL.md 6.14). A file name on the wire: a valid text of at most
// kMaxFileNameLen bytes with no `/` or backslash, and not `.` or `..`; a receiver still makes its
// own safe name of it. The hash is the SHA-256 of the whole file.
inline constexpr size_t kMaxFileNameLen = 255;
inline constexpr size_t kFileHashLen = 32;
// FILE_CHUNK and FILE_DATA: kind u8 || id u32 || offset u64 || data str. A chunk holds 1 to
// kMaxChunkLen bytes, as many as fill one record's plaintext.
inline constexpr size_t kChunkHeaderLen = 1 + 4 + 8 + 2;
inline constexpr size_t kMaxChunkLen = kMaxPlaintextLen - kChunkHeaderLen;
// FILE_END's `why`: how a transfer ended, told to both sides.
enum class FileEnd : uint8_t {
  kDone = 1,               // the receiver has every byte, checked, and kept the file
  kDeclined = 2,           // the receiver said no to the offer
  kSenderCancelled = 3,    // the sender stopped it (`reason` says why)
  kReceiverCancelled = 4,  // the receiver stopped it (`reason` says why: its disk, the hash)
  kExpired = 5,            // nobody answered the offer in time
  kGone = 6,               // the other side left the server
  kBroken = 7,             // the sender broke the stream: a chunk out of order or past the size
  kRefused = 8,            // the server refused the offer (id 0; `reason` says why)
  kStalled = 9,            // the receiver took no data for too long while the sender was held
};
inline constexpr uint8_t kMaxFileEnd = 9;

}  // namespace securechat::proto

#endif  // SECURECHAT_WIRE_PROTOCOL_H_
