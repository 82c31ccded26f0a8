"""C2SP tlog-policy: parsing every statement strictly, quorums, and checking a cosigned
checkpoint against a policy."""

from __future__ import annotations

import base64
import hashlib
from functools import cache

import pytest

from triage.ledger import note
from triage.ledger.checkpoint import Checkpoint, format_checkpoint
from triage.ledger.cosignature import cosign, generate_cosigner_key, note_with_signatures
from triage.ledger.errors import VerificationError
from triage.ledger.policy import (
    MAX_GROUPS,
    MAX_LOGS,
    MAX_POLICY_BYTES,
    MAX_WITNESSES,
    GroupSpec,
    Policy,
    PolicyError,
    check_quorum,
    parse_policy,
    verify_checkpoint,
)

ORIGIN = "triage.example/ledger"
BODY = format_checkpoint(Checkpoint(ORIGIN, 42, hashlib.sha256(b"root").digest()))
T = 1_700_000_000


def log_key(origin: str = ORIGIN) -> tuple[str, str]:
    """(signer, vkey) of a log, one per origin for the whole module."""
    return _log_key(origin)


@cache
def _log_key(origin: str) -> tuple[str, str]:
    return note.generate_key(origin)


@cache
def witness_key(name: str) -> tuple[str, str]:
    """(signer, vkey) of the witness called ``name`` in these policies."""
    return generate_cosigner_key(f"witness.example/{name}")


def vkey(name: str) -> str:
    return witness_key(name)[1]


def spec_example() -> str:
    """The spec's example policy with real keys in place of the elided ones."""
    return f"""log {log_key()[1]}

witness X1 {vkey("X1")}
witness X2 {vkey("X2")}
witness X3 {vkey("X3")}
group X-witnesses 2 X1 X2 X3

witness Y1 {vkey("Y1")}
witness Y2 {vkey("Y2")}
witness Y3 {vkey("Y3")}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
"""


def cosigned(*names: str, body: str = BODY, log: str = ORIGIN) -> str:
    """The checkpoint ``body`` signed by the log and cosigned by the witnesses ``names``."""
    signed = note.sign(body, log_key(log)[0])
    return note_with_signatures(signed, [cosign(body, witness_key(n)[0], T) for n in names])


def refused(text: str, line: int | None, match: str) -> None:
    with pytest.raises(PolicyError, match=match) as caught:
        parse_policy(text)
    assert caught.value.line == line
    if line is not None:
        assert str(caught.value).startswith(f"policy line {line}: ")


# --- the spec's example -----------------------------------------------------------------------


def test_the_specs_example_parses_into_logs_witnesses_groups_and_quorum() -> None:
    policy = parse_policy(spec_example())
    assert [log.origin for log in policy.logs] == [ORIGIN]
    assert policy.log_vkeys() == [log_key()[1]]
    assert [w.name for w in policy.witnesses] == ["X1", "X2", "X3", "Y1", "Y2", "Y3"]
    assert policy.witness_vkeys() == [vkey(n) for n in ("X1", "X2", "X3", "Y1", "Y2", "Y3")]
    assert policy.witness("Y2").cosigner.name == "witness.example/Y2"
    assert policy.groups == (
        GroupSpec("X-witnesses", 2, ("X1", "X2", "X3")),
        GroupSpec("Y-witnesses", 1, ("Y1", "Y2", "Y3")),
        GroupSpec("X-and-Y", 2, ("X-witnesses", "Y-witnesses")),
    )
    assert policy.quorum == "X-and-Y"
    assert policy.text == spec_example()


@pytest.mark.parametrize(
    ("cosigners", "met"),
    [
        ({"X1", "X2", "Y1"}, True),
        ({"X2", "X3", "Y3"}, True),
        ({"X1", "X2", "X3", "Y1", "Y2", "Y3"}, True),
        ({"X1", "Y1", "Y2", "Y3"}, False),  # one X is not two
        ({"X1", "X2", "X3"}, False),  # no Y
        ({"Y1", "Y2", "Y3"}, False),
        (set(), False),
        ({"X1", "X2", "Y1", "X-witnesses", "nobody"}, True),
        ({"X-witnesses", "Y-witnesses"}, False),  # group names are not cosigners
    ],
)
def test_the_specs_example_quorum(cosigners: set[str], met: bool) -> None:
    assert parse_policy(spec_example()).satisfied(cosigners) is met


def test_explain_names_the_rule_who_cosigned_and_the_verdict() -> None:
    policy = parse_policy(spec_example())
    assert policy.explain({"X2", "Y1"}) == (
        "quorum X-and-Y: 2 of (X-witnesses: 2 of (X1, X2, X3), Y-witnesses: 1 of (Y1, Y2, Y3)); "
        "cosigned by X2, Y1: not met"
    )
    assert policy.explain({"Y1", "X1", "X3"}).endswith("cosigned by X1, X3, Y1: met")
    assert policy.explain(set()).endswith("cosigned by no witness of the policy: not met")


def test_the_specs_example_verifies_a_checkpoint_with_its_quorum() -> None:
    policy = parse_policy(spec_example())
    witnessed = verify_checkpoint(cosigned("Y2", "X3", "X1"), policy)
    assert witnessed.checkpoint.size == 42
    assert witnessed.witnesses == ("X1", "X3", "Y2")  # in the policy's order
    assert [c.cosigner.name for _, c in witnessed.cosignatures] == [
        "witness.example/X1",
        "witness.example/X3",
        "witness.example/Y2",
    ]
    assert witnessed.quorum_met


# --- syntax -----------------------------------------------------------------------------------


def test_comments_blank_lines_tabs_and_surrounding_whitespace_are_allowed() -> None:
    text = (
        "# a policy\n"
        "   # an indented comment\n"
        "\n"
        " \t \n"
        f"\tlog\t{log_key()[1]}   https://triage.example/api/v1/ledger/tlog  \n"
        f"witness \t w1 {vkey('w1')}\thttp://127.0.0.1:8100\n"
        f"  witness w2 {vkey('w2')}\n"
        "group\tboth  all w1\t w2\n"
        "quorum both"  # no final newline
    )
    policy = parse_policy(text)
    assert policy.logs[0].url == "https://triage.example/api/v1/ledger/tlog"
    assert policy.witness("w1").url == "http://127.0.0.1:8100"
    assert policy.witness("w2").url is None
    assert policy.quorum == "both"
    assert policy.satisfied({"w1", "w2"}) and not policy.satisfied({"w1"})


def test_quorum_none_needs_no_witness_and_no_log_line() -> None:
    policy = parse_policy("quorum none\n")
    assert policy.logs == () and policy.witnesses == ()
    assert policy.satisfied(set())
    assert policy.explain(set()) == "quorum none: no cosignature needed"


def test_a_single_witness_can_be_the_quorum() -> None:
    policy = parse_policy(f"witness w1 {vkey('w1')}\nquorum w1\n")
    assert policy.satisfied({"w1"}) and not policy.satisfied({"w2"})
    assert policy.explain({"w2"}) == "quorum w1; cosigned by no witness of the policy: not met"


@pytest.mark.parametrize(("rule", "k"), [("1", 1), ("2", 2), ("3", 3), ("any", 1), ("all", 3)])
def test_thresholds(rule: str, k: int) -> None:
    text = "".join(f"witness {n} {vkey(n)}\n" for n in ("a", "b", "c"))
    policy = parse_policy(f"{text}group g {rule} a b c\nquorum g\n")
    assert policy.groups[0].threshold == k
    assert policy.satisfied(["a", "b", "c"][:k])
    assert not policy.satisfied(["a", "b", "c"][: k - 1])


def test_names_are_opaque_strings() -> None:
    # "K" and the Kelvin sign are different names; non-ASCII is allowed in names and URLs.
    policy = parse_policy(
        f"witness K {vkey('K')}\nwitness \u212a {vkey('kelvin')} https://\u00e9.example\n"
        "group g all K \u212a\nquorum g\n"
    )
    assert [w.name for w in policy.witnesses] == ["K", "\u212a"]
    assert not policy.satisfied({"K"})


def test_a_name_may_look_like_a_keyword() -> None:
    policy = parse_policy(f"witness all {vkey('all')}\ngroup any any all\nquorum any\n")
    assert policy.satisfied({"all"})


def test_lines_after_the_quorum_are_read_too() -> None:
    policy = parse_policy(f"quorum none\nwitness w1 {vkey('w1')}\nlog {log_key()[1]}\n")
    assert len(policy.witnesses) == 1 and len(policy.logs) == 1


# --- refusals ---------------------------------------------------------------------------------


def test_every_refusal_names_its_line_and_what_is_wrong() -> None:
    w1, w2 = f"witness w1 {vkey('w1')}\n", f"witness w2 {vkey('w2')}\n"
    log = f"log {log_key()[1]}\n"
    cases: list[tuple[str, int | None, str]] = [
        ("quorum none\nwitnesses w1\n", 2, "unknown keyword 'witnesses'"),
        ("quorum none\nLOG x\n", 2, "unknown keyword 'LOG'"),
        ("log\nquorum none\n", 1, r"a log line is 'log <vkey> \[<url>\]'"),
        (f"log {log_key()[1]} http://a http://b\n", 1, "a log line is"),
        ("log example.com+00000000+AAAA\n", 1, "log key: malformed verifier key"),
        (f"log {vkey('w1')}\n", 1, r"log key: .*want 0x01.*type 0x01"),
        (f"{w1}witness w2\n", 2, "a witness line is"),
        (f"witness w1 {vkey('w1')} http://a extra\n", 1, "a witness line is"),
        (f"witness w1 {log_key()[1]}\n", 1, r"witness w1 key: .*want 0x04.*type 0x04"),
        ("witness w1 nonsense\n", 1, "witness w1 key: malformed verifier key"),
        (f"witness none {vkey('w1')}\n", 1, "the name 'none' is predefined"),
        (f"{w1}witness w1 {vkey('w2')}\n", 2, "the name 'w1' is already defined on line 1"),
        (f"{w1}group w1 any w1\n", 2, "the name 'w1' is already defined on line 1"),
        (f"{w1}group none any w1\n", 2, "the name 'none' is predefined"),
        (f"{w1}group g any\n", 2, "a group line is 'group <name> all|any|<k> <name>...'"),
        (f"{w1}group g\n", 2, "a group line is"),
        (f"{w1}group g any w2\n{w2}", 2, "member 'w2' is not a witness or group defined above"),
        (f"{w1}group g any none\n", 2, "'none' cannot be a group member"),
        (f"{w1}{w2}group g 2 w1 w1\n", 3, "member 'w1' is listed twice"),
        (
            f"{w1}{w2}group g any w1\ngroup h any w1 w2\n",
            4,
            "'w1' is already a member of a group on line 3",
        ),
        (f"{w1}{w2}group g 0 w1 w2\n", 3, "threshold 0 is not between 1 and its 2 member"),
        (f"{w1}{w2}group g 3 w1 w2\n", 3, "threshold 3 is not between 1 and its 2 member"),
        (f"{w1}group g two w1\n", 2, "threshold 'two' is not all, any or a decimal number"),
        (f"{w1}group g -1 w1\n", 2, "threshold '-1' is not"),
        (f"{w1}group g 1.0 w1\n", 2, "threshold '1.0' is not"),
        (f"{w1}group g \u0661 w1\n", 2, "is not all, any or a decimal"),  # Arabic-Indic one
        (f"{w1}group g ALL w1\n", 2, "threshold 'ALL' is not"),
        ("quorum\n", 1, "a quorum line is 'quorum <name>'"),
        ("quorum a b\n", 1, "a quorum line is"),
        ("quorum none\nquorum none\n", 2, "a second quorum line"),
        ("quorum w1\n" + w1, 1, "quorum 'w1' is not a witness or group defined above"),
        (f"{log}# nothing else\n", None, "no quorum line"),
        ("", None, "no quorum line"),
        (f"{log}{log}quorum none\n", 2, "has the same public key as the log"),
        (
            f"{w1}witness other {vkey('w1')}\n",
            2,
            "the witness other has the same public key as the witness w1 on line 1",
        ),
        ("quorum none\r\n", 1, "a carriage return at character 12"),
        ("quorum\x00none\n", 1, "control character U\\+0000 at character 7"),
        ("quorum none\x7f\n", 1, "control character U\\+007F"),
        ("quorum none\n\x0b\n", 2, "control character U\\+000B"),
        ("quorum none\x1c\n", 1, "control character U\\+001C"),
        ("quorum none\u00a0\n", 1, r"quorum 'none\\xa0' is not a witness"),  # no-break space
        ("quorum none\n\udc80\n", None, "not valid UTF-8"),
    ]
    for text, line, match in cases:
        refused(text, line, match)


def test_the_same_public_key_under_another_name_is_a_duplicate() -> None:
    # Two vkeys are duplicates when they wrap the same public key, whatever their key names.
    one = note.parse_verifier_key(log_key()[1])
    renamed = f"other.example/log+{note.key_id('other.example/log', 1, one.public_key):08x}+"
    renamed += log_key()[1].split("+", 2)[2]
    assert note.parse_verifier_key(renamed).public_key == one.public_key
    refused(f"log {log_key()[1]}\nlog {renamed}\nquorum none\n", 2, "same public key as the log")
    # A witness holding the log's key would be the log cosigning itself.
    as_witness = note.key_id("witness.example/log", 4, one.public_key)
    cosigner_vkey = f"witness.example/log+{as_witness:08x}+"
    cosigner_vkey += base64.b64encode(b"\x04" + one.public_key).decode()
    refused(
        f"log {log_key()[1]}\nwitness w {cosigner_vkey}\nquorum none\n",
        2,
        f"the witness w has the same public key as the log {ORIGIN} on line 1",
    )


def test_two_keys_of_one_origin_are_allowed() -> None:
    _, rotated = note.generate_key(ORIGIN)
    policy = parse_policy(f"log {log_key()[1]}\nlog {rotated}\nquorum none\n")
    assert [log.origin for log in policy.logs] == [ORIGIN, ORIGIN]


def test_a_policy_larger_than_the_limit_is_refused() -> None:
    text = "quorum none\n" + "#" * MAX_POLICY_BYTES
    refused(text, None, "larger than 64 KiB")


def test_limits_at_least_32_of_each_and_no_more_than_the_maximum() -> None:
    logs = [note.generate_key(f"log{i}.example")[1] for i in range(MAX_LOGS + 1)]
    witnesses = [generate_cosigner_key(f"w{i}.example")[1] for i in range(MAX_WITNESSES + 1)]
    assert min(MAX_LOGS, MAX_WITNESSES, MAX_GROUPS) >= 32

    lines = [f"log {k}" for k in logs[:MAX_LOGS]]
    lines += [f"witness w{i} {k}" for i, k in enumerate(witnesses[:MAX_WITNESSES])]
    lines += [f"group g{i} any w{i}" for i in range(MAX_GROUPS)]
    lines += ["group all all " + " ".join(f"g{i}" for i in range(MAX_GROUPS - 1))]
    # The last group line above is one too many: MAX_GROUPS groups already exist.
    text = "\n".join(lines) + "\nquorum none\n"
    refused(text, len(lines), f"more than {MAX_GROUPS} groups")

    full = "\n".join(lines[:-1]) + f"\nquorum g{MAX_GROUPS - 1}\n"
    policy = parse_policy(full)
    assert (len(policy.logs), len(policy.witnesses), len(policy.groups)) == (
        MAX_LOGS,
        MAX_WITNESSES,
        MAX_GROUPS,
    )
    refused(full + f"log {logs[-1]}\n", len(lines) + 1, f"more than {MAX_LOGS} logs")
    refused(
        full + f"witness extra {witnesses[-1]}\n",
        len(lines) + 1,
        f"more than {MAX_WITNESSES} witnesses",
    )


def test_witness_lookup_of_an_unknown_name_raises_key_error() -> None:
    with pytest.raises(KeyError, match="no witness 'w9'"):
        parse_policy(spec_example()).witness("w9")


def test_a_policy_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="policy line 1"):
        parse_policy("nonsense\n")


# --- verify_checkpoint / check_quorum ---------------------------------------------------------


def two_of_two() -> Policy:
    return parse_policy(
        f"log {log_key()[1]}\nwitness a {vkey('a')}\nwitness b {vkey('b')}\n"
        "group both all a b\nquorum both\n"
    )


def test_a_quorum_of_cosignatures_verifies() -> None:
    witnessed = verify_checkpoint(cosigned("b", "a"), two_of_two(), origin=ORIGIN)
    assert witnessed.witnesses == ("a", "b")
    assert [c.timestamp for _, c in witnessed.cosignatures] == [T, T]


def test_one_cosignature_short_is_refused_naming_who_cosigned_and_the_quorum() -> None:
    with pytest.raises(VerificationError) as caught:
        verify_checkpoint(cosigned("a"), two_of_two())
    assert str(caught.value) == (
        "the checkpoint of size 42 is not cosigned by a quorum of the policy's witnesses: "
        "quorum both: 2 of (a, b); cosigned by a: not met"
    )


def test_check_quorum_reports_a_missing_quorum_without_raising() -> None:
    witnessed = check_quorum(cosigned("a"), two_of_two())
    assert witnessed.witnesses == ("a",) and not witnessed.quorum_met
    assert check_quorum(cosigned("a", "b"), two_of_two()).quorum_met
    assert check_quorum(note.sign(BODY, log_key()[0]), two_of_two()).witnesses == ()


def test_a_forged_cosignature_is_refused() -> None:
    forger, _ = generate_cosigner_key("witness.example/b")  # b's name, another key
    forged_line = cosign(BODY, forger, T)
    # Make it claim b's key ID: the line is then b's and must verify.
    b_id = vkey("b").split("+")[1]
    blob = base64.b64decode(forged_line.split(" ")[2])
    forged_blob = bytes.fromhex(b_id) + blob[4:]
    forged = f"— witness.example/b {base64.b64encode(forged_blob).decode()}\n"
    note_text = note_with_signatures(cosigned("a"), [forged])
    with pytest.raises(VerificationError, match=r"bad cosignature by witness.example/b\+"):
        verify_checkpoint(note_text, two_of_two())
    with pytest.raises(VerificationError, match="bad cosignature"):
        check_quorum(note_text, two_of_two())


def test_a_cosignature_by_a_witness_outside_the_policy_does_not_count() -> None:
    with pytest.raises(VerificationError, match="cosigned by a: not met"):
        verify_checkpoint(cosigned("a", "stranger"), two_of_two())


def test_the_log_signature_is_required() -> None:
    other_signer, _ = note.generate_key(ORIGIN)
    signed = note.sign(BODY, other_signer)
    lines = [cosign(BODY, witness_key(n)[0], T) for n in ("a", "b")]
    with pytest.raises(VerificationError, match="no signature by a known key"):
        verify_checkpoint(note_with_signatures(signed, lines), two_of_two())
    with pytest.raises(VerificationError, match="no signature by a known key"):
        check_quorum(note_with_signatures(signed, lines), two_of_two())


def test_given_log_keys_replace_the_policys_log_lines() -> None:
    policy = parse_policy(f"witness a {vkey('a')}\nquorum a\n")
    with pytest.raises(VerificationError, match="the policy names no log"):
        verify_checkpoint(cosigned("a"), policy)
    witnessed = verify_checkpoint(cosigned("a"), policy, ORIGIN, [log_key()[1]])
    assert witnessed.witnesses == ("a",)
    with pytest.raises(VerificationError, match="no signature by a known key"):
        verify_checkpoint(cosigned("a"), two_of_two(), log_vkeys=[note.generate_key(ORIGIN)[1]])


def test_the_origin_is_checked() -> None:
    with pytest.raises(
        VerificationError, match=r"checkpoint origin 'triage\.example/ledger' is not"
    ):
        verify_checkpoint(cosigned("a", "b"), two_of_two(), origin="other.example/ledger")


def test_a_policy_log_vouches_only_for_its_own_origin() -> None:
    # The log's key signs a checkpoint of another origin: its key name is not that origin.
    body = format_checkpoint(Checkpoint("other.example/ledger", 3, bytes(32)))
    signed = note.sign(body, log_key()[0])
    with pytest.raises(VerificationError, match=r"origin 'other\.example/ledger' is not a log"):
        verify_checkpoint(signed, parse_policy(f"log {log_key()[1]}\nquorum none\n"))


def test_a_policy_with_several_logs_accepts_each() -> None:
    second = "second.example/ledger"
    policy = parse_policy(f"log {log_key()[1]}\nlog {log_key(second)[1]}\nquorum none\n")
    body = format_checkpoint(Checkpoint(second, 1, bytes(32)))
    assert verify_checkpoint(cosigned(body=body, log=second), policy).checkpoint.origin == second
    assert verify_checkpoint(cosigned(), policy).checkpoint.origin == ORIGIN
