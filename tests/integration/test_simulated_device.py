"""The simulated device: resets only under a valid work order, fails when told, shares its file,
answers a security-log read with the GBCS message of its type and keeps that log through a
reset; the named scenarios tell their stories through that log."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from triage import gbcs
from triage.adapters.devices import scenarios
from triage.adapters.devices.base import (
    ConnectorOptionError,
    DeviceConnector,
    DeviceNotPresent,
    LogReadFailed,
    ResetFailed,
    UnknownConnector,
    load_connector,
)
from triage.adapters.devices.simulated import (
    SECURITY_LOG_ITEM,
    SUPPLIER,
    DeviceSpec,
    SimulatedConnector,
    SimulatedFleet,
)
from triage.adapters.packaged_data import PackagedFiles
from triage.domain.device import DeviceType
from triage.domain.reset_profile import EMPTY_DIGEST, check_reset
from triage.domain.work_order import READ_SECURITY_LOG, WorkOrder, WorkOrderRefused
from triage.ledger.note import generate_key

ESME = "BC-33-AC-FF-FE-FA-55-3D"
GSME = "BC-33-AC-FF-FE-FA-55-3E"
ONE_OF_EACH = {t: f"00-11-22-FF-FE-00-00-{t.value:02X}" for t in DeviceType}
ALERT_TIME = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TOOL = "tool-1"  # the tool the bench's devices are connected to
PROFILES = PackagedFiles().reset_profiles()


@pytest.fixture(scope="module")
def facility_keys() -> tuple[str, str]:
    return generate_key("device-triage.local/demo")


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.json"
    SimulatedFleet.create(
        path,
        [
            DeviceSpec(
                ESME,
                "ESME",
                security_log=[(0x8F1C, ALERT_TIME)],
                tamper={"terminal_cover": "opened"},
            ),
            DeviceSpec(GSME, DeviceType.GSME),
            *(DeviceSpec(device_id, t) for t, device_id in ONE_OF_EACH.items()),
        ],
    )
    return path


@pytest.fixture
def connector(state_file: Path, facility_keys: tuple[str, str]) -> SimulatedConnector:
    return SimulatedConnector(state_file, facility_keys[1], TOOL)


def _order(device_id: str, **changes: object) -> WorkOrder:
    now = datetime.now(UTC)
    fields: dict[str, object] = {
        "id": f"wo-{secrets.token_hex(4)}",
        "facility": "device-triage.local",
        "tool_id": TOOL,
        "device_id": device_id,
        "job_id": "job-1",
        "operator_id": "op-1",
        "action": "factory_reset",
        "profile": "gb-factory-reset/esme",
        "nonce": secrets.token_hex(16),
        "issued_at": now,
        "expires_at": now + timedelta(minutes=15),
    }
    fields.update(changes)
    return WorkOrder(**fields)  # type: ignore[arg-type]


# --- a valid reset --------------------------------------------------------------------------------


@pytest.mark.parametrize("device_type", list(DeviceType))
def test_a_valid_work_order_resets_the_device_and_verifies(
    connector: SimulatedConnector, facility_keys: tuple[str, str], device_type: DeviceType
) -> None:
    device = connector.attach(ONE_OF_EACH[device_type])
    profile = PROFILES.for_type(device_type)
    before = device.read_state()
    assert set(before) == set(profile.items)
    assert EMPTY_DIGEST not in before.values(), "a fresh device holds something in every item"

    device.factory_reset(_order(device.device_id).sign(facility_keys[0]))

    after = device.read_state()
    assert check_reset(profile, before, after) == []
    for item in profile.keep:
        assert after[item] == before[item]
    assert all(after[item] == EMPTY_DIGEST for item in profile.clear)


def test_identity_certificates_and_calibration_survive_a_meter_reset(
    connector: SimulatedConnector, facility_keys: tuple[str, str]
) -> None:
    device = connector.attach(ESME)
    before = device.read_state()
    device.factory_reset(_order(ESME).sign(facility_keys[0]))
    after = device.read_state()
    for item in ("device_identity", "device_certificates", "metrology_calibration"):
        assert after[item] == before[item] != EMPTY_DIGEST
    for item in ("supplier_trust_anchors", "han_link_keys", "mpxn", "tariffs", "balances"):
        assert after[item] == EMPTY_DIGEST
    state = connector.fleet.device_state(ESME)
    assert state["resets"] == 1
    assert len(state["used_nonces"]) == 1


def test_the_device_reports_its_canonical_id_and_type(connector: SimulatedConnector) -> None:
    device = connector.attach("bc33acfffefa553d")
    assert device.device_id == ESME
    assert device.device_type is DeviceType.ESME


def _log(raw: bytes) -> list[tuple[int, datetime]]:
    return [(entry.code, entry.at) for entry in gbcs.decode(raw).entries]


def test_security_log_and_tamper_state_come_from_the_spec(connector: SimulatedConnector) -> None:
    assert _log(connector.attach(ESME).read_security_log()) == [(0x8F1C, ALERT_TIME)]
    assert _log(connector.attach(GSME).read_security_log()) == []
    assert connector.fleet.device_state(ESME)["tamper"] == {"terminal_cover": "opened"}


# --- the security log -----------------------------------------------------------------------------

SECURITY_LOG_USE_CASE = {
    DeviceType.ESME: "ECS35b",
    DeviceType.CHF: "ECS35d",
    DeviceType.GSME: "CS10b",
    DeviceType.GPF: "CS10b",
    DeviceType.HCALCS: "CS10b",
    DeviceType.PPMID: "CS10b",
}


def test_a_type_2_device_has_no_security_log_to_read(
    tmp_path: Path, facility_keys: tuple[str, str]
) -> None:
    path = tmp_path / "fleet.json"
    SimulatedFleet.create(path, [DeviceSpec(ESME, DeviceType.TYPE2)])
    device = SimulatedConnector(path, facility_keys[1], TOOL).attach(ESME)
    with pytest.raises(LogReadFailed, match="TYPE2, which keeps no GBCS security log"):
        device.read_security_log()
    assert "security_log" not in device.read_state()
    with pytest.raises(ValueError, match="keeps no security log"):
        SimulatedFleet.create(
            path, [DeviceSpec(ESME, DeviceType.TYPE2, security_log=[(0x8F3F, ALERT_TIME)])]
        )


@pytest.mark.parametrize("device_type", list(SECURITY_LOG_USE_CASE))
def test_a_device_answers_a_log_read_with_the_gbcs_security_log_response_of_its_type(
    tmp_path: Path, facility_keys: tuple[str, str], device_type: DeviceType
) -> None:
    log = [(0x8F1F, ALERT_TIME - timedelta(hours=2)), (0x8F73, ALERT_TIME)]
    path = tmp_path / "fleet.json"
    SimulatedFleet.create(path, [DeviceSpec(ESME, device_type, security_log=log)])
    device = SimulatedConnector(path, facility_keys[1], TOOL).attach(ESME)

    first, second = device.read_security_log(), device.read_security_log()

    for counter, raw in ((1, first), (2, second)):
        response = gbcs.decode(raw)
        assert response.use_case.name == SECURITY_LOG_USE_CASE[device_type]
        assert response.is_security_log
        assert response.outcome is gbcs.ResponseOutcome.SUCCESS
        assert (response.originator, response.originator_counter) == (ESME, counter)
        assert response.recipient == SUPPLIER
        assert [(e.code, e.at) for e in response.entries] == log
        assert gbcs.encode(response) == raw, "the device's bytes are what the encoder makes"
    entries: Any = gbcs.response_to_json(gbcs.decode(first))["entries"]
    assert [{k: e[k] for k in ("code", "name", "at")} for e in entries] == [
        {"code": "0x8F1F", "name": "low battery capacity", "at": "2026-03-01T07:30:00Z"},
        {"code": "0x8F73", "name": "battery cover removed", "at": "2026-03-01T09:30:00Z"},
    ]


def test_the_logs_digest_is_the_same_on_every_read_and_survives_the_reset(
    connector: SimulatedConnector, facility_keys: tuple[str, str]
) -> None:
    device = connector.attach(ESME)
    before = device.read_state()
    raw = device.read_security_log()
    assert device.read_state()[SECURITY_LOG_ITEM] == before[SECURITY_LOG_ITEM] != EMPTY_DIGEST
    assert SECURITY_LOG_ITEM in PROFILES.for_type(DeviceType.ESME).keep

    device.factory_reset(_order(ESME).sign(facility_keys[0]))

    after = device.read_state()
    assert check_reset(PROFILES.for_type(DeviceType.ESME), before, after) == []
    assert after[SECURITY_LOG_ITEM] == before[SECURITY_LOG_ITEM]
    assert _log(device.read_security_log()) == _log(raw) == [(0x8F1C, ALERT_TIME)]


def test_a_device_whose_log_changed_reports_another_digest(
    connector: SimulatedConnector,
) -> None:
    device = connector.attach(ESME)
    before = device.read_state()[SECURITY_LOG_ITEM]
    with connector.fleet.update() as fleet_state:
        fleet_state["devices"][ESME]["security_log"] = []  # as if someone had wiped it
    assert device.read_state()[SECURITY_LOG_ITEM] not in (before, EMPTY_DIGEST)


def test_a_device_refuses_a_factory_reset_under_a_read_order_and_changes_nothing(
    connector: SimulatedConnector, facility_keys: tuple[str, str]
) -> None:
    device = connector.attach(ESME)
    state_before = connector.fleet.device_state(ESME)
    read_order = _order(ESME, action=READ_SECURITY_LOG, profile="gbcs-6.13")
    with pytest.raises(WorkOrderRefused, match="it is an order to read_security_log, not to reset"):
        device.factory_reset(read_order.sign(facility_keys[0]))
    assert connector.fleet.device_state(ESME) == state_before


def test_a_device_that_does_not_answer_a_log_read_says_so(
    tmp_path: Path, facility_keys: tuple[str, str]
) -> None:
    path = tmp_path / "fleet.json"
    SimulatedFleet.create(path, [scenarios.unreadable_log(ESME)])
    device = SimulatedConnector(path, facility_keys[1], TOOL).attach(ESME)
    with pytest.raises(LogReadFailed, match=f"{ESME} did not answer"):
        device.read_security_log()
    assert SECURITY_LOG_ITEM in device.read_state()


@pytest.mark.parametrize(
    ("log", "problem"),
    [
        pytest.param([(0x8F3F, datetime(2026, 3, 1))], "has no time zone", id="naive time"),
        pytest.param(
            [(0x8F3F, datetime(1999, 12, 31, tzinfo=UTC))], "cannot be sent as GBCS", id="1999"
        ),
        pytest.param([(0x1_0000, ALERT_TIME)], "cannot be sent as GBCS", id="17-bit code"),
    ],
)
def test_a_log_no_device_could_send_is_refused_when_the_fleet_is_made(
    tmp_path: Path, log: list[tuple[int, datetime]], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        SimulatedFleet.create(tmp_path / "fleet.json", [DeviceSpec(ESME, "ESME", security_log=log)])


# --- scenarios ------------------------------------------------------------------------------------

AT = scenarios.DEFAULT_AT


@pytest.mark.parametrize(
    ("spec", "log", "tamper"),
    [
        pytest.param(
            scenarios.failing_battery(ESME),
            [(0x8F1F, AT - timedelta(hours=3)), (0x8F3F, AT)],
            {},
            id="failing battery",
        ),
        pytest.param(
            scenarios.failing_battery(ESME, "GSME", gap=timedelta(days=5), tamper_code=0x8F73),
            [(0x8F1F, AT - timedelta(days=5)), (0x8F73, AT)],
            {},
            id="battery days before a battery cover alert",
        ),
        pytest.param(
            scenarios.supplier_job(ESME, reference="SJ-1"),
            [(0x8F76, AT)],
            {
                "outer_covers_opened": ["terminal"],
                "legitimate_reasons": [
                    {
                        "kind": "supplier_job",
                        "reference": "SJ-1",
                        "covers": ["terminal"],
                        "alert_codes": [],
                        "on": "2026-11-20",
                    }
                ],
            },
            id="supplier job",
        ),
        pytest.param(scenarios.strong_magnet(ESME), [(0x8F75, AT)], {}, id="strong magnet"),
        pytest.param(scenarios.wiped_event_log(ESME), [(0x8F52, AT)], {}, id="wiped event log"),
        pytest.param(
            scenarios.breached_cpa_boundary(ESME, "CHF"),
            [(0x8F3F, AT)],
            {"cpa_boundary_intact": False},
            id="breached CPA boundary",
        ),
        pytest.param(scenarios.clean(ESME), [], {}, id="clean"),
    ],
)
def test_each_scenario_tells_its_story_through_the_devices_own_log(
    tmp_path: Path,
    facility_keys: tuple[str, str],
    spec: DeviceSpec,
    log: list[tuple[int, datetime]],
    tamper: dict[str, object],
) -> None:
    path = tmp_path / "fleet.json"
    SimulatedFleet.create(path, [spec])
    connector = SimulatedConnector(path, facility_keys[1], TOOL)
    assert _log(connector.attach(ESME).read_security_log()) == log
    assert connector.fleet.device_state(ESME)["tamper"] == tamper


def test_every_scenario_is_listed_by_name() -> None:
    made = [build("BC-33-AC-FF-FE-FA-55-01") for build in scenarios.SCENARIOS.values()]
    assert all(isinstance(spec, DeviceSpec) for spec in made)
    assert {"failing-battery", "supplier-job", "strong-magnet", "wiped-event-log"} <= set(
        scenarios.SCENARIOS
    )


# --- refusals -------------------------------------------------------------------------------------


def _unsigned(facility_keys: tuple[str, str]) -> str:
    return rfc8785.dumps(_order(ESME).to_json()).decode() + "\n"


def _other_key(facility_keys: tuple[str, str]) -> str:
    return _order(ESME).sign(generate_key("device-triage.local/demo")[0])


def _wrong_device(facility_keys: tuple[str, str]) -> str:
    return _order(GSME).sign(facility_keys[0])


def _other_tool(facility_keys: tuple[str, str]) -> str:
    return _order(ESME, tool_id="tool-2").sign(facility_keys[0])


def _expired(facility_keys: tuple[str, str]) -> str:
    issued = datetime.now(UTC) - timedelta(hours=1)
    return _order(ESME, issued_at=issued, expires_at=issued + timedelta(minutes=15)).sign(
        facility_keys[0]
    )


@pytest.mark.parametrize(
    ("make_order", "reason"),
    [
        pytest.param(_unsigned, "not signed by the facility", id="unsigned"),
        pytest.param(_other_key, "not signed by the facility", id="signed by another key"),
        pytest.param(_wrong_device, f"it is for device {GSME}", id="wrong device"),
        pytest.param(
            _other_tool,
            f"it is for tool tool-2, and the device is connected to tool {TOOL}",
            id="for another tool",
        ),
        pytest.param(_expired, "expired", id="expired"),
    ],
)
def test_the_device_refuses_an_invalid_work_order_and_changes_nothing(
    connector: SimulatedConnector,
    facility_keys: tuple[str, str],
    make_order: Callable[[tuple[str, str]], str],
    reason: str,
) -> None:
    device = connector.attach(ESME)
    state_before = connector.fleet.device_state(ESME)
    with pytest.raises(WorkOrderRefused, match=reason):
        device.factory_reset(make_order(facility_keys))
    assert connector.fleet.device_state(ESME) == state_before


def test_a_replayed_work_order_is_refused_and_changes_nothing(
    connector: SimulatedConnector, facility_keys: tuple[str, str]
) -> None:
    device = connector.attach(ESME)
    signed = _order(ESME).sign(facility_keys[0])
    device.factory_reset(signed)
    with connector.fleet.update() as fleet_state:
        fleet_state["devices"][ESME]["content"]["tariffs"] = "a tariff loaded after the reset"
    state_before = connector.fleet.device_state(ESME)
    with pytest.raises(WorkOrderRefused, match="replay"):
        device.factory_reset(signed)
    assert connector.fleet.device_state(ESME) == state_before


def test_a_new_order_reusing_a_spent_nonce_is_refused(
    connector: SimulatedConnector, facility_keys: tuple[str, str]
) -> None:
    device = connector.attach(ESME)
    first = _order(ESME)
    device.factory_reset(first.sign(facility_keys[0]))
    with pytest.raises(WorkOrderRefused, match="replay"):
        device.factory_reset(_order(ESME, nonce=first.nonce).sign(facility_keys[0]))
    assert connector.fleet.device_state(ESME)["resets"] == 1


# --- failures -------------------------------------------------------------------------------------


def test_fail_times_fails_the_next_reset_without_changing_anything(
    connector: SimulatedConnector, facility_keys: tuple[str, str]
) -> None:
    connector.fleet.set_failure(ESME, fail_times=1)
    device = connector.attach(ESME)
    before = device.read_state()
    first = _order(ESME)
    with pytest.raises(ResetFailed, match=ESME):
        device.factory_reset(first.sign(facility_keys[0]))
    assert device.read_state() == before
    assert connector.fleet.device_state(ESME)["used_nonces"] == [first.nonce], (
        "the nonce is spent even though the reset failed"
    )

    device.factory_reset(_order(ESME).sign(facility_keys[0]))
    assert check_reset(PROFILES.for_type(DeviceType.ESME), before, device.read_state()) == []


def test_half_fail_times_returns_normally_but_verification_catches_it(
    connector: SimulatedConnector, facility_keys: tuple[str, str]
) -> None:
    connector.fleet.set_failure(ESME, half_fail_times=1)
    profile = PROFILES.for_type(DeviceType.ESME)
    device = connector.attach(ESME)
    before = device.read_state()

    device.factory_reset(_order(ESME).sign(facility_keys[0]))

    failures = check_reset(profile, before, device.read_state())
    assert failures
    assert all(failure.endswith(" not cleared") for failure in failures)
    assert set(profile.clear) > {failure.split()[0] for failure in failures}

    device.factory_reset(_order(ESME).sign(facility_keys[0]))
    assert check_reset(profile, before, device.read_state()) == []


# --- the bench and the file -----------------------------------------------------------------------


def test_bench_swap_attaches_the_device_actually_on_the_bench(
    connector: SimulatedConnector, facility_keys: tuple[str, str]
) -> None:
    connector.fleet.set_bench_swap(ESME, GSME)
    device = connector.attach(ESME)
    assert device.device_id == GSME
    assert device.device_type is DeviceType.GSME
    with pytest.raises(WorkOrderRefused, match=f"it is for device {ESME}"):
        device.factory_reset(_order(ESME).sign(facility_keys[0]))

    connector.fleet.set_bench_swap(ESME, None)
    assert connector.attach(ESME).device_id == ESME


def test_attaching_a_device_that_is_not_there_fails(connector: SimulatedConnector) -> None:
    with pytest.raises(DeviceNotPresent, match="FF-FF-FF-FF-FF-FF-FF-01"):
        connector.attach("FF-FF-FF-FF-FF-FF-FF-01")
    with pytest.raises(DeviceNotPresent, match="hex digit"):
        connector.attach("not-an-eui64")


def test_state_survives_reloading_the_fleet_from_its_file(
    connector: SimulatedConnector, state_file: Path, facility_keys: tuple[str, str]
) -> None:
    device = connector.attach(ESME)
    order = _order(ESME)
    device.factory_reset(order.sign(facility_keys[0]))
    after = device.read_state()

    reloaded = SimulatedFleet(state_file)
    assert reloaded.device_ids() == sorted([ESME, GSME, *ONE_OF_EACH.values()])
    assert reloaded.device_state(ESME)["used_nonces"] == [order.nonce]
    assert reloaded.device_state(ESME)["resets"] == 1
    fresh_connector = SimulatedConnector(state_file, facility_keys[1], TOOL)
    assert fresh_connector.attach(ESME).read_state() == after
    with pytest.raises(WorkOrderRefused, match="replay"):
        fresh_connector.attach(ESME).factory_reset(order.sign(facility_keys[0]))


def test_concurrent_writers_lose_no_update(
    state_file: Path, facility_keys: tuple[str, str]
) -> None:
    device_ids = list(ONE_OF_EACH.values())
    errors: list[BaseException] = []

    def reset(device_id: str) -> None:
        try:
            # Each writer has its own connector, as separate agent processes would.
            own = SimulatedConnector(state_file, facility_keys[1], TOOL)
            for _ in range(3):
                own.attach(device_id).factory_reset(_order(device_id).sign(facility_keys[0]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reset, args=(d,)) for d in device_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    fleet = SimulatedFleet(state_file)
    for device_id in device_ids:
        state = fleet.device_state(device_id)
        assert state["resets"] == 3
        assert len(set(state["used_nonces"])) == 3


def test_a_missing_fleet_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"SimulatedFleet\.create"):
        SimulatedFleet(tmp_path / "nowhere.json")


# --- loading connectors by name -------------------------------------------------------------------


def test_load_connector_finds_the_simulated_connector(
    state_file: Path, facility_keys: tuple[str, str]
) -> None:
    connector = load_connector(
        "simulated", state_file=state_file, facility_verifier_key=facility_keys[1], tool_id=TOOL
    )
    assert isinstance(connector, DeviceConnector)
    assert connector.attach(ESME).device_id == ESME


def test_load_connector_names_a_missing_or_unknown_option(facility_keys: tuple[str, str]) -> None:
    given = {"facility_verifier_key": facility_keys[1], "tool_id": TOOL}
    with pytest.raises(ConnectorOptionError, match=r"'simulated' needs the option state_file"):
        load_connector("simulated", **given)
    with pytest.raises(ConnectorOptionError, match=r"no option colour; its options: state_file$"):
        load_connector("simulated", state_file="f.json", colour="red", **given)


def test_load_connector_with_an_unknown_name_lists_the_installed_ones() -> None:
    with pytest.raises(UnknownConnector, match=r"'nope'.*installed connectors: .*simulated"):
        load_connector("nope")
