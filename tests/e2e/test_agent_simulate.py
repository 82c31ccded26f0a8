"""`triage agent simulate`: a simulated fleet whose devices tell the stories a facility meets,
made from the command line (the demonstration's and a newcomer's way to get devices to triage
without writing Python)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.e2e.conftest import Triage
from triage import gbcs
from triage.adapters.devices import scenarios
from triage.adapters.devices.simulated import SimulatedConnector, SimulatedFleet
from triage.ledger.note import generate_key

BATTERY = "BC-33-AC-FF-FE-FA-81-01"
MAGNET = "BC-33-AC-FF-FE-FA-81-02"
GAS = "BC-33-AC-FF-FE-FA-81-03"


def test_a_fleet_of_scenarios_answers_with_their_security_logs(
    triage: Triage, tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet.json"
    made = triage.run(
        "agent",
        "simulate",
        "--fleet",
        str(fleet),
        f"{BATTERY.lower()}:ESME:failing-battery",
        f"{MAGNET}::strong-magnet",
        f"{GAS}:GSME",
    ).stdout
    assert made.splitlines() == [
        f"{BATTERY}  ESME    failing-battery",
        f"{MAGNET}  ESME    strong-magnet",
        f"{GAS}  GSME    clean",
        f"3 simulated device(s) in {fleet}",
    ]
    _, verifier = generate_key("device-triage.local/test")
    connector = SimulatedConnector(fleet, verifier, "BENCH-1")
    at = scenarios.DEFAULT_AT

    battery = gbcs.decode(connector.attach(BATTERY).read_security_log())
    assert battery.use_case.name == "ECS35b"
    assert [(e.code, e.at) for e in battery.entries] == [
        (scenarios.LOW_BATTERY, at - timedelta(hours=3)),
        (scenarios.TAMPER_DETECT, at),
    ]
    magnet = gbcs.decode(connector.attach(MAGNET).read_security_log())
    assert [e.code for e in magnet.entries] == [scenarios.STRONG_MAGNETIC_FIELD]
    gas = gbcs.decode(connector.attach(GAS).read_security_log())
    assert (gas.use_case.name, gas.entries) == ("CS10b", ())

    added = triage.run("agent", "simulate", "--fleet", str(fleet), "--add", "BC33ACFFFEFA8104")
    assert added.stdout.splitlines()[-1] == f"1 simulated device(s) in {fleet}"
    assert len(SimulatedFleet(fleet).device_ids()) == 4


def test_a_bad_device_or_scenario_is_refused_in_one_line_and_nothing_is_written(
    triage: Triage, tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet.json"
    for item, problem in [
        (
            f"{BATTERY}:ESME:no-such-story",
            "unknown scenario 'no-such-story'; known scenarios: clean",
        ),
        ("not-a-device", "not-a-device: "),
        (f"{BATTERY}:TOASTER", "unknown device type"),
        (f"{BATTERY}:TYPE2:failing-battery", "TYPE2, which keeps no security log"),
    ]:
        refused = triage.run("agent", "simulate", "--fleet", str(fleet), item, check=False)
        assert refused.returncode == 2, refused
        assert refused.stderr.count("\n") == 1 and problem in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        assert not fleet.exists()
