"""The JSON of a decoded response that `triage security-log read --json` prints: the contract
other tools rely on."""

from __future__ import annotations

from triage.gbcs.codes import code_hex, code_name
from triage.gbcs.model import LogResponse
from triage.gbcs.times import rfc3339

MAC_NOT_CHECKED = "not checked (needs the recipient's private key-agreement key)"


def response_to_json(response: LogResponse) -> dict[str, object]:
    """``response`` as JSON values: codes as 0x + four upper-case hex digits, times RFC 3339
    UTC with a Z, a name for the codes we know (else null)."""
    use_case = response.use_case
    return {
        "use_case": use_case.name,
        "message_code": code_hex(use_case.message_code),
        "title": use_case.title,
        "log": use_case.log.value,
        "device_type": use_case.device_class,
        "device_id": response.device_id,
        "recipient": response.recipient,
        "requester": response.requester,
        "requester_counter": response.requester_counter,
        "originator_counter": response.originator_counter,
        "outcome": response.outcome.value,
        "status": response.status,
        "mac": MAC_NOT_CHECKED,
        "entries": [
            {
                "code": entry.hex,
                "name": code_name(entry.code),
                "at": rfc3339(entry.at),
                "extra": list(entry.extra),
            }
            for entry in response.entries
        ],
    }
