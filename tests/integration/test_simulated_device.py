"""The simulated device: resets only under a valid work order, fails when told, shares its file."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import rfc8785

from triage.adapters.devices.base import (
    DeviceConnector,
    DeviceNotPresent,
    ResetFailed,
    UnknownConnector,
    load_connector,
)
from triage.adapters.devices.simulated import DeviceSpec, SimulatedConnector, SimulatedFleet
from triage.adapters.packaged_data import PackagedFiles
from triage.domain.device import DeviceType
from triage.domain.reset_profile import EMPTY_DIGEST, check_reset
from triage.domain.work_order import WorkOrder, WorkOrderRefused
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


def test_security_log_and_tamper_state_come_from_the_spec(connector: SimulatedConnector) -> None:
    assert connector.attach(ESME).read_security_log() == [(0x8F1C, ALERT_TIME)]
    assert connector.attach(GSME).read_security_log() == []
    assert connector.fleet.device_state(ESME)["tamper"] == {"terminal_cover": "opened"}


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


def test_load_connector_with_an_unknown_name_lists_the_installed_ones() -> None:
    with pytest.raises(UnknownConnector, match=r"'nope'.*installed connectors: .*simulated"):
        load_connector("nope")
