#include "securechat/client/session.h"

#include <variant>

#include "absl/strings/str_join.h"
#include "securechat/base/cat.h"
#include "securechat/wire/text.h"

namespace securechat {
namespace {

// SplitWord returns the first space-separated word of *rest and removes it (and the spaces
// after it) from *rest.
std::string_view SplitWord(std::string_view* rest) {
  size_t end = rest->find(' ');
  std::string_view word = rest->substr(0, end);
  rest->remove_prefix(end == std::string_view::npos ? rest->size() : end);
  while (!rest->empty() && rest->front() == ' ') {
    rest->remove_prefix(1);
  }
  return word;
}

std::string Shown(std::string_view s) { return EscapeForDisplay(s); }

}  // namespace

ClientSession::ClientSession(ClientConnection& conn, std::string nick, Printer print, Clock clock)
    : conn_(conn), nick_(std::move(nick)), print_(std::move(print)), clock_(std::move(clock)) {
  if (clock_) {
    last_sent_ms_ = clock_();
  }
}

std::vector<std::string> ClientSession::HelpLines() {
  return {
      "-!- commands:",
      "-!-   /msg NICK TEXT   send TEXT to NICK only",
      "-!-   /who             list who is online",
      "-!-   /nick NEW        change your nick",
      "-!-   /quit            leave the chat",
      "-!-   /help            show this list",
      "-!-   //TEXT           say TEXT starting with a slash",
      "-!- any other line is said to the room",
  };
}

void ClientSession::Finish(int code, std::string message) {
  if (finished_) {
    return;
  }
  finished_ = true;
  exit_code_ = code;
  final_message_ = std::move(message);
}

void ClientSession::Received(ByteView bytes) {
  ByteView in = bytes;
  msg::ServerMessage m;
  while (!finished_) {
    switch (conn_.Next(&in, &m)) {
      case ClientConnection::Step::kNeedMore:
        return;
      case ClientConnection::Step::kEstablished:
        SendOrFail(msg::Join{nick_});
        break;
      case ClientConnection::Step::kMessage:
        HandleMessage(m);
        break;
      case ClientConnection::Step::kAlert: {
        const AlertBody& a = conn_.alert();
        const std::string reason =
            Cat("the server says: ", Shown(a.reason), " (alert ", a.code, ")");
        switch (static_cast<proto::AlertCode>(a.code)) {
          case proto::AlertCode::kServerFull:
          case proto::AlertCode::kTooManyFromAddress:
            Finish(kExitServerFull, Cat("server full: ", reason));
            break;
          case proto::AlertCode::kUnsupportedVersion:
            Finish(kExitVersion, Cat("unsupported protocol version: ", reason));
            break;
          default:
            Finish(kExitConnectionLost, Cat("connection refused: ", reason));
            break;
        }
        return;
      }
      case ClientConnection::Step::kFailed:
        if (conn_.failure() == ClientConnection::Failure::kConfirmFailed) {
          Finish(kExitConfirmFailed,
                 "server key confirmation failed: wrong server key or tampered handshake");
        } else {
          Finish(kExitConnectionLost, "connection lost: the server broke the protocol");
        }
        return;
    }
  }
}

void ClientSession::ServerClosed() {
  if (bye_sent_) {
    Finish(kExitOk, "");
  } else if (shutting_down_) {
    Finish(kExitConnectionLost, "connection lost: the server shut down");
  } else if (conn_.state() == ClientConnection::State::kAwaitServerHello) {
    Finish(kExitConnectionLost,
           "connection lost during the handshake (a server with another key, or not a "
           "securechat server)");
  } else {
    Finish(kExitConnectionLost, "connection lost: the server closed the connection");
  }
}

void ClientSession::HandleMessage(const msg::ServerMessage& m) {
  if (const auto* w = std::get_if<msg::Welcome>(&m)) {
    joined_ = true;
    nick_ = std::string(w->nick);
    print_(Cat("-!- joined as ", Shown(w->nick), "; ", w->online, " online"));
    if (!w->motd.empty()) {
      print_(Cat("-!- ", Shown(w->motd)));
    }
    FlushQueued();
  } else if (const auto* c = std::get_if<msg::Chat>(&m)) {
    if (c->flags & proto::kChatFlagPrivate) {
      print_(Cat("*", Shown(c->from), "* ", Shown(c->text)));
    } else {
      print_(Cat("<", Shown(c->from), "> ", Shown(c->text)));
    }
  } else if (const auto* n = std::get_if<msg::Notice>(&m)) {
    print_(Cat("-!- ", Shown(n->text)));
  } else if (const auto* u = std::get_if<msg::Users>(&m)) {
    for (std::string_view nick : u->nicks) {
      who_.push_back(Shown(nick));
    }
    if (u->more == 0) {
      print_(Cat("-!- online (", who_.size(), "): ", absl::StrJoin(who_, " ")));
      who_.clear();
    }
  } else if (const auto* e = std::get_if<msg::Error>(&m)) {
    print_(Cat("!! ", Shown(e->text)));
    const bool refused =
        e->code == proto::ErrorCode::kNickTaken || e->code == proto::ErrorCode::kInvalidNick;
    if (!joined_ && refused) {
      Finish(kExitNickRefused, Cat("cannot join as ", Shown(nick_), ": ", Shown(e->text)));
    } else if (e->code == proto::ErrorCode::kShuttingDown) {
      shutting_down_ = true;
    }
  }
  // PONG needs no display: it only keeps the connection alive.
}

void ClientSession::SendOrFail(const msg::ClientMessage& m) {
  if (clock_) {
    last_sent_ms_ = clock_();
  }
  if (!conn_.Send(m)) {
    Finish(kExitConnectionLost, "connection lost: cannot send");
  }
}

void ClientSession::InputLine(std::string_view line) {
  if (finished_ || bye_sent_) {
    return;
  }
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (line.empty()) {
    return;
  }
  queued_.emplace_back(line);
  if (joined_) {
    FlushQueued();
  }
}

void ClientSession::FlushQueued() {
  while (!queued_.empty() && !finished_ && !bye_sent_) {
    if (clock_ && !pace_.Take(clock_())) {
      return;  // Tick sends the rest as the pace allows
    }
    std::string line = std::move(queued_.front());
    queued_.pop_front();
    Execute(line);
  }
  if (input_done_ && queued_.empty() && !bye_sent_ && !finished_) {
    SendOrFail(msg::Bye{});
    bye_sent_ = true;
  }
}

void ClientSession::Tick() {
  if (finished_ || !joined_ || !clock_) {
    return;
  }
  FlushQueued();
  if (!bye_sent_ && !finished_ && clock_() - last_sent_ms_ >= kKeepaliveMs) {
    SendOrFail(msg::Ping{});
  }
}

std::optional<uint64_t> ClientSession::MsUntilTick() {
  if (finished_ || !joined_ || !clock_) {
    return std::nullopt;
  }
  const uint64_t now = clock_();
  if (!queued_.empty()) {
    return pace_.MsUntilToken(now);
  }
  const uint64_t idle = now - last_sent_ms_;
  return idle >= kKeepaliveMs ? 0 : kKeepaliveMs - idle;
}

void ClientSession::Execute(std::string_view line) {
  if (line.front() != '/' || line.substr(0, 2) == "//") {
    std::string_view text = line.front() == '/' ? line.substr(1) : line;
    if (!IsValidText(text)) {
      print_(text.size() > proto::kMaxTextLen
                 ? "!! not sent: a message is at most 4096 bytes"
                 : "!! not sent: the line has control characters or invalid UTF-8");
      return;
    }
    SendOrFail(msg::Say{text});
    return;
  }
  std::string_view rest = line.substr(1);
  const std::string_view command = SplitWord(&rest);
  if (command == "msg") {
    const std::string_view to = SplitWord(&rest);
    if (to.empty() || rest.empty()) {
      print_("!! usage: /msg NICK TEXT");
    } else if (!IsValidText(rest)) {
      print_("!! not sent: the text has control characters, invalid UTF-8 or is too long");
    } else {
      SendOrFail(msg::Whisper{to, rest});
    }
  } else if (command == "who") {
    SendOrFail(msg::Who{});
  } else if (command == "nick") {
    const std::string_view nick = SplitWord(&rest);
    if (nick.empty() || !rest.empty()) {
      print_("!! usage: /nick NEW");
    } else {
      SendOrFail(msg::Nick{nick});
    }
  } else if (command == "quit") {
    SendOrFail(msg::Bye{});
    bye_sent_ = true;
  } else if (command == "help") {
    for (const std::string& l : HelpLines()) {
      print_(l);
    }
  } else {
    print_(Cat("!! unknown command /", Shown(command), "; /help lists the commands"));
  }
}

void ClientSession::InputEof() {
  input_done_ = true;
  if (joined_) {
    FlushQueued();
  }
}

}  // namespace securechat
