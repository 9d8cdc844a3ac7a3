"""Random sequences of audits, approvals, rejections and transitions against a small reference model.

Hypothesis drives the real register (SQLite and PostgreSQL), one new model per example; after every step the
version's state must be what the rules in the issue predict, a refusal must leave no trace, and at the end of
each example the whole chain must verify. (Checked to fail when a guard is removed from lifecycle.py.)
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from register_support import People, write_audit_file

from governance.errors import GuardError
from governance.register import Register

PEOPLE = ["ds@x", "aud@x", "boss@x", "cfo@x"]  # ds@x registered the version


def machine_for(registers: dict[str, Register], workspace: Path) -> type[RuleBasedStateMachine]:
    """``registers``: the register as each person connects to it (their own database role on PostgreSQL)."""
    register = registers["ds@x"]

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.register = register
            self.name = f"m-{uuid.uuid4().hex[:8]}"
            register.add_model(self.name, owner="o", purpose="p", actor="ds@x")
            self.sha = register.add_version(
                self.name, "1", artifact_path=workspace / "models" / "credit.skops", actor="ds@x"
            ).sha256
            self.state = "draft"
            self.audits: list[tuple[str, str]] = []  # (verdict, auditor)
            self.events = 2

        def attempt(self, allowed: bool, action: object) -> None:
            try:
                action()  # type: ignore[operator]
            except GuardError:
                assert not allowed, "a change the rules allow was refused"
            else:
                assert allowed, "a change the rules forbid went through"
                self.events += 1

        @rule(verdict=st.sampled_from(["passed", "failed", "inconclusive"]), auditor=st.sampled_from(PEOPLE))
        def audit(self, verdict: str, auditor: str) -> None:
            identifier = uuid.uuid4().hex
            path = write_audit_file(workspace, identifier)
            allowed = self.state != "retired"
            self.attempt(
                allowed,
                lambda: registers[auditor].record_audit(
                    self.name,
                    "1",
                    audit_id=identifier,
                    audit_json_path=path,
                    verdict=verdict,
                    policy_name="p",
                    policy_sha256="p",
                    data_sha256="d",
                    artifact_sha256=self.sha,
                    tool_versions={},
                    actor=auditor,
                    max_age_days=None,
                ),
            )
            if allowed:
                self.audits.append((verdict, auditor))
                self.state = "audited" if self.state == "draft" else self.state
            else:  # as `governance audit` does: a refused audit's folder goes (else verify reports an orphan)
                shutil.rmtree(path.parent)

        @rule(approver=st.sampled_from(PEOPLE), accept_risk=st.booleans())
        def approve(self, approver: str, accept_risk: bool) -> None:
            latest = self.audits[-1] if self.audits else None
            allowed = (
                self.state != "retired"
                and latest is not None
                and (accept_risk or all(verdict == "passed" for verdict, _ in self.audits))
                and approver not in (latest[1], "ds@x")
            )
            self.attempt(
                allowed,
                lambda: registers[approver].approve(
                    self.name,
                    "1",
                    role="risk-officer",
                    actor=approver,
                    risk_acceptance="accepted" if accept_risk else None,
                ),
            )
            if allowed and self.state in ("audited", "suspended"):
                self.state = "approved"

        @rule(person=st.sampled_from(PEOPLE))
        def reject(self, person: str) -> None:
            allowed = self.state != "retired"
            self.attempt(
                allowed,
                lambda: registers[person].approve(self.name, "1", role="r", actor=person, decision="reject"),
            )
            if allowed and self.state == "approved":
                self.state = "audited"

        @rule(action=st.sampled_from(["deploy", "suspend", "retire"]))
        def transition(self, action: str) -> None:
            sources = {
                "deploy": {"approved"},
                "suspend": {"audited", "approved", "deployed"},
                "retire": {"draft", "audited", "approved", "deployed", "suspended"},
            }[action]
            allowed = self.state in sources
            self.attempt(allowed, lambda: getattr(self.register, action)(self.name, "1", actor="ops@x"))
            if allowed:
                self.state = {"deploy": "deployed", "suspend": "suspended", "retire": "retired"}[action]

        @invariant()
        def state_and_log_match(self) -> None:
            assert self.register.resolve_version(self.name, "1").state == self.state
            assert len(self.register.history(self.name)) == self.events

        def teardown(self) -> None:
            report = self.register.verify()
            assert report.ok, report.problems

    return Lifecycle


def test_random_lifecycles_follow_the_rules(register: Register, workspace: Path, people: People) -> None:
    registers = {person: people.register(person.split("@")[0]) for person in PEOPLE if person != "ds@x"}
    run_state_machine_as_test(
        machine_for({"ds@x": register, **registers}, workspace),
        # no shrinking: replaying hundreds of database steps takes minutes; the failing run is printed anyway
        settings=settings(
            max_examples=30,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
