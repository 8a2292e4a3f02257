/*
 * schema.c -- the replica's schema as numbered migrations.
 *
 * Step i takes a replica from PRAGMA user_version i to i + 1.  A step,
 * once released, never changes: fix forward with a new step.  The test
 * unit.schema opens a replica made by step 1 alone and checks that it is
 * brought up to date with its data intact.
 *
 * Invariants kept by triggers (so every writer, the importers included,
 * keeps them without thinking):
 *  - person_key holds each person's lower-cased emails ("e:") and
 *    normalised profile URL ("u:"), for matching on import;
 *  - person.last_contact is the newest interaction with that person;
 *  - ledger has one row per person with favors, summing them;
 *  - the FTS5 tables index people, interaction notes and favor notes.
 * Every table with an id also has an INTEGER PRIMARY KEY rid, so that
 * external-content FTS rowids survive VACUUM.
 */
#include "sync_int.h"

/* Step 1: the tables. */
static const char step1[] =
    "CREATE TABLE meta("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ") WITHOUT ROWID;"

    "CREATE TABLE person("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL CHECK (name <> ''),"
    "  name_key TEXT NOT NULL,"
    "  org TEXT, title TEXT, url TEXT, how_met TEXT,"
    "  referred_by TEXT REFERENCES person(id) ON DELETE SET NULL,"
    "  note TEXT,"
    "  emails TEXT NOT NULL DEFAULT '[]',"
    "  phones TEXT NOT NULL DEFAULT '[]',"
    "  tags TEXT NOT NULL DEFAULT '[]',"
    "  closeness INTEGER CHECK (closeness BETWEEN 0 AND 5),"
    "  is_me INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ");"
    "CREATE INDEX person_name ON person(name_key);"
    "CREATE UNIQUE INDEX person_me ON person(is_me) WHERE is_me;"
    "CREATE INDEX person_referred ON person(referred_by)"
    "  WHERE referred_by IS NOT NULL;"

    "CREATE TABLE interaction("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  person TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL"
    "    CHECK (kind IN ('call','coffee','meeting','email','event')),"
    "  at INTEGER NOT NULL,"
    "  minutes INTEGER CHECK (minutes >= 0),"
    "  note TEXT,"
    "  follow_up INTEGER,"
    "  follow_up_done INTEGER,"
    "  thanked INTEGER,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ");"
    "CREATE INDEX interaction_person ON interaction(person, at);"
    "CREATE INDEX interaction_follow ON interaction(follow_up)"
    "  WHERE follow_up IS NOT NULL AND follow_up_done IS NULL;"
    "CREATE INDEX interaction_thanks ON interaction(at)"
    "  WHERE thanked IS NULL AND kind IN ('call','coffee','meeting');"

    "CREATE TABLE introduction("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  by TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,"
    "  a TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,"
    "  b TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,"
    "  note TEXT,"
    "  status TEXT NOT NULL DEFAULT 'made'"
    "    CHECK (status IN ('proposed','made','declined')),"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  CHECK (by <> a AND by <> b AND a <> b)"
    ");"
    "CREATE INDEX introduction_a ON introduction(a);"
    "CREATE INDEX introduction_b ON introduction(b);"
    "CREATE INDEX introduction_by ON introduction(by);"

    /* A favor is always between me and one other person: person is the
     * other party, dir says which way it went (1: I gave, -1: I got). */
    "CREATE TABLE favor("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  person TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,"
    "  dir INTEGER NOT NULL CHECK (dir IN (1, -1)),"
    "  kind TEXT NOT NULL CHECK (kind IN ('introduction','reference',"
    "    'referral','advice','resume','info','other')),"
    "  status TEXT NOT NULL"
    "    CHECK (status IN ('asked','promised','done','declined')),"
    "  weight INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 100),"
    "  note TEXT,"
    "  intro TEXT REFERENCES introduction(id) ON DELETE SET NULL,"
    "  done_at INTEGER,"
    "  thanked INTEGER,"
    "  confirmed INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ");"
    "CREATE INDEX favor_person ON favor(person);"
    "CREATE INDEX favor_thanks ON favor(done_at)"
    "  WHERE dir = -1 AND status = 'done' AND thanked IS NULL;"
    "CREATE INDEX favor_promised ON favor(created)"
    "  WHERE dir = 1 AND status = 'promised';"
    "CREATE INDEX favor_intro ON favor(intro) WHERE intro IS NOT NULL;"

    "CREATE TABLE reference("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  person TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,"
    "  for_what TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ");"
    "CREATE INDEX reference_person ON reference(person);"
    "CREATE TABLE reference_use("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  reference TEXT NOT NULL REFERENCES reference(id) ON DELETE CASCADE,"
    "  for_what TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ");"
    "CREATE INDEX reference_use_ref ON reference_use(reference, at);";

/* Step 2: matching keys and the last contact, kept by triggers. */
#define PERSON_KEYS(who)                                                     \
	"INSERT INTO person_key(person, key)"                                \
	"  SELECT " who ".id, 'e:' || lower(trim(value))"                    \
	"  FROM json_each(" who ".emails) WHERE trim(value) <> ''"           \
	"  UNION SELECT " who ".id, 'u:' || " URL_KEY(who ".url")            \
	"  WHERE " who ".url IS NOT NULL AND " who ".url <> '';"
#define URL_KEY(u)                                                           \
	"rtrim(replace(replace(replace(lower(trim(" u ")), 'https://', ''),"  \
	"  'http://', ''), 'www.', ''), '/')"

static const char step2[] =
    "CREATE TABLE person_key("
    "  person TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  PRIMARY KEY (key, person)"
    ") WITHOUT ROWID;"
    "CREATE INDEX person_key_person ON person_key(person);"
    "CREATE TRIGGER person_key_ai AFTER INSERT ON person BEGIN "
    PERSON_KEYS("new")
    "END;"
    "CREATE TRIGGER person_key_au AFTER UPDATE OF emails, url ON person "
    "BEGIN "
    "  DELETE FROM person_key WHERE person = old.id;"
    PERSON_KEYS("new")
    "END;"
    "INSERT INTO person_key(person, key)"
    "  SELECT p.id, 'e:' || lower(trim(e.value))"
    "  FROM person p, json_each(p.emails) e WHERE trim(e.value) <> ''"
    "  UNION SELECT id, 'u:' || " URL_KEY("url") " FROM person"
    "  WHERE url IS NOT NULL AND url <> '';"

    "ALTER TABLE person ADD COLUMN last_contact INTEGER NOT NULL DEFAULT 0;"
    "UPDATE person SET last_contact = coalesce("
    "  (SELECT max(at) FROM interaction i WHERE i.person = person.id), 0);"
    "CREATE TRIGGER interaction_ai AFTER INSERT ON interaction BEGIN"
    "  UPDATE person SET last_contact = new.at"
    "  WHERE id = new.person AND last_contact < new.at;"
    "END;"
    "CREATE TRIGGER interaction_ad AFTER DELETE ON interaction BEGIN"
    "  UPDATE person SET last_contact = coalesce((SELECT max(at)"
    "    FROM interaction WHERE person = old.person), 0)"
    "  WHERE id = old.person;"
    "END;"
    "CREATE TRIGGER interaction_au AFTER UPDATE OF at, person"
    "  ON interaction BEGIN"
    "  UPDATE person SET last_contact = coalesce((SELECT max(at)"
    "    FROM interaction WHERE person = old.person), 0)"
    "  WHERE id = old.person;"
    "  UPDATE person SET last_contact = new.at"
    "  WHERE id = new.person AND last_contact < new.at;"
    "END;";

/* Step 3: the ledger, one row per person with favors. */
#define LEDGER_COLS                                                          \
	"ledger(person, name, given, received, n_given, n_received, pending,"  \
	" confirmed, last)"
#define LEDGER_SELECT                                                        \
	"SELECT f.person, p.name,"                                           \
	"  coalesce(sum(f.weight) FILTER"                                    \
	"    (WHERE f.dir = 1 AND f.status = 'done'), 0),"                   \
	"  coalesce(sum(f.weight) FILTER"                                    \
	"    (WHERE f.dir = -1 AND f.status = 'done'), 0),"                  \
	"  count(*) FILTER (WHERE f.dir = 1 AND f.status = 'done'),"         \
	"  count(*) FILTER (WHERE f.dir = -1 AND f.status = 'done'),"        \
	"  count(*) FILTER (WHERE f.status IN ('asked', 'promised')),"       \
	"  count(*) FILTER (WHERE f.confirmed),"                             \
	"  max(coalesce(f.done_at, f.created))"                              \
	"  FROM favor f JOIN person p ON p.id = f.person"
#define LEDGER_OF(who)                                                       \
	"DELETE FROM ledger WHERE person = " who ";"                         \
	"INSERT INTO " LEDGER_COLS " " LEDGER_SELECT " WHERE f.person = " who \
	" GROUP BY f.person;"

static const char step3[] =
    "CREATE TABLE ledger("
    "  person TEXT PRIMARY KEY REFERENCES person(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL," /* the person's, so listing needs no join */
    "  given INTEGER NOT NULL,"
    "  received INTEGER NOT NULL,"
    "  n_given INTEGER NOT NULL,"
    "  n_received INTEGER NOT NULL,"
    "  pending INTEGER NOT NULL,"
    "  confirmed INTEGER NOT NULL,"
    "  last INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO " LEDGER_COLS " " LEDGER_SELECT " GROUP BY f.person;"
    "CREATE TRIGGER person_ledger_name AFTER UPDATE OF name ON person"
    " BEGIN UPDATE ledger SET name = new.name WHERE person = new.id; END;"
    "CREATE TRIGGER favor_ai AFTER INSERT ON favor BEGIN "
    LEDGER_OF("new.person")
    "END;"
    "CREATE TRIGGER favor_ad AFTER DELETE ON favor BEGIN "
    LEDGER_OF("old.person")
    "END;"
    "CREATE TRIGGER favor_au AFTER UPDATE ON favor BEGIN "
    LEDGER_OF("old.person")
    LEDGER_OF("new.person")
    "END;";

/* Step 4: full-text search (external content: the text stays in the
 * tables, the index holds only tokens). */
#define FTS_TRIGGERS(tab, cols, newcols, oldcols)                            \
	"CREATE TRIGGER " tab "_fts_ai AFTER INSERT ON " tab " BEGIN"        \
	"  INSERT INTO " tab "_fts(rowid, " cols ") VALUES (new.rid, "       \
	newcols ");"                                                         \
	"END;"                                                               \
	"CREATE TRIGGER " tab "_fts_ad AFTER DELETE ON " tab " BEGIN"        \
	"  INSERT INTO " tab "_fts(" tab "_fts, rowid, " cols ")"            \
	"  VALUES ('delete', old.rid, " oldcols ");"                         \
	"END;"                                                               \
	"CREATE TRIGGER " tab "_fts_au AFTER UPDATE OF " cols " ON " tab     \
	" BEGIN"                                                             \
	"  INSERT INTO " tab "_fts(" tab "_fts, rowid, " cols ")"            \
	"  VALUES ('delete', old.rid, " oldcols ");"                         \
	"  INSERT INTO " tab "_fts(rowid, " cols ") VALUES (new.rid, "       \
	newcols ");"                                                         \
	"END;"

#define PERSON_COLS "name, org, title, how_met, note, emails, tags"
#define PERSON_NEW                                                           \
	"new.name, new.org, new.title, new.how_met, new.note, new.emails,"   \
	" new.tags"
#define PERSON_OLD                                                           \
	"old.name, old.org, old.title, old.how_met, old.note, old.emails,"   \
	" old.tags"

static const char step4[] =
    "CREATE VIRTUAL TABLE person_fts USING fts5(" PERSON_COLS ","
    "  content='person', content_rowid='rid',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE VIRTUAL TABLE interaction_fts USING fts5(note,"
    "  content='interaction', content_rowid='rid',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE VIRTUAL TABLE favor_fts USING fts5(note,"
    "  content='favor', content_rowid='rid',"
    "  tokenize='unicode61 remove_diacritics 2');"
    FTS_TRIGGERS("person", PERSON_COLS, PERSON_NEW, PERSON_OLD)
    FTS_TRIGGERS("interaction", "note", "new.note", "old.note")
    FTS_TRIGGERS("favor", "note", "new.note", "old.note")
    "INSERT INTO person_fts(person_fts) VALUES ('rebuild');"
    "INSERT INTO interaction_fts(interaction_fts) VALUES ('rebuild');"
    "INSERT INTO favor_fts(favor_fts) VALUES ('rebuild');";

/* Step 5: peers (people linked to another tally user's key) and the
 * records both sides sign (records.c).  record.signed is the binary
 * container with every signature gathered; the other columns are its
 * decoded form.  A record outlives its person and favor (SET NULL). */
static const char step5[] =
    "CREATE TABLE peer("
    "  rid INTEGER PRIMARY KEY,"
    "  person TEXT NOT NULL UNIQUE REFERENCES person(id) ON DELETE CASCADE,"
    "  pk BLOB NOT NULL UNIQUE CHECK (length(pk) = 32),"
    "  verified INTEGER,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ");"
    "CREATE TABLE record("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE CHECK (length(id) = 64),"
    "  kind TEXT NOT NULL CHECK (kind IN ('favor','referral','reference',"
    "    'introduction')),"
    "  state TEXT NOT NULL CHECK (state IN ('proposed','confirmed',"
    "    'declined','revoked')),"
    "  peer_pk BLOB NOT NULL CHECK (length(peer_pk) = 32),"
    "  person TEXT REFERENCES person(id) ON DELETE SET NULL,"
    "  by_me INTEGER NOT NULL,"
    "  proposed_by_me INTEGER NOT NULL,"
    "  happened TEXT,"
    "  favor_kind TEXT,"
    "  name TEXT,"
    "  note TEXT NOT NULL,"
    "  signed BLOB NOT NULL,"
    "  favor TEXT REFERENCES favor(id) ON DELETE SET NULL,"
    "  revocation BLOB,"
    "  reason TEXT,"
    "  closed_by_me INTEGER,"
    "  created INTEGER NOT NULL,"
    "  stored INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  confirmed_at INTEGER,"
    "  closed_at INTEGER"
    ");"
    "CREATE INDEX record_state ON record(state, created);"
    "CREATE INDEX record_person ON record(person) WHERE person IS NOT NULL;"
    "CREATE INDEX record_favor ON record(favor) WHERE favor IS NOT NULL;";

/* Step 6: covering partial indexes for `tally next`, so that ranking a
 * hundred thousand people reads only the rows that can score. */
static const char step6[] =
    "DROP INDEX interaction_follow;"
    "CREATE INDEX interaction_follow ON interaction(follow_up, person)"
    "  WHERE follow_up IS NOT NULL AND follow_up_done IS NULL;"
    "DROP INDEX favor_thanks;"
    "CREATE INDEX favor_thanks ON favor(done_at, person)"
    "  WHERE dir = -1 AND status = 'done' AND thanked IS NULL;"
    "CREATE INDEX favor_received ON favor(done_at, person)"
    "  WHERE dir = -1 AND status = 'done';"
    "CREATE INDEX person_close ON person(closeness, last_contact, id)"
    "  WHERE closeness >= 2 AND NOT is_me;"
    "CREATE INDEX ledger_open ON ledger(person, given, received, pending)"
    "  WHERE given < received OR pending > 0;"
    /* the ledger's listing order, covering every column it shows */
    "CREATE INDEX ledger_rank ON ledger(abs(given - received) DESC,"
    "  last DESC, name, person, given, received, n_given, n_received,"
    "  pending, confirmed);";

/* Step 7: the same CHECK constraints, as chains of OR instead of IN
 * lists.  SQLite 3.40 builds a table for each IN list every time an
 * INSERT runs, which was a quarter of a big import's time; an OR chain
 * costs a few comparisons.  Only the text of the constraints changes
 * (the stored rows and their meaning do not), so the tables' CREATE text
 * is rewritten in place, the way SQLite documents for such changes
 * (lang_altertable.html, "Making Other Kinds Of Table Schema Changes"),
 * and writable_schema=RESET makes this connection read it again.  The
 * index rebuilt at the end moves the schema cookie, so other
 * connections read it again too. */
#define OR_KINDS "kind = 'call' OR kind = 'coffee' OR kind = 'meeting'"
static const char step7[] =
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_master SET sql = replace(sql,"
    "  'CHECK (kind IN (''call'',''coffee'',''meeting'',''email'',"
    "''event''))',"
    "  'CHECK (kind = ''call'' OR kind = ''coffee'' OR kind = ''meeting'' OR"
    "    kind = ''email'' OR kind = ''event'')')"
    "  WHERE type = 'table' AND name = 'interaction';"
    "UPDATE sqlite_master SET sql = replace(replace(replace(sql,"
    "  'CHECK (dir IN (1, -1))', 'CHECK (dir = 1 OR dir = -1)'),"
    "  'CHECK (kind IN (''introduction'',''reference'',"
    "    ''referral'',''advice'',''resume'',''info'',''other''))',"
    "  'CHECK (kind = ''introduction'' OR kind = ''reference'' OR"
    "    kind = ''referral'' OR kind = ''advice'' OR kind = ''resume'' OR"
    "    kind = ''info'' OR kind = ''other'')'),"
    "  'CHECK (status IN (''asked'',''promised'',''done'',''declined''))',"
    "  'CHECK (status = ''asked'' OR status = ''promised'' OR"
    "    status = ''done'' OR status = ''declined'')')"
    "  WHERE type = 'table' AND name = 'favor';"
    "PRAGMA writable_schema = RESET;"
    "DROP INDEX interaction_thanks;"
    "CREATE INDEX interaction_thanks ON interaction(at)"
    "  WHERE thanked IS NULL AND (" OR_KINDS ");";

/* Step 8: the full-text indexes without a row of column sizes per
 * indexed row (columnsize=0).  Search orders hits by time, never by
 * bm25(), and snippet() measures only the rows it shows; not writing a
 * %_docsize row for every row halves the cost of indexing. */
#define FTS_OPTS                                                           \
	"  columnsize=0, tokenize='unicode61 remove_diacritics 2');"
static const char step8[] =
    "DROP TABLE person_fts;"
    "DROP TABLE interaction_fts;"
    "DROP TABLE favor_fts;"
    "CREATE VIRTUAL TABLE person_fts USING fts5(" PERSON_COLS ","
    "  content='person', content_rowid='rid'," FTS_OPTS
    "CREATE VIRTUAL TABLE interaction_fts USING fts5(note,"
    "  content='interaction', content_rowid='rid'," FTS_OPTS
    "CREATE VIRTUAL TABLE favor_fts USING fts5(note,"
    "  content='favor', content_rowid='rid'," FTS_OPTS
    "INSERT INTO person_fts(person_fts) VALUES ('rebuild');"
    "INSERT INTO interaction_fts(interaction_fts) VALUES ('rebuild');"
    "INSERT INTO favor_fts(favor_fts) VALUES ('rebuild');";

/* Step 10: operations for device sync (sync_int.h, sync_ops.c).
 * sync_state is this device's own (never synced): its id ('device'), the
 * largest clock seen from others ('seen'), cursors; sync_op every
 * operation, mine and the others'; sync_key the replica keys by epoch;
 * sync_outbox sealed batches not yet acknowledged by the relay; device
 * the person's devices (synced).  The rows already here become one
 * operation each. */
#define SYNC_TABLE_OPS(no, tab, key, LIST)                                   \
	" SELECT " no " AS t, r." key " AS k FROM " tab " r"
static const char step10[] =
    "CREATE TABLE sync_state(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
    "INSERT INTO sync_state(k, v) VALUES"
    "  ('device', (random() & 0x7fffffffffffff00) + 1), ('seen', 0),"
    "  ('pushed', 0), ('cursor', 0);"
    "CREATE TABLE sync_op("
    "  dev INTEGER NOT NULL,"
    "  clock INTEGER NOT NULL,"
    "  tbl INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  cols TEXT," /* NULL: a delete */
    "  PRIMARY KEY (dev, clock)"
    ") WITHOUT ROWID;"
    "CREATE INDEX sync_op_row ON sync_op(key, tbl);"
    "CREATE TABLE sync_wait(" /* rows waiting for their parent row */
    "  ptbl INTEGER NOT NULL,"
    "  pkey TEXT NOT NULL,"
    "  tbl INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  PRIMARY KEY (pkey, ptbl, tbl, key)"
    ") WITHOUT ROWID;"
    "CREATE TABLE sync_key("
    "  epoch INTEGER PRIMARY KEY,"
    "  key BLOB NOT NULL CHECK (length(key) = 32),"
    "  created INTEGER NOT NULL"
    ");"
    "CREATE TABLE sync_outbox("
    "  n INTEGER PRIMARY KEY,"
    "  data BLOB NOT NULL,"
    "  nops INTEGER NOT NULL,"
    "  first INTEGER NOT NULL," /* its first operation's clock */
    "  epoch INTEGER NOT NULL"
    ");"
    "CREATE TABLE device("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  pk BLOB NOT NULL CHECK (length(pk) = 32),"
    "  created INTEGER NOT NULL,"
    "  revoked INTEGER"
    ");"
    TLY_SYNC_TRIGGERS("person", "1", "id", TLY_SYNC_PERSON)
    TLY_SYNC_TRIGGERS("interaction", "2", "id", TLY_SYNC_INTERACTION)
    TLY_SYNC_TRIGGERS("introduction", "3", "id", TLY_SYNC_INTRODUCTION)
    TLY_SYNC_TRIGGERS("favor", "4", "id", TLY_SYNC_FAVOR)
    TLY_SYNC_TRIGGERS("reference", "5", "id", TLY_SYNC_REFERENCE)
    TLY_SYNC_TRIGGERS("reference_use", "6", "id", TLY_SYNC_REFERENCE_USE)
    TLY_SYNC_TRIGGERS("peer", "7", "person", TLY_SYNC_PEER)
    TLY_SYNC_TRIGGERS("record", "8", "id", TLY_SYNC_RECORD)
    TLY_SYNC_TRIGGERS("device", "9", "id", TLY_SYNC_DEVICE)
    "INSERT INTO sync_op(dev, clock, tbl, key, cols)"
    " SELECT d.v, (" TLY_SYNC_NOW_MS " << 16) + row_number() OVER (),"
    "  u.t, u.k, '" TLY_SYNC_ROW "' FROM sync_state d, ("
    SYNC_TABLE_OPS("1", "person", "id", TLY_SYNC_PERSON) " UNION ALL"
    SYNC_TABLE_OPS("2", "interaction", "id", TLY_SYNC_INTERACTION)
    " UNION ALL"
    SYNC_TABLE_OPS("3", "introduction", "id", TLY_SYNC_INTRODUCTION)
    " UNION ALL"
    SYNC_TABLE_OPS("4", "favor", "id", TLY_SYNC_FAVOR) " UNION ALL"
    SYNC_TABLE_OPS("5", "reference", "id", TLY_SYNC_REFERENCE)
    " UNION ALL"
    SYNC_TABLE_OPS("6", "reference_use", "id", TLY_SYNC_REFERENCE_USE)
    " UNION ALL"
    SYNC_TABLE_OPS("7", "peer", "person", TLY_SYNC_PEER) " UNION ALL"
    SYNC_TABLE_OPS("8", "record", "id", TLY_SYNC_RECORD)
    ") u WHERE d.k = 'device';";

/* What the triggers of steps 2 to 4 derive, from scratch: device sync
 * fills a new replica with them dropped (sync_ops.c). */
const char tly_schema_derive[] =
    "DELETE FROM person_key;"
    "INSERT INTO person_key(person, key)"
    "  SELECT p.id, 'e:' || lower(trim(e.value))"
    "  FROM person p, json_each(p.emails) e WHERE trim(e.value) <> ''"
    "  UNION SELECT id, 'u:' || " URL_KEY("url") " FROM person"
    "  WHERE url IS NOT NULL AND url <> '';"
    "UPDATE person SET last_contact = coalesce("
    "  (SELECT max(at) FROM interaction i WHERE i.person = person.id), 0);"
    "DELETE FROM ledger;"
    "INSERT INTO " LEDGER_COLS " " LEDGER_SELECT " GROUP BY f.person;"
    "INSERT INTO person_fts(person_fts) VALUES ('rebuild');"
    "INSERT INTO interaction_fts(interaction_fts) VALUES ('rebuild');"
    "INSERT INTO favor_fts(favor_fts) VALUES ('rebuild');";

/* Step 9: records and introductions through the relay (mail.c,
 * mail_intro.c).  mail_outbox holds sealed envelopes until the relay
 * acknowledged them; mail_seen the letter ids already taken in (replays
 * and duplicate deliveries are recognised by them); mail_inbox the
 * proposals waiting for my answer, their sender's key (a person only once
 * linked as a peer); mail_intro each introduction I make or am asked to
 * consent to, with the record as its signatures come in. */
static const char step9[] =
    "CREATE TABLE mail_outbox("
    "  rid INTEGER PRIMARY KEY,"
    "  env_id BLOB NOT NULL UNIQUE CHECK (length(env_id) = 32),"
    "  recipient BLOB NOT NULL CHECK (length(recipient) = 32),"
    "  envelope BLOB NOT NULL,"
    "  type INTEGER NOT NULL,"
    "  ref TEXT,"
    "  what TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  tries INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT"
    ");"
    "CREATE TABLE mail_seen("
    "  letter BLOB PRIMARY KEY CHECK (length(letter) = 16),"
    "  sender BLOB NOT NULL,"
    "  type INTEGER NOT NULL,"
    "  received INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE mail_inbox("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE CHECK (length(id) = 64),"
    "  sender BLOB NOT NULL CHECK (length(sender) = 32),"
    "  signed BLOB NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('waiting','answered',"
    "    'withdrawn')),"
    "  received INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ");"
    "CREATE INDEX mail_inbox_waiting ON mail_inbox(received)"
    "  WHERE state = 'waiting';"
    "CREATE TABLE mail_intro("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE CHECK (length(id) = 32),"
    "  role TEXT NOT NULL CHECK (role IN ('introducer','introduced')),"
    "  introducer BLOB NOT NULL CHECK (length(introducer) = 32),"
    "  a BLOB CHECK (length(a) = 32),"
    "  b BLOB CHECK (length(b) = 32),"
    "  ans_a INTEGER NOT NULL DEFAULT 0,"
    "  ans_b INTEGER NOT NULL DEFAULT 0,"
    "  other BLOB CHECK (length(other) = 32),"
    "  state TEXT NOT NULL CHECK (state IN ('asked','consented',"
    "    'declined','cancelled','made')),"
    "  created INTEGER NOT NULL,"
    "  happened TEXT NOT NULL,"
    "  note TEXT NOT NULL,"
    "  share TEXT,"
    "  reason TEXT,"
    "  signed BLOB,"
    "  card BLOB,"
    "  intro TEXT REFERENCES introduction(id) ON DELETE SET NULL,"
    "  person TEXT REFERENCES person(id) ON DELETE SET NULL,"
    "  received INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ");"
    "CREATE INDEX mail_intro_asked ON mail_intro(received)"
    "  WHERE state = 'asked';";

const char *const tly_schema_steps[] = { step1, step2, step3, step4,
	step5, step6, step7, step8, step9, step10 };
const int         tly_schema_nsteps =
    (int) (sizeof tly_schema_steps / sizeof tly_schema_steps[0]);
