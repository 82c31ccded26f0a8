"""The step profile's attribution (bench/profile_steps.py, issue 22): each profiled function's
own time goes to the category its file (and, for a few of triage's, its name) says; a C
built-in's goes to its callers' categories in proportion to the time it spent for each, except
the driver's, hashing's and cryptography's own. A synthetic pstats profile, so the expected
shares are exact."""

from __future__ import annotations

import pytest
from bench.profile_steps import (
    CANONICAL,
    CATEGORIES,
    CHECKS,
    DRIVER,
    LOGGING,
    OTHER,
    PROJECTOR,
    SIGNING,
    SQLALCHEMY,
    TRIAGE,
    Func,
    StatsEntry,
    attribute,
    classify,
    dbapi_executes,
    statement_label,
)

ROOT = "/tmp/base/src/triage"  # the triage measured need not be the one installed
SITE = "/venv/lib/python3.11/site-packages"
LIB = "/usr/lib/python3.11"

SA_EXECUTE: Func = (f"{SITE}/sqlalchemy/engine/base.py", 1410, "execute")
PROJECT: Func = (f"{ROOT}/adapters/projector_seals.py", 40, "apply")
SIGN: Func = (f"{ROOT}/ledger/note.py", 120, "sign")
CANON: Func = (f"{ROOT}/ledger/canonical.py", 30, "dumps")
REQUIRE: Func = (f"{ROOT}/domain/caller.py", 90, "require")
CALLER_INIT: Func = (f"{ROOT}/domain/caller.py", 20, "__init__")
ORDER_SIGN: Func = (f"{ROOT}/domain/work_order.py", 89, "sign")
ORDER_CHECK: Func = (f"{ROOT}/domain/work_order.py", 118, "check")
LOG_INFO: Func = (f"{LIB}/logging/__init__.py", 1467, "info")
UUID4: Func = (f"{LIB}/uuid.py", 721, "uuid4")
ISINSTANCE: Func = ("~", 0, "<built-in method builtins.isinstance>")
CURSOR_EXECUTE: Func = ("~", 0, "<method 'execute' of 'sqlite3.Cursor' objects>")
SHA256: Func = ("~", 0, "<built-in method _hashlib.openssl_sha256>")
JOIN: Func = ("~", 0, "<method 'join' of 'str' objects>")
LEN: Func = ("~", 0, "<built-in method builtins.len>")
ORPHAN: Func = ("~", 0, "<built-in method builtins.print>")
DISABLE: Func = ("~", 0, "<method 'disable' of '_lsprof.Profiler' objects>")


def entry(own: float, calls: int = 1, **callers: tuple[Func, float]) -> StatsEntry:
    """A pstats entry: ``own`` seconds of own time; ``callers`` name each caller with the
    time this function spent for it."""
    edges = {func: (1, 1, spent, spent) for func, spent in callers.values()}
    return (calls, calls, own, own, edges)


PROFILE: dict[Func, StatsEntry] = {
    SA_EXECUTE: entry(0.400),
    PROJECT: entry(0.200),
    SIGN: entry(0.100),
    CANON: entry(0.050),
    REQUIRE: entry(0.020),
    CALLER_INIT: entry(0.010),
    ORDER_SIGN: entry(0.030),
    ORDER_CHECK: entry(0.015),
    LOG_INFO: entry(0.005),
    UUID4: entry(0.025),
    # Built-ins: isinstance for SQLAlchemy (3/4) and the projector (1/4); the driver's own.
    ISINSTANCE: entry(0.100, a=(SA_EXECUTE, 0.075), b=(PROJECT, 0.025)),
    CURSOR_EXECUTE: entry(0.150, calls=7, a=(SA_EXECUTE, 0.150)),
    SHA256: entry(0.040, a=(SIGN, 0.040)),
    # len called only by str.join, called only by the signing code: signing, up the chain.
    JOIN: entry(0.010, a=(SIGN, 0.010)),
    LEN: entry(0.004, a=(JOIN, 0.004)),
    ORPHAN: entry(0.006),  # no caller recorded: other
    DISABLE: entry(0.500),  # the profiler stopping: not part of the step
}


def test_each_function_counts_in_its_category() -> None:
    assert classify(SA_EXECUTE, ROOT) == SQLALCHEMY
    assert classify(PROJECT, ROOT) == PROJECTOR
    assert classify(SIGN, ROOT) == SIGNING
    assert classify(CANON, ROOT) == CANONICAL
    assert classify(REQUIRE, ROOT) == CHECKS
    assert classify(CALLER_INIT, ROOT) == TRIAGE
    assert classify(ORDER_SIGN, ROOT) == SIGNING
    assert classify(ORDER_CHECK, ROOT) == TRIAGE
    assert classify(LOG_INFO, ROOT) == LOGGING
    assert classify(UUID4, ROOT) == OTHER
    assert classify(CURSOR_EXECUTE, ROOT) == DRIVER
    assert classify(SHA256, ROOT) == CANONICAL
    assert classify(ISINSTANCE, ROOT) is None  # its caller's
    assert classify((f"{SITE}/psycopg/cursor.py", 90, "execute"), ROOT) == DRIVER
    assert classify((f"{SITE}/cryptography/x.py", 1, "sign"), ROOT) == SIGNING
    assert classify((f"{LIB}/json/encoder.py", 1, "encode"), ROOT) == CANONICAL
    assert classify((f"{ROOT}/services/anomaly.py", 153, "check_order"), ROOT) == CHECKS
    assert classify((f"{ROOT}/services/inventory.py", 246, "gate_reason"), ROOT) == CHECKS
    # Another copy of triage (the installed one, when a worktree is measured) is not triage.
    assert classify(("/work/main/src/triage/adapters/projector.py", 1, "f"), ROOT) == OTHER


def test_built_ins_count_in_their_callers_categories() -> None:
    seconds = attribute(PROFILE, lambda func: classify(func, ROOT))
    assert set(seconds) == set(CATEGORIES)
    expected = {
        SQLALCHEMY: 0.400 + 0.075,
        DRIVER: 0.150,
        PROJECTOR: 0.200 + 0.025,
        CANONICAL: 0.050 + 0.040,
        SIGNING: 0.100 + 0.030 + 0.010 + 0.004,
        CHECKS: 0.020,
        LOGGING: 0.005,
        TRIAGE: 0.010 + 0.015,
        OTHER: 0.025 + 0.006,
    }
    for category, value in expected.items():
        assert seconds[category] == pytest.approx(value), category
    # The profiler's own disable call is left out: the shares add up to the step's own time.
    assert sum(seconds.values()) == pytest.approx(sum(expected.values()))


def test_a_cycle_of_built_ins_ends_as_other() -> None:
    a: Func = ("~", 0, "<built-in method a>")
    b: Func = ("~", 0, "<built-in method b>")
    cyclic = {a: entry(0.002, x=(b, 0.002)), b: entry(0.001, x=(a, 0.001))}
    seconds = attribute(cyclic, lambda func: classify(func, ROOT))
    assert seconds[OTHER] == pytest.approx(0.003)


def test_driver_calls_are_counted_whoever_makes_them() -> None:
    assert dbapi_executes(PROFILE) == 7
    many: Func = ("~", 0, "<method 'executemany' of 'sqlite3.Cursor' objects>")
    psycopg: Func = (f"{SITE}/psycopg/cursor.py", 90, "execute")
    assert dbapi_executes({**PROFILE, many: entry(0.1, calls=3), psycopg: entry(0.1, 2)}) == 12


@pytest.mark.parametrize(
    ("statement", "label"),
    [
        (
            "SELECT facility_settings.value \nFROM facility_settings \n"
            "WHERE facility_settings.facility_id = ?",
            "SELECT facility_settings by facility_id",
        ),
        (
            "SELECT activity.at FROM activity WHERE activity.kind = %(kind)s AND "
            "activity.tool_id = %(tool)s AND activity.at >= %(at)s ORDER BY activity.at",
            "SELECT activity by kind, tool_id, at",
        ),
        ("INSERT INTO device (id, kind) VALUES (?, ?)", "INSERT device"),
        (
            "UPDATE ledger_head SET size=? WHERE ledger_head.log_id = ?",
            "UPDATE ledger_head by log_id",
        ),
        ("BEGIN IMMEDIATE", "BEGIN IMMEDIATE"),
    ],
)
def test_statements_are_named_by_table_and_columns(statement: str, label: str) -> None:
    assert statement_label(statement) == label
