"""`triage security-log read FILE`: decode a device's GBCS 6.13 "Read Event or Security Log"
response, offline (no database, no token). `--json` prints the contract other tools rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from triage import gbcs
from triage.domain.bounded import InputLimitError
from triage.entrypoints.cli.inputs import read_limited
from triage.entrypoints.cli.options import JsonFlag
from triage.entrypoints.cli.output import emit, fail

# A 6.13 response holds a few hundred entries at most; hex text doubles it and adds spacing.
MAX_MESSAGE_BYTES = 1024 * 1024

app = typer.Typer(help="GBCS security and event logs read from devices.", no_args_is_help=True)


@app.command("read")
def read(
    file: Annotated[
        Path, typer.Argument(help="The GBCS response: hex text or raw bytes ('-' for stdin).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Decode a 6.13 response: the use case, the device and its log entries (the MAC is not
    checked: that needs the recipient's private key)."""
    try:
        response = gbcs.decode(read_limited(file, MAX_MESSAGE_BYTES, str(file)))
    except (gbcs.GbcsError, InputLimitError) as exc:
        raise fail(escape(str(exc)), code=1) from exc
    except OSError as exc:
        raise fail(escape(f"{file}: {exc.strerror or exc}"), code=1) from exc
    data = gbcs.response_to_json(response)
    emit(as_json, data, _text(data))


def _text(data: dict[str, object]) -> str:
    outcome = str(data["outcome"]) + (f" ({data['status']})" if data["status"] else "")
    lines = [
        f"{data['use_case']} {data['title']} (message code {data['message_code']}): {outcome}",
        f"device:     {data['device_type']} {data['device_id']}",
        f"recipient:  {data['recipient']} (counter {data['originator_counter']})",
    ]
    if data["requester"]:
        lines.append(f"requester:  {data['requester']} (counter {data['requester_counter']})")
    lines.append(f"MAC:        {data['mac']}")
    entries = data["entries"]
    assert isinstance(entries, list)
    lines.append(f"{len(entries)} entries" + (":" if entries else ""))
    lines += [f"  {e['at']}  {e['code']}  {e['name'] or ''}".rstrip() for e in entries]
    return "\n".join(lines)
