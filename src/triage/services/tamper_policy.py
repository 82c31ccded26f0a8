"""The tamper policy in force: activating one, and the packaged default the first time."""

from __future__ import annotations

import functools

from triage.domain.caller import Caller
from triage.domain.roles import Permission
from triage.domain.tamper_policy import TamperPolicy
from triage.ledger.entry import Ref
from triage.services.common import make_entry
from triage.services.ports import UnitOfWork, UnitOfWorkFactory


def activate_policy(uow_factory: UnitOfWorkFactory, caller: Caller, policy: TamperPolicy) -> None:
    """Put a tamper policy in force; its full text goes into the ledger."""
    caller.require(Permission.POLICY_MANAGE)
    with uow_factory(write=True) as uow:
        _record_policy(uow, caller, policy)
        uow.commit()


def _record_policy(uow: UnitOfWork, caller: Caller, policy: TamperPolicy) -> None:
    uow.ledger.record(
        [
            make_entry(
                uow,
                caller,
                "policy.activated",
                Ref("policy", policy.id),
                {
                    "policy_id": policy.id,
                    "version": policy.version,
                    "hash": policy.hash,
                    "source": policy.source.decode("utf-8"),
                },
            )
        ]
    )


def ensure_policy(uow: UnitOfWork) -> TamperPolicy:
    """The policy in force; the packaged default is activated the first time one is needed."""
    source = uow.policies.active_source()
    if source is not None:
        return parse_policy(source)
    # Two first inspections at once must not both activate the default: take the ledger's
    # append lock (which this transaction's entry needs anyway), then look again. On
    # PostgreSQL the second waits here and then sees the first one's policy.
    uow.ledger.storage.lock_head()
    source = uow.policies.active_source()
    if source is not None:
        return parse_policy(source)
    policy = uow.packaged.tamper_policy()
    _record_policy(uow, Caller.system(), policy)
    return policy


@functools.lru_cache(maxsize=8)
def parse_policy(source: str) -> TamperPolicy:
    """The policy whose text (as recorded) is ``source``."""
    # Parsing and validating the YAML is most of an inspection's cost; a policy's text is its
    # identity, so the parsed policy can be reused for as long as that text is in force.
    return TamperPolicy.load(source.encode("utf-8"))
