"""OSCAL exports for assessors' tools: the control catalogue, an assessment's results, and the
plan of action and milestones for the findings still open.

The documents are NIST OSCAL JSON as compliance-trestle's models read them (OSCAL 1.2.1): one
top-level key each, v4 or v5 uuids only, time-zone-aware timestamps and no key OSCAL does not
define; what OSCAL has no field for goes in properties in our namespace ``NS``.

These are pure functions from our records to JSON-ready dicts. Every uuid is one of ours (a
uuid4 from the record) or derived from the record with ``stable_uuid`` (a uuid5), and lists keep
the order of their inputs, so the same inputs give the same document byte for byte; only
``generated_at`` (metadata ``last-modified``) differs between two exports of the same record.

Mapping, in brief:

* catalog: one group per ``Control.group`` in order of first appearance, one control per control
  (our id as OSCAL's ``label`` property, the id itself made a lower-case token by
  ``oscal_control_id``), a ``statement`` part for the requirement and an ``assessment-method``
  part (EXAMINE) whose ``assessment-objects`` parts name each expected piece of evidence.
* assessment-results: one result for the assessment; the assessment plan (the assessment's own
  record, under its id) and every piece of evidence are back-matter resources (the evidence's
  with its SHA-256), observations point at the evidence, findings target their control; each
  incident or vulnerability of the register is an observation too (type "historic"), its
  notifications as grouped properties (recipient, deadline, when made, reference, state).
* plan-of-action-and-milestones: for each finding that is open or has an open action, a
  poam-item, the finding and a risk whose remediations are the provider's response and the
  actions, each with its due date as a milestone task.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from triage.domain.assurance_records import Assessment
from triage.domain.catalogue import Catalogue, Control
from triage.domain.facility import Facility

# The OSCAL version compliance-trestle 5.2.0 models (trestle.oscal.OSCAL_VERSION). Trestle does
# not check oscal-version (its check is switched off), so our tests compare the two.
OSCAL_VERSION = "1.2.1"
NS = "https://device-triage.local/ns/oscal"
FACILITY_ID_TYPE = f"{NS}/facility"  # system-id identifier-type: our facility ids

_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NS)
_NOT_TOKEN = re.compile(r"[^a-z0-9]+")
_KIND_TITLES = {
    "FUSA": "Full User Security Assessment",
    "VUSA": "Verification User Security Assessment",
    "USSA": "User Security Self-Assessment",
}
_RESULT_TITLES = {
    "approval": "approval",
    "approval_with_steps": "approval subject to additional steps",
    "deferred": "deferred",
    "rejection": "rejection",
}
_END_OF_DAY = time(23, 59, 59)


def stable_uuid(*parts: str) -> str:
    """A uuid5 under our fixed namespace, derived from ``parts`` (the same parts, the same uuid;
    parts are kept apart, so ("a", "bc") and ("ab", "c") differ)."""
    if not parts:
        raise ValueError("stable_uuid: give at least one part")
    return str(uuid.uuid5(_UUID_NAMESPACE, json.dumps(list(parts), ensure_ascii=False)))


def oscal_control_id(control_id: str) -> str:
    """Our control id as an OSCAL control id (a token): lower case, every run of characters
    other than letters and digits made one '-' ("G3.1" -> "g3-1", "P-ISO-1" -> "p-iso-1"), with
    "ctl-" in front when it would not start with a letter."""
    token = _NOT_TOKEN.sub("-", control_id.strip().lower()).strip("-")
    if not token:
        raise ValueError(f"control id {control_id!r} has no letters or digits")
    return token if token[0].isalpha() else f"ctl-{token}"


# -- building blocks ----------------------------------------------------------------------


def _line(text: str) -> str:
    """Text on one line, as OSCAL titles and property values must be."""
    return " ".join(str(text).split())


def _prop(
    name: str,
    value: object,
    *,
    ns: str | None = NS,
    group: str | None = None,
    remarks: str | None = None,
) -> dict[str, Any]:
    text = _line(str(value))
    if not text:
        raise ValueError(f"property {name!r}: the value is empty")
    prop: dict[str, Any] = {"name": name}
    if ns is not None:
        prop["ns"] = ns
    prop["value"] = text
    if group is not None:
        prop["group"] = group
    if remarks is not None and remarks.strip():
        prop["remarks"] = remarks.strip()
    return prop


def _props(*items: tuple[str, object]) -> list[dict[str, Any]]:
    """Properties in our namespace, leaving out those without a value."""
    return [_prop(name, value) for name, value in items if value is not None and str(value).strip()]


def _put(obj: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` unless the value is empty (OSCAL lists hold at least one item)."""
    if value is not None and value != [] and value != "":
        obj[key] = value


def _moment(value: str | date | datetime, what: str, end_of_day: bool = False) -> datetime:
    """A time-zone-aware moment, in UTC. A date alone is that day in UTC (its start, or its last
    second with ``end_of_day``); a date and time without a time zone is refused."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, _END_OF_DAY if end_of_day else time.min, UTC)
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                moment = datetime.combine(day, _END_OF_DAY if end_of_day else time.min, UTC)
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not an ISO 8601 date or time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what}: {value!r} has no time zone")
    return moment.astimezone(UTC)


def _stamp(value: str | date | datetime, what: str, end_of_day: bool = False) -> str:
    """An OSCAL date-time-with-timezone, in UTC and written with 'Z'."""
    moment = _moment(value, what, end_of_day).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds") + "Z"


def _day(value: str | date | datetime, what: str) -> str:
    """A date as written in our records (YYYY-MM-DD)."""
    if isinstance(value, datetime):
        return _moment(value, what).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return _moment(text, what).date().isoformat()


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _metadata(
    title: str,
    generated_at: datetime,
    version: str,
    rest: Mapping[str, Any],
    published: str | None = None,
) -> dict[str, Any]:
    if generated_at.tzinfo is None or generated_at.utcoffset() is None:
        raise ValueError("generated_at: give a time with a time zone")
    metadata: dict[str, Any] = {"title": _line(title)}
    _put(metadata, "published", published)
    metadata["last-modified"] = _stamp(generated_at, "generated_at")
    metadata["version"] = version
    metadata["oscal-version"] = OSCAL_VERSION
    metadata.update(rest)
    return metadata


def _party(kind: str, key: str, name: str) -> dict[str, Any]:
    return {"uuid": stable_uuid("party", kind, key), "type": "organization", "name": _line(name)}


def _control_title(control_id: str, by_id: Mapping[str, Control]) -> str:
    control = by_id.get(control_id)
    return control_id if control is None else f"{control_id} {control.title}"


# -- catalog ---------------------------------------------------------------------------------


def _catalog_control(control: Control, reason: str | None) -> dict[str, Any]:
    oid = oscal_control_id(control.id)
    props = [
        _prop("label", control.id, ns=None),
        _prop("clause", control.clause),
        _prop("produced-by-system", control.produced_by_system),
        _prop("provider", "true" if control.provider else "false"),
    ]
    if reason is not None:
        props.append(_prop("not-applicable", "true", remarks=reason or None))
    objects = []
    for i, expected in enumerate(control.evidence, start=1):
        how = (
            f"Produced by the system (generator '{expected.name}')."
            if expected.kind == "automatic"
            else f"Uploaded by the provider as '{expected.name}'."
        )
        objects.append(
            {
                "id": f"{oid}_evd-{i}",
                "name": "assessment-objects",
                "title": _line(expected.title),
                "props": [
                    _prop("evidence-kind", expected.kind),
                    _prop("evidence-name", expected.name),
                ],
                "prose": f"{expected.title.rstrip('.')}. {how}",
            }
        )
    parts = [
        {"id": f"{oid}_smt", "name": "statement", "prose": control.requirement},
        {
            "id": f"{oid}_asm-examine",
            "name": "assessment-method",
            "title": "Expected evidence",
            "props": [_prop("method", "EXAMINE", ns=None)],
            "parts": objects,
        },
    ]
    return {"id": oid, "title": _line(control.title), "props": props, "parts": parts}


def catalog(
    catalogue: Catalogue,
    provider_controls: Sequence[Control],
    not_applicable: Mapping[str, str],
    generated_at: datetime,
) -> dict[str, Any]:
    """The catalogue and the provider's own controls as an OSCAL catalog, the controls the
    provider marked not applicable carrying a ``not-applicable`` property with the reason."""
    controls = [*catalogue.controls, *provider_controls]
    taken: dict[str, str] = {}
    for control in controls:
        oid = oscal_control_id(control.id)
        if oid in taken:
            raise ValueError(
                f"controls {taken[oid]!r} and {control.id!r} would both be OSCAL control {oid!r}"
            )
        taken[oid] = control.id
    unknown = sorted(set(not_applicable) - {c.id for c in controls})
    if unknown:
        raise ValueError(f"not applicable but not in the catalogue: {', '.join(unknown)}")

    members: dict[str, list[Control]] = {}
    for control in controls:
        members.setdefault(control.group, []).append(control)
    groups = []
    for title, in_group in members.items():
        base = "grp-" + (_NOT_TOKEN.sub("-", title.lower()).strip("-") or "controls")
        gid, n = base, 2
        while gid in taken:
            gid, n = f"{base}-{n}", n + 1
        taken[gid] = title
        groups.append(
            {
                "id": gid,
                "title": _line(title),
                "controls": [_catalog_control(c, not_applicable.get(c.id)) for c in in_group],
            }
        )

    published = None
    if catalogue.published.strip():
        published = _stamp(catalogue.published, "catalogue published")
    rest = {
        "props": _props(
            ("catalogue", catalogue.name),
            ("catalogue-sha256", catalogue.sha256),
            ("catalogue-published", catalogue.published),
            ("provider-controls", str(len(provider_controls))),
            ("not-applicable-controls", str(len(not_applicable))),
        ),
        "remarks": catalogue.source,
    }
    metadata = _metadata(catalogue.title, generated_at, catalogue.version, rest, published)
    return {
        "catalog": {
            "uuid": stable_uuid("catalog", catalogue.name),
            "metadata": metadata,
            "groups": groups,
        }
    }


# -- findings, shared by the assessment results and the POA&M ------------------------------


def _finding(
    finding: Mapping[str, Any],
    assessment: Mapping[str, Any],
    by_id: Mapping[str, Control],
    related_observations: Sequence[str] = (),
    related_risk: str | None = None,
) -> dict[str, Any]:
    control_id = str(finding["control_id"])
    status = str(finding["status"])
    response = finding.get("response")
    props = _props(
        ("severity", finding["severity"]),
        ("finding-status", status),
        ("raised-at", _stamp(finding["raised_at"], "finding raised_at")),
        ("control", control_id),
        ("assessment-id", assessment["id"]),
        ("assessment-kind", assessment["kind"]),
    )
    remarks = []
    if response:
        props += _props(
            ("response-by", response.get("by")),
            ("response-due", response.get("due") and _day(response["due"], "response due")),
            (
                "responded-at",
                response.get("responded_at")
                and _stamp(response["responded_at"], "response responded_at"),
            ),
        )
        remarks.append(f"Provider's response: {str(response.get('text') or '').strip()}")
    if finding.get("closure"):
        remarks.append(f"Closure: {str(finding['closure']).strip()}")
    target: dict[str, Any] = {
        "type": "objective-id",
        "target-id": oscal_control_id(control_id),
        "title": _line(_control_title(control_id, by_id)),
        "props": [_prop("label", control_id, ns=None)],
        "status": {
            "state": "not-satisfied" if status == "open" else "satisfied",
            "remarks": f"The finding is {status}.",
        },
    }
    result: dict[str, Any] = {
        "uuid": str(finding["id"]),
        "title": _line(f"{str(finding['severity']).capitalize()} finding on {control_id}"),
        "description": str(finding.get("description") or "").strip() or "(no description)",
        "props": props,
        "target": target,
    }
    _put(result, "related-observations", [{"observation-uuid": u} for u in related_observations])
    if related_risk is not None:
        result["related-risks"] = [{"risk-uuid": related_risk}]
    _put(result, "remarks", "\n\n".join(remarks))
    return result


# -- assessment results ---------------------------------------------------------------------


def _evidence_props(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _props(
        ("evidence-kind", item["kind"]),
        ("evidence-name", item["name"]),
        ("sha256", item["sha256"]),
        ("ledger-index", item.get("ledger_index")),
    )


def _outcome_props(outcome: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not outcome:
        return []
    props = _props(
        ("outcome", outcome["result"]),
        ("outcome-decided-at", _stamp(outcome["decided_at"], "outcome decided_at")),
    )
    for i, step in enumerate(outcome.get("steps") or [], start=1):
        group = f"step-{i}"
        props.append(_prop("outcome-step", step["description"], group=group))
        props.append(_prop("outcome-step-due", _day(step["due"], "step due"), group=group))
        if step.get("done_at"):
            done = _stamp(step["done_at"], "step done_at")
            props.append(_prop("outcome-step-done-at", done, group=group))
    return props


def _outcome_remarks(outcome: Mapping[str, Any] | None) -> str:
    if not outcome:
        return "No outcome has been decided."
    result = str(outcome["result"])
    lines = [
        f"Outcome: {_RESULT_TITLES.get(result, result)}, decided "
        f"{_stamp(outcome['decided_at'], 'outcome decided_at')}."
    ]
    for step in outcome.get("steps") or []:
        done = step.get("done_at")
        state = f"done {_stamp(done, 'step done_at')}" if done else "not done"
        lines.append(f"- {_line(step['description'])} (due {_day(step['due'], 'due')}, {state})")
    return "\n".join(lines)


def _notification_props(i: int, notification: Mapping[str, Any]) -> list[dict[str, Any]]:
    group = f"notification-{i}"
    found = [
        ("notification-recipient", notification["recipient"]),
        (
            "notification-deadline",
            notification.get("deadline") and _stamp(notification["deadline"], "deadline"),
        ),
        (
            "notified-at",
            notification.get("notified_at") and _stamp(notification["notified_at"], "notified"),
        ),
        ("notified-by", notification.get("notified_by")),
        ("notification-reference", notification.get("reference")),
        ("notification-state", notification["state"]),
    ]
    return [_prop(n, v, group=group) for n, v in found if v is not None and str(v).strip()]


def _incident_observation(incident: Mapping[str, Any]) -> dict[str, Any]:
    """An incident or vulnerability of the register, with its notifications, as an
    observation (its props say what an assessor checks: severity, status, each notification's
    recipient, deadline, when it was made and whether it is overdue)."""
    incident_id = str(incident["id"])
    kind = str(incident["kind"])
    props = _props(
        ("incident-id", incident_id),
        ("incident-kind", kind),
        ("incident-source", incident["source"]),
        ("incident-severity", incident["severity"]),
        ("incident-category", incident["category"]),
        ("incident-status", incident["status"]),
        ("raised-at", _stamp(incident["raised_at"], "incident raised_at")),
        (
            "contained-at",
            incident.get("contained_at") and _stamp(incident["contained_at"], "contained_at"),
        ),
        ("closed-at", incident.get("closed_at") and _stamp(incident["closed_at"], "closed_at")),
        ("notification-overdue", "true" if incident.get("overdue") else "false"),
    )
    lines = [f"Raised by {_line(incident['raised_by'])} ({_line(incident['source'])})."]
    for i, notification in enumerate(incident.get("notifications") or [], start=1):
        props += _notification_props(i, notification)
        deadline = notification.get("deadline")
        made = notification.get("notified_at")
        lines.append(
            f"- Notification to {_line(notification['recipient'])}"
            + (f", due {_stamp(deadline, 'deadline')}" if deadline else "")
            + (
                f", made {_stamp(made, 'notified_at')} (reference "
                f"{_line(notification.get('reference') or 'none')})"
                if made
                else ", not made"
            )
            + f": {_line(notification['state'])}."
        )
    if incident.get("closed_at"):
        lines.append(f"Closed: {str(incident.get('closure') or '').strip()}")
        if incident.get("closure_justification"):
            lines.append(
                "Closed without a required notification: "
                + str(incident["closure_justification"]).strip()
            )
    title = f"{kind.capitalize()}: {incident['title']}"
    return {
        "uuid": stable_uuid("incident", incident_id),
        "title": _line(title),
        "description": str(incident.get("summary") or "").strip() or _line(title),
        "props": props,
        "methods": ["EXAMINE"],
        "types": ["historic"],
        "relevant-evidence": [
            {
                "description": _line(
                    f"The incident register's record of {kind} {incident_id} (ledger entries "
                    "incident.*)"
                )
            }
        ],
        "collected": _stamp(incident["raised_at"], "incident raised_at"),
        "remarks": "\n".join(lines),
    }


def assessment_results(
    assessment: Mapping[str, Any],
    controls: Sequence[Control],
    facility: Mapping[str, str],
    generated_at: datetime,
    register: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """One assessment (FUSA, VUSA or USSA) as OSCAL assessment-results: the controls reviewed,
    an observation per piece of evidence and per incident or vulnerability of the register
    (with its notifications), the findings and the outcome."""
    by_id = {c.id: c for c in controls}
    assessment_id = str(assessment["id"])
    kind = str(assessment["kind"])
    kind_title = str(assessment.get("title") or _KIND_TITLES.get(kind, kind))
    assessor = str(assessment["assessor"])
    start_day = assessment.get("fieldwork_start") or assessment["planned_at"]
    start = _moment(start_day, "start")
    end = None
    if assessment.get("fieldwork_end"):
        end = _moment(assessment["fieldwork_end"], "fieldwork_end", end_of_day=True)
        if end < start:
            raise ValueError("fieldwork_end: before the start of the assessment")

    # The plan is the assessment's own record, so its resource has the assessment's uuid (a v4:
    # trestle's link check recognises only v4 uuids in an href, and warns of the rest).
    plan_uuid = assessment_id
    resources: list[dict[str, Any]] = [
        {
            "uuid": plan_uuid,
            "title": _line(f"Assessment plan of the {kind_title} ({assessment_id})"),
            "description": (
                "The plan is not published as OSCAL: it is the assessment's record in the "
                "Triage Facility's system (kind, assessor, scope, dates and controls), "
                "repeated in the result below."
            ),
            "props": _props(("assessment-id", assessment_id)),
        }
    ]
    observations = []
    observed: dict[tuple[str, str], list[str]] = {}
    for item in assessment.get("evidence") or []:
        evidence_id = str(item["id"])
        observation_uuid = stable_uuid("observation", assessment_id, evidence_id)
        observed.setdefault((str(item["kind"]), str(item["name"])), []).append(observation_uuid)
        how = "produced by the system" if item["kind"] == "automatic" else "uploaded"
        recorded = _stamp(item["recorded_at"], "evidence recorded_at")
        rlink: dict[str, Any] = {"href": f"evidence/{evidence_id}"}
        _put(rlink, "media-type", item.get("media_type"))
        rlink["hashes"] = [{"algorithm": "SHA-256", "value": str(item["sha256"])}]
        resource: dict[str, Any] = {
            "uuid": evidence_id,
            "title": _line(item["title"]),
            "description": f"Evidence '{item['name']}' ({how}), recorded {recorded}.",
            "props": _evidence_props(item),
            "rlinks": [rlink],
        }
        resources.append(resource)
        observations.append(
            {
                "uuid": observation_uuid,
                "title": _line(item["title"]),
                "description": f"Evidence '{item['name']}' ({how}) examined by the assessor.",
                "methods": ["EXAMINE"],
                "relevant-evidence": [
                    {
                        "href": f"#{evidence_id}",
                        "description": _line(item["title"]),
                        "props": _evidence_props(item),
                    }
                ],
                "collected": recorded,
            }
        )

    observations += [_incident_observation(incident) for incident in register]

    findings = []
    for finding in assessment.get("findings") or []:
        control = by_id.get(str(finding["control_id"]))
        related: list[str] = []
        for expected in control.evidence if control else ():
            related += observed.get((expected.kind, expected.name), [])
        findings.append(_finding(finding, assessment, by_id, related))

    assessed = [str(c) for c in assessment.get("controls") or []]
    selection: dict[str, Any]
    if assessed:
        selection = {
            "description": f"Controls assessed: {', '.join(assessed)}.",
            "include-controls": [{"control-id": oscal_control_id(c)} for c in assessed],
        }
    else:
        selection = {"description": "No controls were chosen: all are in scope.", "include-all": {}}
    outcome = assessment.get("outcome")
    result: dict[str, Any] = {
        "uuid": stable_uuid("result", assessment_id),
        "title": _line(f"{kind_title} of {facility['name']}"),
        "description": str(assessment.get("scope") or "").strip() or "(no scope given)",
        "start": _stamp(start, "start"),
    }
    if end is not None:
        result["end"] = _stamp(end, "fieldwork_end")
    result["props"] = _props(
        ("assessment-kind", kind),
        ("assessment-status", assessment["status"]),
        ("assessor", assessor),
        ("planned-at", _day(assessment["planned_at"], "planned_at")),
        (
            "fieldwork-start",
            assessment.get("fieldwork_start") and _day(assessment["fieldwork_start"], "start"),
        ),
        (
            "fieldwork-end",
            assessment.get("fieldwork_end") and _day(assessment["fieldwork_end"], "end"),
        ),
    ) + _outcome_props(outcome)
    result["reviewed-controls"] = {"control-selections": [selection]}
    _put(result, "observations", observations)
    _put(result, "findings", findings)
    result["remarks"] = _outcome_remarks(outcome)

    body = {
        "import-ap": {
            "href": f"#{plan_uuid}",
            "remarks": "The assessment plan is described by the back-matter resource named here.",
        },
        "results": [result],
        "back-matter": {"resources": resources},
    }
    rest = {
        "props": _props(
            ("facility-id", facility["id"]),
            ("assessment-id", assessment_id),
            ("assessment-kind", kind),
            ("assessment-status", assessment["status"]),
        ),
        "roles": [
            {"id": "assessor", "title": "Assessor"},
            {"id": "system-owner", "title": "Triage Facility Provider"},
        ],
        "parties": [
            _party("assessor", assessor, assessor),
            _party("facility", facility["id"], facility["name"]),
        ],
        "responsible-parties": [
            {"role-id": "assessor", "party-uuids": [stable_uuid("party", "assessor", assessor)]},
            {
                "role-id": "system-owner",
                "party-uuids": [stable_uuid("party", "facility", facility["id"])],
            },
        ],
    }
    title = f"{kind_title} of {facility['name']}: results"
    version = _digest(title, rest, body)[:16]
    return {
        "assessment-results": {
            "uuid": stable_uuid("assessment-results", assessment_id),
            "metadata": _metadata(title, generated_at, version, rest),
            **body,
        }
    }


# -- plan of action and milestones -----------------------------------------------------------


def _milestone(key: str, due: Any, title: str) -> dict[str, Any]:
    return {
        "uuid": stable_uuid("milestone", key),
        "type": "milestone",
        "title": _line(title),
        "timing": {"on-date": {"date": _stamp(due, "due", end_of_day=True)}},
    }


def _remediations(
    finding: Mapping[str, Any], actions: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    remediations = []
    response = finding.get("response")
    if response:
        by = str(response.get("by") or "the provider")
        entry: dict[str, Any] = {
            "uuid": stable_uuid("response", str(finding["id"])),
            "lifecycle": "planned",
            "title": _line(f"Response by {by}"),
            "description": str(response.get("text") or "").strip() or "(no text)",
            "props": _props(
                ("response-by", response.get("by")),
                (
                    "responded-at",
                    response.get("responded_at")
                    and _stamp(response["responded_at"], "responded_at"),
                ),
                ("response-due", response.get("due") and _day(response["due"], "due")),
            ),
        }
        if response.get("due"):
            due = _day(response["due"], "response due")
            entry["tasks"] = [_milestone(f"response/{finding['id']}", due, f"Response due {due}")]
        remediations.append(entry)
    for action in actions:
        done = action.get("done_at")
        due = _day(action["due"], "action due")
        remediations.append(
            {
                "uuid": str(action["id"]),
                "lifecycle": "completed" if action["status"] == "done" else "planned",
                "title": _line(f"Action owned by {action['owner']}, due {due}"),
                "description": str(action.get("description") or "").strip() or "(no description)",
                "props": _props(
                    ("owner", action["owner"]),
                    ("due", due),
                    ("action-status", action["status"]),
                    ("done-at", done and _stamp(done, "action done_at")),
                ),
                "tasks": [_milestone(f"action/{action['id']}", due, f"Action due {due}")],
            }
        )
    return remediations


def plan_of_action(
    assessments: Sequence[Mapping[str, Any]],
    controls: Sequence[Control],
    facility: Mapping[str, str],
    generated_at: datetime,
) -> dict[str, Any]:
    """The findings of ``assessments`` still open (the finding open, or an action on it open) as
    an OSCAL plan of action and milestones: a poam-item, the finding, and a risk whose
    remediations are the provider's response and the actions, their due dates as milestones.

    OSCAL requires at least one poam-item: with nothing open, the one item says so (and has the
    property ``placeholder``)."""
    by_id = {c.id: c for c in controls}
    items: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    risks: list[dict[str, Any]] = []
    for assessment in assessments:
        finding_ids = {str(f["id"]) for f in assessment.get("findings") or []}
        actions: dict[str, list[Mapping[str, Any]]] = {}
        for action in assessment.get("actions") or []:
            if str(action["finding_id"]) not in finding_ids:
                raise ValueError(
                    f"action {action['id']} is on finding {action['finding_id']}, which is not "
                    f"a finding of assessment {assessment['id']}"
                )
            actions.setdefault(str(action["finding_id"]), []).append(action)
        kind = str(assessment["kind"])
        for finding in assessment.get("findings") or []:
            finding_id = str(finding["id"])
            its_actions = actions.get(finding_id, [])
            open_actions = [a for a in its_actions if a["status"] != "done"]
            if finding["status"] != "open" and not open_actions:
                continue
            control_id = str(finding["control_id"])
            severity = str(finding["severity"])
            risk_uuid = stable_uuid("risk", finding_id)
            description = str(finding.get("description") or "").strip() or "(no description)"
            dues = [_day(a["due"], "action due") for a in open_actions]
            response = finding.get("response")
            if response and response.get("due") and finding["status"] == "open":
                dues.append(_day(response["due"], "response due"))
            risk: dict[str, Any] = {
                "uuid": risk_uuid,
                "title": _line(f"{severity.capitalize()} finding on {control_id}"),
                "description": (
                    f"Raised {_stamp(finding['raised_at'], 'raised_at')} in the {kind} by "
                    f"{assessment['assessor']} against {_control_title(control_id, by_id)}."
                ),
                "statement": description,
                "props": _props(("severity", severity), ("control", control_id)),
                "status": "remediating" if open_actions else "open",
            }
            if dues:
                risk["deadline"] = _stamp(min(dues), "deadline", end_of_day=True)
            _put(risk, "remediations", _remediations(finding, its_actions))
            risks.append(risk)
            findings.append(_finding(finding, assessment, by_id, related_risk=risk_uuid))
            items.append(
                {
                    "uuid": stable_uuid("poam-item", finding_id),
                    "title": _line(f"{severity.capitalize()} finding on {control_id} ({kind})"),
                    "description": description,
                    "props": _props(
                        ("severity", severity),
                        ("control", control_id),
                        ("finding-status", finding["status"]),
                        ("open-actions", str(len(open_actions))),
                        ("assessment-id", assessment["id"]),
                        ("assessment-kind", kind),
                    ),
                    "related-findings": [{"finding-uuid": finding_id}],
                    "related-risks": [{"risk-uuid": risk_uuid}],
                }
            )
    if not items:
        items.append(
            {
                "uuid": stable_uuid("poam-item", "none", facility["id"]),
                "title": "No open findings",
                "description": (
                    "No finding of the assessments exported is open and no action on one is open."
                ),
                "props": _props(("placeholder", "true")),
            }
        )

    body: dict[str, Any] = {
        "system-id": {"identifier-type": FACILITY_ID_TYPE, "id": str(facility["id"])},
    }
    _put(body, "risks", risks)
    _put(body, "findings", findings)
    body["poam-items"] = items
    rest = {
        "props": _props(
            ("facility-id", facility["id"]),
            ("assessments", str(len(assessments))),
        ),
        "roles": [{"id": "system-owner", "title": "Triage Facility Provider"}],
        "parties": [_party("facility", facility["id"], facility["name"])],
        "responsible-parties": [
            {
                "role-id": "system-owner",
                "party-uuids": [stable_uuid("party", "facility", facility["id"])],
            }
        ],
    }
    title = f"Plan of action and milestones: {facility['name']}"
    version = _digest(title, rest, body)[:16]
    return {
        "plan-of-action-and-milestones": {
            "uuid": stable_uuid("plan-of-action-and-milestones", facility["id"]),
            "metadata": _metadata(title, generated_at, version, rest),
            **body,
        }
    }


class OscalDocuments:
    """``OscalBuilder``: the documents above from the services' records."""

    def catalog(
        self,
        catalogue: Catalogue,
        own: Sequence[Control],
        not_applicable: Mapping[str, str],
        at: datetime,
    ) -> dict[str, Any]:
        return catalog(catalogue, own, not_applicable, at)

    def assessment_results(
        self,
        assessment: Assessment,
        controls: Sequence[Control],
        facility: Facility,
        at: datetime,
        register: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        return assessment_results(assessment.to_json(), controls, _facility(facility), at, register)

    def plan_of_action(
        self,
        assessments: Sequence[Assessment],
        controls: Sequence[Control],
        facility: Facility,
        at: datetime,
    ) -> dict[str, Any]:
        found = [a.to_json() for a in assessments]
        return plan_of_action(found, controls, _facility(facility), at)


def _facility(facility: Facility) -> dict[str, str]:
    return {"id": facility.id, "name": facility.name}
