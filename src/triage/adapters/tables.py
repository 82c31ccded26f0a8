"""The database tables (SQLAlchemy Core); migrations in ``adapters/migrations`` create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

facility = Table(
    "facility",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("log_origin", String(200), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One row per log: the size and root after the last append. Its row lock serialises appends.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("log_id", String(64), ForeignKey("facility.id"), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
)

# One log per database (each facility has its own), so the entry index alone is the key: on
# SQLite it is the rowid itself, and appends fill pages densely at the end of one B-tree.
INDEX_TYPE = BigInteger().with_variant(Integer(), "sqlite")

ledger_entry = Table(
    "ledger_entry",
    metadata,
    Column("idx", INDEX_TYPE, primary_key=True, autoincrement=False),
    # No foreign key: only the ledger store writes here, holding the head row's lock (0009).
    Column("log_id", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# Entries of full level-0 tiles, 256 a row (``triage.ledger.bundle``): bundle ``idx`` holds
# entries 256*idx to 256*idx+255. The entries of the last, partial tile stay rows of
# ``ledger_entry`` until their tile is full; then they move here in the append that fills it.
ledger_bundle = Table(
    "ledger_bundle",
    metadata,
    Column("idx", INDEX_TYPE, primary_key=True, autoincrement=False),
    Column("log_id", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# C2SP tlog-tiles: up to 256 hashes of height 8*level; partial tiles grow in place.
ledger_tile = Table(
    "ledger_tile",
    metadata,
    Column("log_id", String(64), ForeignKey("ledger_head.log_id"), primary_key=True),
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
)

ledger_checkpoint = Table(
    "ledger_checkpoint",
    metadata,
    Column("log_id", String(64), ForeignKey("ledger_head.log_id"), primary_key=True),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

# Derived from the entries (rebuildable): which entries concern which subject.
ledger_subject = Table(
    "ledger_subject",
    metadata,
    Column("idx", INDEX_TYPE, primary_key=True, autoincrement=False),
    Column("log_id", String(64), nullable=False),
    Column("entry_type", String(80), nullable=False),
    Column("subject_kind", String(40), nullable=False),
    Column("subject_id", String(120), nullable=False),
    Index("ix_ledger_subject_subject", "log_id", "subject_kind", "subject_id", "idx"),
)

# ---------------------------------------------------------------------------------------------
# Projections of the ledger (issue 3). Every row below is rebuilt by `triage ledger replay`
# from the entries alone, except where a comment says otherwise.

facility_settings = Table(
    "facility_settings",
    metadata,
    Column("facility_id", String(64), ForeignKey("facility.id"), primary_key=True),
    Column("max_reset_attempts", Integer, nullable=False),
    Column("work_order_minutes", Integer, nullable=False),
    # Working hours for the out-of-hours threshold, as JSON {"start", "end", "days"}; none set
    # means every hour is working time.
    Column("working_hours", Text),
    # Days without a move after which a device is flagged idle (issue 19, 0018).
    Column("idle_device_days", Integer, nullable=False, server_default="3"),
    # The bench draws each seal at random from the operator's issued seals (issue 19, 0018).
    Column("random_seal_issue", Boolean, nullable=False, server_default=false()),
)

operator = Table(
    "operator",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("roles", String(300), nullable=False),  # comma-separated Role values, sorted
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Suspended by an anomaly breach (or a security manager) until a security manager
    # reinstates; a suspended operator cannot act.
    Column("suspended", Boolean, nullable=False, server_default=false()),
    Column("mfa_enrolled", Boolean, nullable=False, server_default=false()),
    Column("last_login_at", DateTime(timezone=True)),
    # The asset owner a person of an asset owner acts for (Role.ASSET_OWNER); None for the
    # facility's own people.
    Column("asset_owner", String(100)),
)

# The benches an administrator assigned each operator (operator.benches_assigned): an operator
# signs in, and orders work, only at one of these.
operator_bench = Table(
    "operator_bench",
    metadata,
    Column("operator_id", String(64), ForeignKey("operator.id"), primary_key=True),
    Column("bench", String(64), primary_key=True),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
)

# Credentials, not records: rebuilt by nobody, and never in the ledger beyond their id.
# Issue and revocation are ledger entries; the hash of the secret is not.
api_token = Table(
    "api_token",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("operator_id", String(64), ForeignKey("operator.id"), nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("label", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Comma-separated Permission values the token may use (within its operator's roles).
    Column("scopes", Text, nullable=False, server_default=""),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    # The bench a token was issued for (a bench tablet); work orders need the bench.
    Column("bench", String(64)),
)

# A person's secrets: the Argon2id password hash and the TOTP secret (encrypted with the
# data directory's secrets key). Never in the ledger; enrolment and changes are.
operator_credential = Table(
    "operator_credential",
    metadata,
    Column("operator_id", String(64), ForeignKey("operator.id"), primary_key=True),
    Column("password_hash", String(200)),
    Column("totp_secret", LargeBinary),
    Column("totp_confirmed_at", DateTime(timezone=True)),
    # The last TOTP time step accepted: a code is good once.
    Column("last_totp_step", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One-time codes an administrator hands a new operator (or after a reset) to set a password
# and enrol a second factor; only the hash is kept.
activation_code = Table(
    "activation_code",
    metadata,
    Column("operator_id", String(64), ForeignKey("operator.id"), primary_key=True),
    Column("code_hash", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

recovery_code = Table(
    "recovery_code",
    metadata,
    Column("operator_id", String(64), ForeignKey("operator.id"), primary_key=True),
    Column("code_hash", LargeBinary(32), primary_key=True),
    Column("used_at", DateTime(timezone=True)),
)

# Operational: recent login attempts, counted for lockout and the growing delay. Failures and
# lockouts are ledger entries too.
login_attempt = Table(
    "login_attempt",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("operator_id", String(64)),
    Column("source", String(64), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_login_attempt_operator", "operator_id", "at"),
    Index("ix_login_attempt_source", "source", "at"),
)

# Web sessions: the id is the SHA-256 of the cookie's secret.
web_session = Table(
    "web_session",
    metadata,
    Column("id", LargeBinary(32), primary_key=True),
    Column("operator_id", String(64), ForeignKey("operator.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("bench", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Index("ix_web_session_operator", "operator_id"),
)

# Locked accounts and source addresses (auth.locked / auth.unlocked entries).
access_lock = Table(
    "access_lock",
    metadata,
    Column("subject_kind", String(12), primary_key=True),
    Column("subject_id", String(64), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("locked_at", DateTime(timezone=True), nullable=False),
)

# Anomaly thresholds (threshold.set entries): scope 'facility', 'tool' or 'operator'; the
# subject is '' for the facility-wide value.
anomaly_threshold = Table(
    "anomaly_threshold",
    metadata,
    Column("scope", String(12), primary_key=True),
    Column("subject_id", String(64), primary_key=True),
    Column("metric", String(40), primary_key=True),
    Column("max_count", Integer, nullable=False),
    Column("window_minutes", Integer, nullable=False),
)

# What the thresholds count: one row per counted event, from the entries that record it.
activity = Table(
    "activity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("tool_id", String(64)),
    Column("operator_id", String(64)),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_activity_tool", "kind", "tool_id", "at"),
    Index("ix_activity_operator", "kind", "operator_id", "at"),
)

# How many ``activity`` rows each tool and operator has of each kind, ever: a count in a window
# can be no more, so a threshold it cannot reach is known without counting the window's rows
# (which grow with a busy tool's every reset). Kept by the projector with ``activity``.
activity_total = Table(
    "activity_total",
    metadata,
    Column("kind", String(40), primary_key=True),
    Column("scope", String(20), primary_key=True),
    Column("subject_id", String(64), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

alert = Table(
    "alert",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("metric", String(40), nullable=False),
    Column("subject_kind", String(12), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("resolved_by", String(64)),
    Column("resolution", Text),
    Column("resolved_at", DateTime(timezone=True)),
    Index("ix_alert_status", "status"),
)

tool = Table(
    "tool",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("bench", String(64), nullable=False),
    Column("verifier_key", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
    Column("status_reason", Text),
    Column("status_changed_at", DateTime(timezone=True)),
)

# Operational replay protection for signed agent requests; not a projection.
agent_nonce = Table(
    "agent_nonce",
    metadata,
    Column("tool_id", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

tamper_policy = Table(
    "tamper_policy",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("policy_id", String(100), nullable=False),
    Column("version", String(40), nullable=False),
    Column("source", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("activated_at", DateTime(timezone=True), nullable=False),
)

consignment = Table(
    "consignment",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("reference", String(100), nullable=False),
    Column("asset_owner", String(100), nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    UniqueConstraint("asset_owner", "reference", name="uq_consignment_owner_reference"),
)


def _device_fields() -> list[Column[object]]:
    return [
        Column("device_type", SmallInteger, nullable=False),
        Column("manufacturer", String(100), nullable=False),
        Column("model", String(100), nullable=False),
        Column("firmware_version", String(100), nullable=False),
        Column("inventory_status", String(30), nullable=False),
        Column("asset_owner", String(100), nullable=False),
        Column("smets_version", String(40)),
        Column("chf_id", String(23)),
    ]


consignment_device = Table(
    "consignment_device",
    metadata,
    Column("consignment_id", String(64), ForeignKey("consignment.id"), primary_key=True),
    Column("device_id", String(23), primary_key=True),
    *_device_fields(),
    Column("arrived", Boolean, nullable=False),
    Index("ix_consignment_device_device", "device_id"),
)

device = Table(
    "device",
    metadata,
    Column("id", String(23), primary_key=True),
    *_device_fields(),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

triage_job = Table(
    "triage_job",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("device_id", String(23), ForeignKey("device.id"), nullable=False),
    Column("consignment_id", String(64), ForeignKey("consignment.id")),
    Column("state", String(30), nullable=False),
    Column("inspector_id", String(64)),
    Column("outcome", String(30)),
    Column("reset_attempts", Integer, nullable=False),
    Column("seal_serial", String(64)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Index("ix_triage_job_device", "device_id", "opened_at"),
    # The device list (services.views.device_list): newest received first, a keyset page at a
    # time, in one state or from one consignment (0013).
    Index("ix_triage_job_state", "state", "opened_at", "id"),
    Index("ix_triage_job_opened", "opened_at", "id"),
    Index("ix_triage_job_consignment", "consignment_id", "opened_at", "id"),
)
# A device has at most one open triage job, whatever the callers do.
Index(
    "uq_triage_job_open_device",
    triage_job.c.device_id,
    unique=True,
    sqlite_where=triage_job.c.closed_at.is_(None),
    postgresql_where=triage_job.c.closed_at.is_(None),
)

inspection = Table(
    "inspection",
    metadata,
    Column("job_id", String(36), ForeignKey("triage_job.id"), primary_key=True),
    Column("inspector_id", String(64), nullable=False),
    Column("evidence", Text, nullable=False),  # canonical JSON
    Column("at", DateTime(timezone=True), nullable=False),
)

decision = Table(
    "decision",
    metadata,
    Column("job_id", String(36), ForeignKey("triage_job.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("outcome", String(30), nullable=False),
    Column("reasons", Text, nullable=False),  # canonical JSON
    Column("policy_hash", String(64)),
    Column("decided_by", String(64), nullable=False),
    Column("justification", Text),
    Column("at", DateTime(timezone=True), nullable=False),
    # The dashboard's decisions of the last two weeks (0013).
    Index("ix_decision_at", "at"),
)

work_order = Table(
    "work_order",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("job_id", String(36), ForeignKey("triage_job.id"), nullable=False),
    Column("tool_id", String(64), ForeignKey("tool.id"), nullable=False),
    Column("device_id", String(23), nullable=False),
    Column("operator_id", String(64), nullable=False),
    Column("nonce", String(32), nullable=False, unique=True),
    Column("profile", String(100), nullable=False),
    Column("status", String(12), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("signed", Text, nullable=False),
    # factory_reset or read_security_log (orders issued before reads existed are resets).
    Column("action", String(32), nullable=False, server_default="factory_reset"),
    Index("ix_work_order_tool_status", "tool_id", "status"),
    Index("ix_work_order_job", "job_id"),
)

# Security logs recorded for a job: the device's GBCS 6.13 answer, read by the bench tool or
# uploaded from the supplier. The raw bytes are in the evidence store under ``sha256``; the
# entries (code and time) are the ledger entry's, kept here for the inspection.
security_log = Table(
    "security_log",
    metadata,
    Column("job_id", String(36), ForeignKey("triage_job.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("device_id", String(23), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("use_case", String(16), nullable=False),
    Column("outcome", String(12), nullable=False),
    Column("status", Text),
    Column("entry_count", Integer, nullable=False),
    Column("entries", Text, nullable=False),  # canonical JSON list of {code, at}
    Column("source", String(12), nullable=False),
    Column("source_detail", Text, nullable=False),  # canonical JSON object
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

reset_result = Table(
    "reset_result",
    metadata,
    Column("work_order_id", String(36), ForeignKey("work_order.id"), primary_key=True),
    Column("job_id", String(36), ForeignKey("triage_job.id"), nullable=False),
    Column("outcome", String(12), nullable=False),
    Column("verified", Boolean),
    Column("failures", Text, nullable=False),  # canonical JSON list
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("signed", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_reset_result_job", "job_id"),
    # The dashboard's verified resets of the last two weeks (0013).
    Index("ix_reset_result_at", "at"),
)

seal_fitting = Table(
    "seal_fitting",
    metadata,
    Column("serial", String(64), primary_key=True),
    Column("device_id", String(23), nullable=False),
    # A job has more than one seal when the first was found broken before dispatch.
    Column("job_id", String(36), ForeignKey("triage_job.id"), nullable=False),
    Column("fitted_by", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_seal_fitting_job", "job_id"),
)

device_exception = Table(
    "device_exception",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("device_id", String(23), nullable=False),
    Column("detail", Text, nullable=False),
    Column("status", String(12), nullable=False),
    Column("raised_by", String(64), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("resolved_by", String(64)),
    Column("resolution", Text),
    Column("resolved_at", DateTime(timezone=True)),
)

# -- seals ----------------------------------------------------------------------------------

seal_batch = Table(
    "seal_batch",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("supplier", String(120), nullable=False),
    Column("delivery_reference", String(64), nullable=False),
    Column("seal_class", String(8), nullable=False),
    Column("class_description", String(80)),
    Column("store", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("first_serial", String(64)),  # a range: its ends; a list: null
    Column("last_serial", String(64)),
    Column("received_by", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

seal = Table(
    "seal",
    metadata,
    Column("serial", String(64), primary_key=True),
    Column("batch_id", String(36), ForeignKey("seal_batch.id"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("store", String(32)),
    Column("holder", String(64)),
    Column("device_id", String(23)),
    Column("job_id", String(36)),
    Column("issued_at", DateTime(timezone=True)),
    Column("status_at", DateTime(timezone=True), nullable=False),
    Index("ix_seal_status_store", "status", "store"),
    Index("ix_seal_holder", "holder", "status"),
    Index("ix_seal_batch", "batch_id", "status"),
)

# Every step of every seal; numbered from the table itself (see ``activity``).
seal_event = Table(
    "seal_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("serial", String(64), nullable=False),
    Column("batch_id", String(36), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("store", String(32)),
    Column("operator_id", String(64)),
    Column("device_id", String(23)),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("detail", Text),
    Index("ix_seal_event_serial", "serial"),
    Index("ix_seal_event_kind_at", "kind", "at"),
)

# The facility's seal figures (each movement and holding of the reconciliation), kept by the
# projector as each seal moves, so that a glance at them (the dashboard) reads a handful of rows
# rather than every seal's history. The reconciliation itself counts the seals and their events.
seal_tally = Table(
    "seal_tally",
    metadata,
    Column("figure", String(24), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

seal_discrepancy = Table(
    "seal_discrepancy",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(24), nullable=False),
    Column("serial", String(64), nullable=False),
    Column("batch_id", String(36)),
    Column("store", String(32)),
    Column("operator_id", String(64)),
    Column("device_id", String(23)),
    Column("detail", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("stocktake_id", String(36)),
    Column("raised_by", String(64), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("resolved_by", String(64)),
    Column("resolution", Text),
    Column("resolved_at", DateTime(timezone=True)),
    Index("ix_seal_discrepancy_status", "status", "raised_at"),
)

seal_stocktake = Table(
    "seal_stocktake",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("store", String(32), nullable=False),
    Column("counted_by", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("expected", Integer, nullable=False),
    Column("counted", Integer, nullable=False),
    Column("missing", Text, nullable=False),  # canonical JSON list of serials
    Column("unexpected", Text, nullable=False),  # canonical JSON list of [serial, known as]
)

seal_reconciliation = Table(
    "seal_reconciliation",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("scope", String(10), nullable=False),
    Column("scope_id", String(64)),
    Column("balanced", Boolean, nullable=False),
    Column("open_discrepancies", Integer, nullable=False),
    Column("result", Text, nullable=False),  # canonical JSON of the whole reconciliation
    Column("recorded_by", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# -- assurance: the control catalogue and evidence -------------------------------------------

control_catalogue = Table(
    "control_catalogue",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("version", String(32), nullable=False),
    Column("text", Text, nullable=False),  # the YAML as adopted
    Column("adopted_by", String(64), nullable=False),
    Column("adopted_at", DateTime(timezone=True), nullable=False),
)

provider_control = Table(
    "provider_control",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("definition", Text, nullable=False),  # canonical JSON of the control
    Column("added_by", String(64), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

control_applicability = Table(
    "control_applicability",
    metadata,
    Column("control_id", String(32), primary_key=True),
    Column("applicable", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_by", String(64), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(10), nullable=False),  # automatic or upload
    Column("name", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("filename", String(120)),
    Column("control_ids", Text, nullable=False),  # canonical JSON list
    Column("summary", Text, nullable=False),  # canonical JSON object
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_evidence_name", "name", "recorded_at"),
)

# -- assurance: the provider, commissioning, assessments -------------------------------------

sec_party = Table(
    "sec_party",
    metadata,
    Column("party_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("roles", Text, nullable=False),  # canonical JSON list
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

commissioning = Table(
    "commissioning",
    metadata,
    Column("facility_id", String(64), primary_key=True),
    Column("until", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("started_by", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
)

assessment = Table(
    "assessment",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(4), nullable=False),
    Column("assessor", String(200), nullable=False),
    Column("scope", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("planned_at", Date, nullable=False),
    Column("fieldwork_start", Date),
    Column("fieldwork_end", Date),
    Column("controls", Text, nullable=False),  # canonical JSON list of control ids
    Column("evidence_ids", Text, nullable=False),  # canonical JSON list
    Column("result", String(20)),
    Column("decided_at", DateTime(timezone=True)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

finding = Table(
    "finding",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("assessment_id", String(36), ForeignKey("assessment.id"), nullable=False),
    Column("control_id", String(32), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("response", Text),
    Column("response_due", Date),
    Column("responded_by", String(64)),
    Column("responded_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("closure", Text),
    Index("ix_finding_assessment", "assessment_id"),
)

remedial_action = Table(
    "remedial_action",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("finding_id", String(36), ForeignKey("finding.id"), nullable=False),
    Column("description", Text, nullable=False),
    Column("owner", String(64), nullable=False),
    Column("due", Date, nullable=False),
    Column("status", String(6), nullable=False),
    Column("done_at", DateTime(timezone=True)),
    Index("ix_remedial_action_finding", "finding_id"),
)

approval_step = Table(
    "approval_step",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("assessment_id", String(36), ForeignKey("assessment.id"), nullable=False),
    Column("description", Text, nullable=False),
    Column("due", Date, nullable=False),
    Column("done_at", DateTime(timezone=True)),
)

# --- issue 19, asset owners: tables go here (helper A) ---
asset_owner = Table(
    "asset_owner",
    metadata,
    # The name consignments give the owner (consignment.asset_owner).
    Column("id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("contact", String(500), nullable=False),
    # The C2SP verifier key its acknowledgements are signed with; None until it gives one.
    Column("verifier_key", String(300)),
    Column("active", Boolean, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# --- issue 19, dispatch: tables go here (helper B) ---
dispatch = Table(
    "dispatch",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("asset_owner", String(100), nullable=False),
    Column("destination", String(16), nullable=False),
    Column("reference", String(100)),  # the RMA reference of a return to the manufacturer
    Column("state", String(16), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("manifest_sha256", String(64)),
    Column("note_sha256", String(64)),
    # The signed dispatch note as handed out (its bytes rebuilt from the dispatch.closed entry).
    Column("note", Text),
    Column("carrier", String(100)),
    Column("vehicle", String(100)),
    Column("container_seal", String(100)),
    Column("handed_over_by", String(64)),
    Column("handed_over_at", DateTime(timezone=True)),
    Column("acknowledged_by", String(64)),
    Column("acknowledged_how", String(8)),
    Column("acknowledgement_sha256", String(64)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Index("ix_dispatch_asset_owner", "asset_owner"),
)

dispatch_device = Table(
    "dispatch_device",
    metadata,
    Column("dispatch_id", String(36), ForeignKey("dispatch.id"), primary_key=True),
    Column("device_id", String(23), primary_key=True),
    Column("job_id", String(36), nullable=False),
    Column("seal_serial", String(64)),
    Column("checks", Text, nullable=False),  # canonical JSON {viewed, verified, tugged, twisted}
    Column("packed_by", String(64), nullable=False),
    Column("packed_at", DateTime(timezone=True), nullable=False),
    Index("ix_dispatch_device_job_id", "job_id"),
)

# Packing attempts refused because the seal failed a check (each an exception).
dispatch_refusal = Table(
    "dispatch_refusal",
    metadata,
    Column("exception_id", String(36), primary_key=True),
    Column("dispatch_id", String(36), ForeignKey("dispatch.id"), nullable=False),
    Column("device_id", String(23), nullable=False),
    Column("seal_serial", String(64), nullable=False),
    Column("checks", Text, nullable=False),
    Column("refused_by", String(64), nullable=False),
    Column("refused_at", DateTime(timezone=True), nullable=False),
    Index("ix_dispatch_refusal_dispatch_id", "dispatch_id"),
)

dispatch_discrepancy = Table(
    "dispatch_discrepancy",
    metadata,
    Column("exception_id", String(36), primary_key=True),
    Column("dispatch_id", String(36), ForeignKey("dispatch.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("device_id", String(23), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("text", String(500), nullable=False),
    Index("ix_dispatch_discrepancy_dispatch_id", "dispatch_id"),
)


# --- issue 19, disposal evidence: tables go here (helper C) ---
# The destruction methods a person may choose (destruction_method.set; the defaults are seeded
# by the migration and by the projection of facility.created).
destruction_method = Table(
    "destruction_method",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("category", String(10), nullable=False),  # NIST SP 800-88: clear, purge, destroy
    Column("description", String(500), nullable=False),
    Column("tool", String(200), nullable=False),
    Column("verification", String(300), nullable=False),
    Column("destination", String(200), nullable=False),
    Column("confidentiality", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True)),  # None: a default never changed
)

# How each device left for good: device.destroyed / device.returned_to_manufacturer, and the
# witness of a destruction (disposal.witnessed). The method is as it stood at the destruction.
disposal = Table(
    "disposal",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("device_id", String(23), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # destroy or return
    Column("reference", String(100), nullable=False),
    Column("recorded_by", String(100), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("role", String(100)),
    Column("manufacturer", String(200)),
    Column("model", String(200)),
    Column("device_type", SmallInteger),
    Column("asset_owner", String(100), index=True),
    Column("method", Text),  # the method's canonical JSON, None before methods were recorded
    Column("site", String(200)),
    Column("contact", String(200)),
    Column("destroyed_on", Date),
    Column("evidence", Text, nullable=False),  # canonical JSON list of {sha256, media_type, size}
    Column("witness_id", String(100)),
    Column("witness_statement", String(500)),
    Column("witnessed_at", DateTime(timezone=True)),
)

# --- issue 19, device custody: tables go here (helper D) ---
# Places inside the facility where devices are kept (location.defined / location.changed); the
# defaults come with the facility (facility.created), a bench's when a device is first there.
location = Table(
    "location",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("defined_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Where each device is (device.received, device.moved, device.left): a location code, or None
# once it has left the facility; ``since`` is its last move, which the idle flag counts from.
device_location = Table(
    "device_location",
    metadata,
    Column("device_id", String(23), primary_key=True),
    Column("location", String(64)),
    Column("since", DateTime(timezone=True), nullable=False),
    # Devices by location, oldest move first (the custody page and the dashboard).
    Index("ix_device_location_location", "location", "since"),
)

device_stocktake = Table(
    "device_stocktake",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("location", String(64), nullable=False),
    Column("counted_by", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("expected", Integer, nullable=False),
    Column("counted", Integer, nullable=False),
    Column("matched", Integer, nullable=False),
    Column("missing", Text, nullable=False),  # canonical JSON list of device ids
    Column("unexpected", Text, nullable=False),  # canonical JSON list of [device, recorded at]
    Index("ix_device_stocktake_at", "at"),
)

# The seal drawn at random for a job (seal.drawn), when the facility issues seals at random.
seal_draw = Table(
    "seal_draw",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("serial", String(64), nullable=False),
    Column("operator_id", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# --- issue 19, retention and outcome reports: tables go here (helper E) ---
# Retention rules set for a kind of evidence file (a kind never set keeps its default, in
# triage.domain.retention.KINDS).
retention_rule = Table(
    "retention_rule",
    metadata,
    Column("kind", String(40), primary_key=True),
    Column("days", Integer, nullable=False),
    Column("counted_from", String(20), nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

legal_hold = Table(
    "legal_hold",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("scope", String(20), nullable=False),
    Column("target", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("placed_by", String(64), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("released_by", String(64)),
    Column("released_at", DateTime(timezone=True)),
    Column("release_reason", Text),
    Index("ix_legal_hold_target", "scope", "target"),
)

# Every record of an evidence file (a photo, a security log, an assurance document), from the
# entry that recorded it; ``ref`` is the job or evidence it belongs to.
evidence_file = Table(
    "evidence_file",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("ref", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("device_id", String(23)),
    Column("job_id", String(36)),
    Index("ix_evidence_file_job", "job_id"),
)

evidence_purge = Table(
    "evidence_purge",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("purged_at", DateTime(timezone=True), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("name", String(300), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("rule_days", Integer, nullable=False),
    Column("purged_by", String(64), nullable=False),
)

# --- issue 20, Smart Metering Inventory readings: tables go here (helper A) ---

# What a DUIS 8.2 Read Inventory response said of each device the facility held, one row per
# ``device.inventory_read`` (numbered in ledger order); the latest row of a device is the one
# the SMI gate reads.
smi_reading = Table(
    "smi_reading",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("device_id", String(23), nullable=False, index=True),
    Column("status", String(30)),
    Column("device_type", String(10), nullable=False),
    Column("manufacturer", String(30), nullable=False),
    Column("model", String(30), nullable=False),
    Column("firmware_version", String(8)),
    Column("smets_chts_version", String(20)),
    Column("chf_id", String(23)),
    Column("date_commissioned", String(10)),
    Column("response_id", String(80)),
    Column("request_id", String(80)),
    Column("response_at", DateTime(timezone=True), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("job_id", String(36)),
    Column("consignment_id", String(64)),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
# The SMI gate's refused statuses (``inventory.smi_policy_set``); no row: the default.
smi_policy = Table(
    "smi_policy",
    metadata,
    Column("facility_id", String(36), primary_key=True),
    Column("refused", String(300), nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)


# --- issue 20, DUIS requests produced: tables go here (helper B) ---
# Each DUIS request file written (duis.request_written): its RequestID, what it asks about which
# device, its digest in the evidence store and the batch it was handed out in.
duis_request = Table(
    "duis_request",
    metadata,
    Column("request_id", String(100), primary_key=True),
    Column("originator", String(23), nullable=False),
    Column("counter", BigInteger, nullable=False),
    Column("service_reference", String(10), nullable=False),
    Column("description", String(100), nullable=False),
    Column("device_id", String(23), nullable=False),
    Column("asset_owner", String(100)),
    Column("job_id", String(36)),
    Column("purpose", String(60), nullable=False),
    Column("subject_kind", String(40), nullable=False),
    Column("subject_id", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("produced_by", String(64), nullable=False),
    Column("produced_at", DateTime(timezone=True), nullable=False),
    Column("batch_id", String(36)),
    # The file as written (it is in the entry too: a replay rebuilds it byte for byte).
    Column("xml", Text, nullable=False),
    UniqueConstraint("originator", "counter", name="uq_duis_request_counter"),
    Index("ix_duis_request_device", "device_id"),
    Index("ix_duis_request_job", "job_id"),
    Index("ix_duis_request_owner", "asset_owner", "batch_id"),
)

# One asset owner's requests handed out as a ZIP (duis.batch_produced).
duis_batch = Table(
    "duis_batch",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("asset_owner", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("request_count", Integer, nullable=False),
    Column("dispatch_id", String(36)),
    Column("consignment_id", String(64)),
    Column("produced_by", String(64), nullable=False),
    Column("produced_at", DateTime(timezone=True), nullable=False),
    Index("ix_duis_batch_owner", "asset_owner", "produced_at"),
)

# The DCC User who submits an asset owner's requests (duis.dcc_user_set): its EUI-64.
duis_dcc_user = Table(
    "duis_dcc_user",
    metadata,
    Column("asset_owner", String(100), primary_key=True),
    Column("originator", String(23), nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

# The facility's DUIS settings: the DCC's EUI-64 (duis.target_set, name "target") and the
# rules in force (duis.rules_set, name "rules": the YAML as recorded).
duis_setting = Table(
    "duis_setting",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("value", Text, nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)


# --- issue 20, communications hubs returned to the DCC: tables go here (helper C) ---

# A communications hub's return to the DCC (device.returned_to_dcc), one per job: the DUIS
# 8.14.3/8.14.4 fields, the DCC's return reference and the request produced with it.
hub_return = Table(
    "hub_return",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("device_id", String(23), nullable=False, index=True),
    Column("device_type", SmallInteger),
    Column("asset_owner", String(100)),
    Column("kind", String(10), nullable=False),  # fault or no_fault
    Column("return_type", String(80), nullable=False),
    Column("dcc_reference", String(100), nullable=False),
    Column("fault_reason", String(60)),
    Column("connection_method", String(20)),
    Column("other_device_id", String(23)),
    Column("user_ref_id", String(25)),
    Column("incident_reference", String(15)),
    Column("additional_information", String(200)),
    Column("request_id", String(100)),
    Column("returned_by", String(64), nullable=False),
    Column("returned_at", DateTime(timezone=True), nullable=False, index=True),
)

# The facility's hub policy (hub.policy_set): whether a hub may take a meter's reset path.
hub_policy = Table(
    "hub_policy",
    metadata,
    Column("facility_id", String(64), primary_key=True),
    Column("allow_reset", Boolean, nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)


# --- issue 20, incidents, vulnerabilities and notifications: tables go here (helper D) ---

# The register: one row per incident or vulnerability (SEC G3), from ``incident.raised`` and
# changed by ``incident.severity_changed`` / ``.contained`` / ``.closed``. ``about_kind`` and
# ``about_id`` name what an automatic source raised it about (a tool, an operator, a seal...).
incident = Table(
    "incident",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("source", String(40), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("category", String(60), nullable=False),
    Column("title", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("about_kind", String(40)),
    Column("about_id", String(100)),
    Column("detail", Text),
    Column("component", String(200)),
    Column("reference", String(100)),
    Column("remediation_due", Date),
    Column("rules_version", String(64)),
    Column("raised_by", String(64), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("contained_by", String(64)),
    Column("contained_at", DateTime(timezone=True)),
    Column("containment", Text),
    Column("closed_by", String(64)),
    Column("closed_at", DateTime(timezone=True)),
    Column("closure", Text),
    Column("closure_justification", Text),
    Index("ix_incident_about", "source", "about_kind", "about_id"),
    Index("ix_incident_raised", "raised_at"),
)

# The notifications an incident needs (deadline) or got anyway (no deadline), and each one made
# (``incident.notified``); ``overdue_alert_id``: the alert raised once it was overdue.
incident_notification = Table(
    "incident_notification",
    metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("recipient", String(60), primary_key=True),
    Column("deadline", DateTime(timezone=True)),
    Column("notified_at", DateTime(timezone=True)),
    Column("notified_by", String(64)),
    Column("reference", String(200)),
    Column("recorded_at", DateTime(timezone=True)),
    Column("overdue_alert_id", String(36)),
)

# The facility's own notification rules (``incident.rules_changed``); none: the packaged default.
incident_rules = Table(
    "incident_rules",
    metadata,
    Column("facility_id", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)


# Issue 21: witnesses' cosignatures on the facility's checkpoints (C2SP tlog-cosignature), each
# verified before it is stored, once per witness key and checkpoint size. Not ledger entries and
# not a projection: like ``ledger_checkpoint`` they are signatures about the ledger, and
# recording each one in it would grow the log in answer to its own witnessing, for ever (every
# entry calls for a new checkpoint, which calls for new cosignatures). A reader checks them
# against the witnesses' keys, never against this table.
ledger_cosignature = Table(
    "ledger_cosignature",
    metadata,
    Column("log_id", String(64), ForeignKey("ledger_head.log_id"), primary_key=True),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("key_name", String(300), primary_key=True),
    Column("key_hash", BigInteger, primary_key=True, autoincrement=False),
    Column("cosigner_key", String(400), nullable=False),  # the witness's vkey
    Column("timestamp", BigInteger, nullable=False),
    Column("line", Text, nullable=False),
    Column("gathered_at", DateTime(timezone=True), nullable=False),
)

# Issue 21: the facility's last attempt to have each witness cosign a checkpoint (operational
# state for `triage ledger witnesses show` and the quorum alert's detail; not a projection).
witness_attempt = Table(
    "witness_attempt",
    metadata,
    Column("log_id", String(64), ForeignKey("ledger_head.log_id"), primary_key=True),
    Column("key_name", String(300), primary_key=True),
    Column("key_hash", BigInteger, primary_key=True, autoincrement=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("detail", Text, nullable=False),
    Column("witness_size", BigInteger),  # the size the witness said it holds (a 409)
)

# The tables `triage ledger replay --check` rebuilds from the entries, in dependency order.
PROJECTIONS = (
    facility_settings,
    operator,
    operator_bench,
    tool,
    access_lock,
    anomaly_threshold,
    activity,
    activity_total,
    alert,
    tamper_policy,
    consignment,
    consignment_device,
    device,
    triage_job,
    inspection,
    decision,
    work_order,
    reset_result,
    security_log,
    seal_fitting,
    device_exception,
    seal_batch,
    seal,
    seal_event,
    seal_tally,
    seal_discrepancy,
    seal_stocktake,
    seal_reconciliation,
    control_catalogue,
    provider_control,
    control_applicability,
    evidence,
    sec_party,
    commissioning,
    assessment,
    finding,
    remedial_action,
    approval_step,
    # issue 19 (A): projections go here
    asset_owner,
    # issue 19 (B): projections go here
    dispatch,
    dispatch_device,
    dispatch_refusal,
    dispatch_discrepancy,
    # issue 19 (C): projections go here
    destruction_method,
    disposal,
    # issue 19 (D): projections go here
    location,
    device_location,
    device_stocktake,
    seal_draw,
    # issue 19 (E): projections go here
    retention_rule,
    legal_hold,
    evidence_file,
    evidence_purge,
    # issue 20 (A): projections go here
    smi_reading,
    smi_policy,
    # issue 20 (B): projections go here
    duis_request,
    duis_batch,
    duis_dcc_user,
    duis_setting,
    # issue 20 (C): projections go here
    hub_return,
    hub_policy,
    # issue 20 (D): projections go here
    incident,
    incident_notification,
    incident_rules,
)
