#include "repo.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "reelhub/core/time.hpp"
#include "reelhub/db/statements.hpp"

namespace reelhub::chats::repo {
namespace {

// Id lists travel as one JSON array parameter (libpqxx 6 has no array parameters).
const db::Statement kAccess{"chats.access", R"sql(
SELECT c.type, EXISTS (SELECT 1 FROM chat_members m WHERE m.chat_id = c.id AND m.user_id = $2)
FROM chats c WHERE c.id = $1::uuid
)sql"};

const db::Statement kMemberIds{"chats.member_ids",
                               "SELECT user_id FROM chat_members WHERE chat_id = $1::uuid ORDER BY user_id"};

const db::Statement kInsertDirect{"chats.insert_direct", R"sql(
INSERT INTO chats (type, created_by, direct_key) VALUES ('direct', $1, $2)
ON CONFLICT (direct_key) DO NOTHING RETURNING id::text
)sql"};
const db::Statement kFindDirect{"chats.find_direct", "SELECT id::text FROM chats WHERE direct_key = $1"};

const db::Statement kInsertGroup{
    "chats.insert_group", "INSERT INTO chats (type, title, created_by) VALUES ('group', $1, $2) RETURNING id::text"};

const db::Statement kInsertMembers{"chats.insert_members", R"sql(
INSERT INTO chat_members (chat_id, user_id)
SELECT $1::uuid, jsonb_array_elements_text($2::jsonb)::bigint ON CONFLICT DO NOTHING
)sql"};

const db::Statement kInsertMember{"chats.insert_member", R"sql(
INSERT INTO chat_members (chat_id, user_id, last_read_seq) SELECT id, $2, last_seq FROM chats WHERE id = $1::uuid
)sql"};

const db::Statement kDeleteMember{"chats.delete_member",
                                  "DELETE FROM chat_members WHERE chat_id = $1::uuid AND user_id = $2"};
const db::Statement kDeleteIfEmpty{"chats.delete_if_empty", R"sql(
DELETE FROM chats c WHERE c.id = $1::uuid AND NOT EXISTS (SELECT 1 FROM chat_members m WHERE m.chat_id = c.id)
)sql"};

const db::Statement kInsertInvites{"chats.insert_invites", R"sql(
INSERT INTO chat_invites (chat_id, user_id, invited_by)
SELECT $1::uuid, u.id, $2 FROM (SELECT jsonb_array_elements_text($3::jsonb)::bigint AS id) u
WHERE NOT EXISTS (SELECT 1 FROM chat_members m WHERE m.chat_id = $1::uuid AND m.user_id = u.id)
ON CONFLICT DO NOTHING RETURNING user_id
)sql"};

const db::Statement kOccupancy{"chats.occupancy", R"sql(
SELECT (SELECT count(*) FROM chat_members WHERE chat_id = $1::uuid)
     + (SELECT count(*) FROM chat_invites WHERE chat_id = $1::uuid)
)sql"};

const db::Statement kTakeInvite{"chats.take_invite",
                                "DELETE FROM chat_invites WHERE chat_id = $1::uuid AND user_id = $2 RETURNING 1"};

const db::Statement kInvitesFor{"chats.invites_for", R"sql(
SELECT i.chat_id::text, c.title, i.invited_by, i.created_at
FROM chat_invites i JOIN chats c ON c.id = i.chat_id
WHERE i.user_id = $1 ORDER BY i.created_at DESC, i.chat_id LIMIT $2
)sql"};

const db::Statement kInvitesOf{"chats.invites_of", R"sql(
SELECT chat_id::text, user_id FROM chat_invites
WHERE chat_id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)
ORDER BY chat_id, created_at, user_id
)sql"};

// Seqs run 1..last_seq without gaps (a rolled-back send rolls its number back too), so the
// unread count is a subtraction rather than a count.
const std::string kMyChats = R"sql(
WITH mine AS (
  SELECT c.id, c.type, c.title, c.created_by, c.created_at, c.last_seq, m.last_read_seq,
         COALESCE(c.last_message_at, c.created_at) AS activity_at
  FROM chat_members m JOIN chats c ON c.id = m.chat_id
  WHERE m.user_id = $1)
SELECT id::text, type, title, created_by, created_at, last_read_seq, last_seq - last_read_seq AS unread_count,
       activity_at, trunc(extract(epoch FROM activity_at) * 1000000)::bigint AS activity_us
FROM mine)sql";

const db::Statement kChatsPage{"chats.chats_page", kMyChats + R"sql(
WHERE $2::bigint IS NULL OR (trunc(extract(epoch FROM activity_at) * 1000000)::bigint, id) < ($2, $3::uuid)
ORDER BY activity_at DESC, id DESC LIMIT $4)sql"};

const db::Statement kChatOf{"chats.chat_of", kMyChats + " WHERE id = $2::uuid"};

const db::Statement kMembersOf{"chats.members_of", R"sql(
SELECT chat_id::text, user_id FROM chat_members
WHERE chat_id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)
ORDER BY chat_id, joined_at, user_id
)sql"};

constexpr const char* kMessageColumns = "m.id::text, m.chat_id::text, m.seq, m.sender_id, m.body, m.client_msg_id, m.created_at";

/// "The sender of message `m` is one of parameter `n`'s users" (a JSON array, possibly empty): the
/// senders whose messages a viewer may not see in a group (see ChatService).
std::string sender_among(int n) {
  return "m.sender_id = ANY (ARRAY(SELECT jsonb_array_elements_text($" + std::to_string(n) + "::jsonb)::bigint))";
}

const db::Statement kLastMessages{"chats.last_messages", std::string("SELECT ") + kMessageColumns + R"sql(
FROM chats c CROSS JOIN LATERAL (
  SELECT * FROM chat_messages m WHERE m.chat_id = c.id AND NOT )sql" + sender_among(2) + R"sql(
  ORDER BY m.seq DESC LIMIT 1) m
WHERE c.id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid))sql"};

const db::Statement kHiddenUnread{"chats.hidden_unread", R"sql(
SELECT cm.chat_id::text, count(*)
FROM chat_members cm JOIN chat_messages m ON m.chat_id = cm.chat_id AND m.seq > cm.last_read_seq
WHERE cm.user_id = $1 AND cm.chat_id IN (SELECT jsonb_array_elements_text($2::jsonb)::uuid)
  AND )sql" + sender_among(3) + R"sql(
GROUP BY cm.chat_id)sql"};

const db::Statement kMessageSeq{"chats.message_seq",
                                "SELECT seq FROM chat_messages WHERE chat_id = $1::uuid AND id = $2::uuid"};

const db::Statement kMessagesBefore{"chats.messages_before",
                                    std::string("SELECT ") + kMessageColumns + R"sql( FROM chat_messages m
WHERE m.chat_id = $1::uuid AND ($2::bigint IS NULL OR m.seq < $2) AND NOT )sql" + sender_among(4) +
                                        " ORDER BY m.seq DESC LIMIT $3"};

const db::Statement kMessagesAfter{"chats.messages_after",
                                   std::string("SELECT ") + kMessageColumns + R"sql( FROM chat_messages m
WHERE m.chat_id = $1::uuid AND m.seq > $2 AND NOT )sql" + sender_among(4) + " ORDER BY m.seq LIMIT $3"};

const db::Statement kLockChat{"chats.lock_chat", "SELECT 1 FROM chats WHERE id = $1::uuid FOR NO KEY UPDATE"};

const db::Statement kFindByClientMsgId{"chats.find_by_client_msg_id",
                                       std::string("SELECT ") + kMessageColumns + R"sql( FROM chat_messages m
WHERE m.chat_id = $1::uuid AND m.sender_id = $2 AND m.client_msg_id = $3)sql"};

const db::Statement kInsertMessage{"chats.insert_message", std::string(R"sql(
WITH numbered AS (
  UPDATE chats SET last_seq = last_seq + 1, last_message_at = now() WHERE id = $1::uuid RETURNING last_seq
), read_own AS (
  UPDATE chat_members SET last_read_seq = (SELECT last_seq FROM numbered) WHERE chat_id = $1::uuid AND user_id = $2
), m AS (
  INSERT INTO chat_messages (chat_id, seq, sender_id, client_msg_id, body)
  SELECT $1::uuid, last_seq, $2, $3, $4 FROM numbered RETURNING *
)
SELECT )sql") + kMessageColumns + " FROM m"};

const db::Statement kAdvanceReadMarker{"chats.advance_read_marker", R"sql(
UPDATE chat_members SET last_read_seq = $3 WHERE chat_id = $1::uuid AND user_id = $2 AND last_read_seq < $3
)sql"};

const db::Statement kReadState{"chats.read_state", R"sql(
SELECT m.last_read_seq, c.last_seq - m.last_read_seq
FROM chat_members m JOIN chats c ON c.id = m.chat_id WHERE m.chat_id = $1::uuid AND m.user_id = $2
)sql"};

std::string json_list(const auto& values) { return nlohmann::json(values).dump(); }

Message message_row(const pqxx::row& r) {
  return Message{.id = r["id"].as<std::string>(),
                 .chat_id = r["chat_id"].as<std::string>(),
                 .seq = r["seq"].as<std::int64_t>(),
                 .sender_id = r["sender_id"].as<std::int64_t>(),
                 .text = r["body"].as<std::string>(),
                 .client_msg_id = r["client_msg_id"].get<std::string>(),
                 .created_at = iso8601_from_pg(r["created_at"].as<std::string>())};
}

std::vector<Message> message_rows(const pqxx::result& result) {
  std::vector<Message> out;
  out.reserve(result.size());
  for (const auto& r : result) out.push_back(message_row(r));
  return out;
}

Chat chat_row(const pqxx::row& r) {
  Chat c;
  c.id = r["id"].as<std::string>();
  c.type = parse_chat_type(r["type"].as<std::string>()).value();  // the CHECK constraint admits no other
  c.title = r["title"].get<std::string>();
  c.created_by = r["created_by"].as<std::int64_t>();
  c.created_at = iso8601_from_pg(r["created_at"].as<std::string>());
  c.last_read_seq = r["last_read_seq"].as<std::int64_t>();
  c.unread_count = r["unread_count"].as<std::int64_t>();
  c.last_activity_at = iso8601_from_pg(r["activity_at"].as<std::string>());
  c.position = r["activity_us"].as<std::string>() + "_" + c.id;
  return c;
}

}  // namespace

std::optional<Access> access(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id) {
  const auto result = tx.exec_prepared(kAccess.name(), chat_id, user_id);
  if (result.empty()) return std::nullopt;
  return Access{parse_chat_type(result[0][0].as<std::string>()).value(), result[0][1].as<bool>()};
}

std::vector<std::int64_t> member_ids(pqxx::work& tx, const std::string& chat_id) {
  std::vector<std::int64_t> out;
  for (const auto& r : tx.exec_prepared(kMemberIds.name(), chat_id)) out.push_back(r[0].as<std::int64_t>());
  return out;
}

std::pair<std::string, bool> open_direct(pqxx::work& tx, std::int64_t creator_id, std::int64_t other_id) {
  const std::string key = std::to_string(std::min(creator_id, other_id)) + ":" + std::to_string(std::max(creator_id, other_id));
  // A concurrent insert of the same pair makes ON CONFLICT wait for it; once it commits, the
  // next statement (a new snapshot) finds its row.
  if (const auto inserted = tx.exec_prepared(kInsertDirect.name(), creator_id, key); !inserted.empty()) {
    const auto id = inserted[0][0].as<std::string>();
    tx.exec_prepared0(kInsertMembers.name(), id, json_list(std::vector<std::int64_t>{creator_id, other_id}));
    return {id, true};
  }
  return {tx.exec_prepared1(kFindDirect.name(), key)[0].as<std::string>(), false};
}

std::string insert_group(pqxx::work& tx, std::int64_t creator_id, const std::optional<std::string>& title) {
  const auto id = tx.exec_prepared1(kInsertGroup.name(), title, creator_id)[0].as<std::string>();
  tx.exec_prepared0(kInsertMembers.name(), id, json_list(std::vector<std::int64_t>{creator_id}));
  return id;
}

std::vector<std::int64_t> insert_invites(pqxx::work& tx, const std::string& chat_id, std::int64_t inviter_id,
                                         const std::vector<std::int64_t>& user_ids) {
  std::vector<std::int64_t> out;
  for (const auto& r : tx.exec_prepared(kInsertInvites.name(), chat_id, inviter_id, json_list(user_ids))) {
    out.push_back(r[0].as<std::int64_t>());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::int64_t occupancy(pqxx::work& tx, const std::string& chat_id) {
  return tx.exec_prepared1(kOccupancy.name(), chat_id)[0].as<std::int64_t>();
}

bool take_invite(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id) {
  return !tx.exec_prepared(kTakeInvite.name(), chat_id, user_id).empty();
}

std::vector<Invite> invites_for(pqxx::work& tx, std::int64_t user_id, std::int64_t limit) {
  std::vector<Invite> out;
  for (const auto& r : tx.exec_prepared(kInvitesFor.name(), user_id, limit)) {
    out.push_back(Invite{.chat_id = r[0].as<std::string>(),
                         .title = r[1].get<std::string>(),
                         .invited_by = r[2].as<std::int64_t>(),
                         .inviter_username = {},
                         .created_at = iso8601_from_pg(r[3].as<std::string>())});
  }
  return out;
}

std::vector<std::pair<std::string, std::int64_t>> invites_of(pqxx::work& tx, const std::vector<std::string>& chat_ids) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& r : tx.exec_prepared(kInvitesOf.name(), json_list(chat_ids))) {
    out.emplace_back(r[0].as<std::string>(), r[1].as<std::int64_t>());
  }
  return out;
}

void insert_member(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id) {
  tx.exec_prepared0(kInsertMember.name(), chat_id, user_id);
}

void remove_member(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id) {
  tx.exec_prepared0(kDeleteMember.name(), chat_id, user_id);
  tx.exec_prepared0(kDeleteIfEmpty.name(), chat_id);
}

std::vector<Chat> chats_of(pqxx::work& tx, std::int64_t user_id, const std::optional<Position>& after,
                           std::int64_t limit) {
  std::optional<std::int64_t> activity_us;
  std::optional<std::string> chat_id;
  if (after) {
    activity_us = after->activity_us;
    chat_id = after->chat_id;
  }
  const auto result = tx.exec_prepared(kChatsPage.name(), user_id, activity_us, chat_id, limit);
  std::vector<Chat> out;
  out.reserve(result.size());
  for (const auto& r : result) out.push_back(chat_row(r));
  return out;
}

std::optional<Chat> chat_of(pqxx::work& tx, std::int64_t user_id, const std::string& chat_id) {
  const auto result = tx.exec_prepared(kChatOf.name(), user_id, chat_id);
  if (result.empty()) return std::nullopt;
  return chat_row(result[0]);
}

std::vector<std::pair<std::string, std::int64_t>> members_of(pqxx::work& tx, const std::vector<std::string>& chat_ids) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& r : tx.exec_prepared(kMembersOf.name(), json_list(chat_ids))) {
    out.emplace_back(r[0].as<std::string>(), r[1].as<std::int64_t>());
  }
  return out;
}

std::vector<Message> last_messages(pqxx::work& tx, const std::vector<std::string>& chat_ids,
                                   const std::vector<std::int64_t>& hidden_senders) {
  return message_rows(tx.exec_prepared(kLastMessages.name(), json_list(chat_ids), json_list(hidden_senders)));
}

std::vector<std::pair<std::string, std::int64_t>> hidden_unread(pqxx::work& tx, std::int64_t user_id,
                                                                const std::vector<std::string>& chat_ids,
                                                                const std::vector<std::int64_t>& hidden_senders) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  if (hidden_senders.empty()) return out;
  for (const auto& r :
       tx.exec_prepared(kHiddenUnread.name(), user_id, json_list(chat_ids), json_list(hidden_senders))) {
    out.emplace_back(r[0].as<std::string>(), r[1].as<std::int64_t>());
  }
  return out;
}

std::optional<std::int64_t> message_seq(pqxx::work& tx, const std::string& chat_id, const std::string& message_id) {
  const auto result = tx.exec_prepared(kMessageSeq.name(), chat_id, message_id);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::int64_t>();
}

std::vector<Message> messages_before(pqxx::work& tx, const std::string& chat_id, std::optional<std::int64_t> before_seq,
                                     std::int64_t limit, const std::vector<std::int64_t>& hidden_senders) {
  return message_rows(
      tx.exec_prepared(kMessagesBefore.name(), chat_id, before_seq, limit, json_list(hidden_senders)));
}

std::vector<Message> messages_after(pqxx::work& tx, const std::string& chat_id, std::int64_t after_seq,
                                    std::int64_t limit, const std::vector<std::int64_t>& hidden_senders) {
  return message_rows(tx.exec_prepared(kMessagesAfter.name(), chat_id, after_seq, limit, json_list(hidden_senders)));
}

bool lock_chat(pqxx::work& tx, const std::string& chat_id) {
  return !tx.exec_prepared(kLockChat.name(), chat_id).empty();
}

std::optional<Message> find_by_client_msg_id(pqxx::work& tx, const std::string& chat_id, std::int64_t sender_id,
                                             const std::string& client_msg_id) {
  const auto result = tx.exec_prepared(kFindByClientMsgId.name(), chat_id, sender_id, client_msg_id);
  if (result.empty()) return std::nullopt;
  return message_row(result[0]);
}

Message insert_message(pqxx::work& tx, const std::string& chat_id, std::int64_t sender_id, const std::string& text,
                       const std::optional<std::string>& client_msg_id) {
  return message_row(tx.exec_prepared1(kInsertMessage.name(), chat_id, sender_id, client_msg_id, text));
}

bool advance_read_marker(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id, std::int64_t seq) {
  return tx.exec_prepared0(kAdvanceReadMarker.name(), chat_id, user_id, seq).affected_rows() > 0;
}

ReadState read_state(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id) {
  const auto row = tx.exec_prepared1(kReadState.name(), chat_id, user_id);
  return ReadState{row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
}

}  // namespace reelhub::chats::repo
