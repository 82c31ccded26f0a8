"""Whatever is changed behind the ledger's back, `triage ledger verify` finds it and says where."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, delete, insert, select, text, update
from typer.testing import CliRunner

from tests.integration.ledger_rows import all_entries, entry_data, set_entry, truncate
from tests.people import enrol
from triage import bootstrap
from triage.adapters.tables import (
    ledger_bundle,
    ledger_checkpoint,
    ledger_entry,
    ledger_head,
    ledger_tile,
)
from triage.domain.caller import Caller
from triage.domain.roles import Role
from triage.entrypoints.cli import app as cli
from triage.ledger import checkpoint, note
from triage.ledger.log import Log
from triage.ledger.memory import MemoryLogStorage
from triage.services import ledger as ledger_service

SIZE = 601  # two full level-0 tiles and a partial one


_TOKENS: dict[int, str] = {}


@pytest.fixture
def populated(app: bootstrap.App) -> bootstrap.App:
    # An auditor to run `triage ledger verify` (entries 1 to 7: added, enrolled, signed in,
    # their token), then plain entries.
    _TOKENS[id(app)] = enrol(app, Caller.system("test"), "audrey", [Role.AUDITOR]).token
    with app.uow(write=True) as uow:
        first = uow.ledger.log.head().size
        uow.ledger.log.append([f"entry {i}".encode() for i in range(first, 300)])
        uow.commit()
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    with app.uow(write=True) as uow:
        uow.ledger.log.append([f"entry {i}".encode() for i in range(300, SIZE)])
        uow.commit()
    ledger_service.issue_checkpoint(
        app.uow, ledger_service.LEDGER_ACTOR, app.origin, app.signer_key()
    )
    return app


def _verify(app: bootstrap.App) -> tuple[int, dict[str, object], str]:
    env = {"TRIAGE_DATA_DIR": str(app.settings.data_dir)}
    env["TRIAGE_DATABASE_URL"] = app.settings.database_url
    env["TRIAGE_TOKEN"] = _TOKENS[id(app)]
    json_run = CliRunner().invoke(cli, ["ledger", "verify", "--json"], env=env)
    text_run = CliRunner().invoke(cli, ["ledger", "verify"], env=env)
    assert json_run.exit_code == text_run.exit_code
    return json_run.exit_code, json.loads(json_run.stdout), text_run.stdout


def change_one_byte(conn: Connection, app: bootstrap.App) -> None:
    data = bytearray(entry_data(conn, 123))
    data[3] ^= 0x01
    set_entry(conn, 123, bytes(data))


def change_one_byte_of_a_recent_entry(conn: Connection, app: bootstrap.App) -> None:
    data = bytearray(entry_data(conn, 555))  # in the last, partial tile: a row of its own
    data[3] ^= 0x01
    set_entry(conn, 555, bytes(data))


def delete_a_row(conn: Connection, app: bootstrap.App) -> None:
    conn.execute(delete(ledger_entry).where(ledger_entry.c.idx == 550))


def delete_a_bundle(conn: Connection, app: bootstrap.App) -> None:
    conn.execute(delete(ledger_bundle).where(ledger_bundle.c.idx == 1))  # entries 256..511


def break_a_bundle(conn: Connection, app: bootstrap.App) -> None:
    where = ledger_bundle.c.idx == 0
    data = bytes(conn.execute(select(ledger_bundle.c.data).where(where)).scalar_one())
    conn.execute(update(ledger_bundle).where(where).values(data=data[:-1]))  # cut one byte


def add_a_row_among_bundled_entries(conn: Connection, app: bootstrap.App) -> None:
    conn.execute(insert(ledger_entry).values(idx=100, log_id="demo", data=b'{"forged":true}'))


def swap_two_rows(conn: Connection, app: bootstrap.App) -> None:
    a, b = entry_data(conn, 10), entry_data(conn, 11)
    set_entry(conn, 10, b)
    set_entry(conn, 11, a)


def alter_a_tile(conn: Connection, app: bootstrap.App) -> None:
    where = (ledger_tile.c.level == 0) & (ledger_tile.c.idx == 1)
    hashes = bytearray(conn.execute(select(ledger_tile.c.hashes).where(where)).scalar_one())
    hashes[5 * 32] ^= 0x80  # hash 5 of tile 0/001: entry 261
    conn.execute(update(ledger_tile).where(where).values(hashes=bytes(hashes)))


def truncate_the_log(conn: Connection, app: bootstrap.App) -> None:
    truncate(conn, 500)


def truncate_and_rewrite_the_tree(conn: Connection, app: bootstrap.App) -> None:
    """A careful forger: removes the last entries and rebuilds head and tiles to match."""
    kept = all_entries(conn, 500)
    rebuilt = MemoryLogStorage()
    Log(rebuilt).append(kept)
    truncate(conn, 500)
    conn.execute(delete(ledger_tile))
    conn.execute(
        ledger_tile.insert(),
        [
            {"log_id": "demo", "level": k.level, "idx": k.index, "hashes": v}
            for k, v in rebuilt.tiles.items()
        ],
    )
    conn.execute(update(ledger_head).values(size=500, root=rebuilt.head.root))


def forge_a_checkpoint_root(conn: Connection, app: bootstrap.App) -> None:
    where = ledger_checkpoint.c.size == 300
    signed = conn.execute(select(ledger_checkpoint.c.note).where(where)).scalar_one()
    body, signature = signed.split("\n\n")
    lines = body.split("\n")
    lines[2] = "A" * 43 + "="
    conn.execute(
        update(ledger_checkpoint).where(where).values(note="\n".join(lines) + "\n\n" + signature)
    )


def sign_a_checkpoint_with_another_key(conn: Connection, app: bootstrap.App) -> None:
    signer, _ = note.generate_key(app.origin)
    cp = checkpoint.Checkpoint(app.origin, 300, b"\x11" * 32)
    conn.execute(
        update(ledger_checkpoint)
        .where(ledger_checkpoint.c.size == 300)
        .values(note=checkpoint.sign_checkpoint(cp, signer))
    )


CASES: list[tuple[Callable[[Connection, bootstrap.App], None], int | None, str]] = [
    (change_one_byte, 123, "entry 123"),
    (change_one_byte_of_a_recent_entry, 555, "entry 555"),
    (delete_a_row, 550, "entry 550 is missing"),
    (delete_a_bundle, 256, "entry 256 is missing"),
    (break_a_bundle, 0, "entry 0 is missing"),
    (add_a_row_among_bundled_entries, 100, "entry 100"),
    (swap_two_rows, 10, "entry 10"),
    (alter_a_tile, 261, "tile 0/001"),
    (truncate_the_log, 500, "head says size 601"),
    (truncate_and_rewrite_the_tree, 500, "checkpoint at size 601 is beyond"),
    (forge_a_checkpoint_root, None, "checkpoint stored at size 300 does not verify"),
    (sign_a_checkpoint_with_another_key, None, "no signature by a known key"),
]


@pytest.mark.parametrize(("tamper", "bad_index", "says"), CASES, ids=[c[0].__name__ for c in CASES])
def test_verify_names_the_tampering(
    populated: bootstrap.App,
    tamper: Callable[[Connection, bootstrap.App], None],
    bad_index: int | None,
    says: str,
) -> None:
    code, before, _ = _verify(populated)
    assert code == 0 and before["ok"] and before["entries_checked"] == SIZE
    with populated.database.engine.begin() as conn:
        if populated.database.dialect == "sqlite":
            conn.execute(text("PRAGMA foreign_keys = OFF"))
        tamper(conn, populated)
    code, report, human = _verify(populated)
    assert code == 1
    assert report["ok"] is False
    assert report["first_bad_index"] == bad_index
    problems = report["problems"]
    assert isinstance(problems, list)
    assert says in problems[0]["message"] if bad_index is None else says in human
    assert "FAILED" in human
