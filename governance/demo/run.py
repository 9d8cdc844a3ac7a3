"""The bundled demo: German credit data, two model versions, audits through the register, an approval, a site.

The story it tells: version 1.0.0 uses the applicant's sex as a feature; its audit flags the female-to-male
selection-rate ratio (about 0.76, below the four-fifths screen) and fails because sex is among the model's top
features, so the approval guard refuses it. Version 1.1.0 drops that feature; its audit is inconclusive for the
youngest age band, and a second person (the risk officer) approves it with a recorded risk acceptance before it
is deployed. A simulated year of its decisions after go-live, in which the approval rate of women drifts from
the eighth month, is monitored in daily windows and raises alerts. Everything runs on a
fixed clock with audit ids from the inputs instead of chance, so re-running the demo reproduces the same audit
folders.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from governance.paths import demo_data
from governance.provenance import set_clock
from governance.register.records import ModelDescription
from governance.results.commands import options_worded
from governance.workspace import Workspace

MODEL_NAME = "credit-risk"
HIRING_MODEL = "resume-screen"
HIRING_VERSION = "2026.1"
HR_LEAD = "hana@example.com"
EEO1_RACE = {  # EEO-1 race/ethnicity categories and their shares in the synthetic applicant pool
    "Hispanic or Latino": 0.18,
    "White": 0.52,
    "Black or African American": 0.13,
    "Native Hawaiian or Pacific Islander": 0.01,
    "Asian": 0.09,
    "American Indian or Alaska Native": 0.01,
    "Two or more races": 0.06,
}
DATA_SCIENTIST = "ana@example.com"
RISK_OFFICER = "ravi@example.com"
DEMO_START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
RISK_ACCEPTANCE = (
    "The audit could not decide the four-fifths screen for applicants under 25 on 300 holdout cases. "
    "Credit officers review every refusal; the model is re-audited on three months of live decisions."
)
CREDIT_DESCRIPTION = ModelDescription(
    owner=DATA_SCIENTIST,
    purpose="Scores consumer credit applications as good or bad risk, to support the credit officer's decision.",
    intended_use="Decision support for consumer loans up to EUR 20,000; a credit officer reviews every refusal.",
    restrictions="Not for employment, insurance or tenancy decisions; not for applicants under 18.",
    decision_domain="credit",
    risk_tier="high",
    is_aedt=False,
    is_annex_iii_high_risk=True,
    solely_automated=False,
)
HIRING_DESCRIPTION = ModelDescription(
    owner=HR_LEAD,
    purpose="A vendor's résumé screen that decides who is advanced to a first interview.",
    intended_use="First screen of applications for analyst, associate and teller roles; recruiters see every rejection.",
    restrictions="Not for promotion or termination decisions.",
    decision_domain="employment",
    risk_tier="high",
    is_aedt=True,
    is_annex_iii_high_risk=True,
    solely_automated=False,
)
AGE_BANDS = ((0, 25, "under 25"), (25, 35, "25-34"), (35, 50, "35-49"), (50, 200, "50 and over"))


@dataclass
class DemoReport:
    """What the demo did, for the command to print."""

    steps: list[str] = field(default_factory=list)
    verdicts: dict[str, str] = field(default_factory=dict)
    exit_codes: dict[str, int] = field(default_factory=dict)
    audit_folders: dict[str, Path] = field(default_factory=dict)
    site_dir: Path | None = None


class _StepClock:
    """A clock that moves forward a few minutes at every reading: a plausible, reproducible timeline."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        self.current += timedelta(minutes=7)
        return self.current


def age_band(age: int) -> str:
    """The demo's age bands, a sensitive attribute derived from age."""
    for low, high, label in AGE_BANDS:
        if low <= age < high:
            return label
    return "unknown"


def prepare_data(folder: Path) -> tuple[Any, Any, Path]:
    """Split the bundled data 70/30 (stratified, seed 0); write the holdout with an age band column."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(demo_data())
    train, test = train_test_split(frame, test_size=0.3, stratify=frame["risk"], random_state=0)
    holdout = test.copy()
    holdout.insert(0, "applicant_id", [f"A{index:04d}" for index in holdout.index])
    holdout["age_band"] = holdout["age"].map(age_band)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "german-credit-holdout.csv"
    holdout.to_csv(path, index=False)
    return train, holdout, path


def train_model(train: Any, features: list[str]) -> Any:
    """A logistic regression with one-hot categoricals and scaled numerics."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = [name for name in features if not pd.api.types.is_numeric_dtype(train[name])]
    numeric = [name for name in features if name not in categorical]
    pipeline = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                        ("numeric", StandardScaler(), numeric),
                    ]
                ),
            ),
            ("model", LogisticRegression(max_iter=1000)),
        ]
    )
    return pipeline.fit(train[features], train["risk"])


def demo_workspace(start: str | Path | None = None) -> tuple[Workspace, bool]:
    """The workspace to run the demo in; outside one, ``governance init`` is run first (True when it was)."""
    from governance.scaffold import init_workspace
    from governance.workspace import CONFIG_NAME, find_workspace

    space = find_workspace(start)
    if (space.root / CONFIG_NAME).is_file():
        return space, False
    init_workspace(space.root)
    return find_workspace(space.root), True


def _train_versions(root: Path, report: DemoReport) -> tuple[dict[str, list[str]], Path]:
    """Two versions of the credit model (the second without ``sex``), saved as skops files; the holdout's path."""
    from governance.intake.model_files import save_model

    demo_dir = root / "demo"
    train, _holdout, holdout_path = prepare_data(demo_dir)
    all_features = [c for c in train.columns if c != "risk"]
    versions = {
        "1.0.0": all_features,
        "1.1.0": [c for c in all_features if c != "sex"],
    }
    (demo_dir / "models").mkdir(parents=True, exist_ok=True)
    for version, features in versions.items():
        save_model(train_model(train, features), demo_dir / "models" / f"{MODEL_NAME}-{version}.skops")
    report.steps.append(
        f"Trained two logistic regressions on {len(train)} applicants; holdout of 300 in {holdout_path.relative_to(root)}."
    )
    return versions, holdout_path


def _reset_demo(workspace: Workspace) -> None:
    """Start from an empty demo register and without the demo models' audits."""
    register_file = workspace.state_dir / "register.db"
    if workspace.register_url.startswith("sqlite") and register_file.exists():
        register_file.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{register_file}{suffix}").unlink(missing_ok=True)
    for name in (MODEL_NAME, HIRING_MODEL):
        shutil.rmtree(workspace.audits_dir / name, ignore_errors=True)


def _approve(register: Any, report: DemoReport, version: str, verdict: str) -> bool:
    """The risk officer approves; a refused inconclusive audit is approved with a recorded risk acceptance.

    Returns whether the version was approved (a failed one is not).
    """
    from functools import partial

    from governance.errors import GuardError
    from governance.results.commands import cli_message

    approve = partial(register.approve, MODEL_NAME, version, role="risk-officer", actor=RISK_OFFICER)
    try:
        approve(comment="Reviewed the audit report, the model card and the checklist.")
        report.steps.append(f"Approved {version} as risk officer ({RISK_OFFICER}).")
        return True
    except GuardError as refusal:
        report.steps.append(f"Approval of {version} refused: {cli_message(refusal)}")
        if verdict != "inconclusive":
            return False
    # Inconclusive, not failed: the risk officer may accept the residual risk, on the record.
    approve(
        comment="Approved for decision support only, with a human review of every refusal.",
        risk_acceptance=RISK_ACCEPTANCE,
    )
    report.steps.append(
        f"Approved {version} with a recorded risk acceptance ({RISK_OFFICER}): {RISK_ACCEPTANCE}"
    )
    return True


def _release_version(
    register: Any,
    workspace: Workspace,
    report: DemoReport,
    version: str,
    features: list[str],
    holdout_path: Path,
    *,
    explain_budget: float,
    n_boot: int | None,
    echo: Callable[[str], None],
) -> None:
    """Register one version of the credit model, audit it, and approve and deploy it where the audit allows."""
    from governance.audit.registered import audit_registered

    root = workspace.root
    artefact = root / "demo" / "models" / f"{MODEL_NAME}-{version}.skops"
    register.add_version(
        MODEL_NAME,
        version,
        artifact_path=str(artefact.relative_to(root)),
        actor=DATA_SCIENTIST,
        framework="scikit-learn",
        features=features,
        training_data_description="Statlog German credit data (UCI), 700 applicants (70 % stratified split, seed 0).",
    )
    echo(f"Auditing {MODEL_NAME}@{version} ...")
    outcome = audit_registered(
        f"{MODEL_NAME}@{version}",
        actor=DATA_SCIENTIST,
        workspace=workspace,
        data=holdout_path,
        target="risk",
        sensitive=["sex", "age_band"],
        features=features,
        id_column="applicant_id",
        policy="default",
        explain_budget=explain_budget,
        n_boot=n_boot,
        reproducible_id=True,
        command_line=f"governance audit {MODEL_NAME}@{version} --data {holdout_path.relative_to(root)} "
        f"--target risk --sensitive sex --sensitive age_band --id applicant_id",
    )
    result = outcome.result
    _note_outcome(report, f"{MODEL_NAME}@{version}", outcome)
    report.steps.append(f"Audited {version}: {options_worded(result.policy.summary)}")
    if not _approve(register, report, version, result.policy.verdict):
        return
    register.deploy(MODEL_NAME, version, actor=DATA_SCIENTIST, reason="Go-live after approval.")
    report.steps.append(f"Deployed {version}.")


def run_demo(
    workspace: Workspace,
    *,
    build_site: bool = True,
    explain_budget: float = 30.0,
    n_boot: int | None = None,
    echo: Callable[[str], None] = print,
    mitigate: bool = True,
) -> DemoReport:
    """Run the whole demo in ``workspace`` (its demo register and demo audits are reset first).

    ``mitigate`` builds candidates for the failing 1.0.0 at the end and approves the best one (``governance demo
    --no-mitigate`` leaves them out)."""
    from governance.register import Register

    report = DemoReport()
    clock = _StepClock(DEMO_START)
    set_clock(clock)
    register: Register | None = None
    try:
        root = workspace.root
        versions, holdout_path = _train_versions(root, report)
        _reset_demo(workspace)
        register = Register.for_workspace(workspace)
        register.add_model(MODEL_NAME, CREDIT_DESCRIPTION, actor=DATA_SCIENTIST)
        report.steps.append(
            f"Registered the model '{MODEL_NAME}' (owner {DATA_SCIENTIST}; high-risk under EU AI Act Annex III 5(b))."
        )

        for version, features in versions.items():
            _release_version(
                register,
                workspace,
                report,
                version,
                features,
                holdout_path,
                explain_budget=explain_budget,
                n_boot=n_boot,
                echo=echo,
            )

        _answer_checklist(register, workspace, report)
        _vendor_hiring_tool(register, workspace, report, echo)
        _year_after_go_live(workspace, report, echo, versions["1.1.0"])
        set_clock(clock)
        if mitigate:
            from governance.demo.mitigation import DemoModel, mitigation_step

            demo = DemoModel(MODEL_NAME, DATA_SCIENTIST, RISK_OFFICER, prepare_data)
            mitigation_step(workspace, report.steps, echo, demo, explain_budget=explain_budget)
        if build_site:
            from governance.site import build_site as build

            built = build(workspace)
            report.site_dir = built.site_dir or root / "site"
            report.steps.append(f"Built the site: {report.site_dir / 'index.html'}")
    finally:
        set_clock(None)
        if register is not None:
            register.close()
    return report


def _year_after_go_live(
    workspace: Workspace, report: DemoReport, echo: Callable[[str], None], features: list[str]
) -> None:
    """A simulated year of decisions by the deployed version, monitored in daily windows (see demo.monitoring)."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from governance.demo.monitoring import DRIFT_MONTH, make_decision_log, monitor_demo

    frame = pd.read_csv(demo_data())
    train, _test = train_test_split(
        frame, test_size=0.3, stratify=frame["risk"], random_state=0
    )  # as prepare_data
    model = train_model(train, features)  # the deployed version's model, trained again (deterministic)
    holdout = pd.read_csv(workspace.root / "demo" / "german-credit-holdout.csv")
    log = make_decision_log(workspace.root / "demo", model, holdout, features)
    echo(f"Monitoring {MODEL_NAME}@1.1.0 on a simulated year of daily decisions ...")
    result = monitor_demo(workspace, log, actor=DATA_SCIENTIST, version="1.1.0")
    first = result.alerts[0].window_start[:10] if result.alerts else None
    report.steps.append(
        f"Monitored {MODEL_NAME}@1.1.0 on a simulated year of daily decisions ({log.relative_to(workspace.root)}; "
        f"women's approvals drift from month {DRIFT_MONTH}): {len(result.alerts)} alert(s)"
        + (f", the first on {first}; `governance status` lists the version." if first else ".")
    )


def _note_outcome(report: DemoReport, reference: str, outcome: Any) -> None:
    report.verdicts[reference] = outcome.result.policy.verdict
    report.exit_codes[reference] = outcome.exit_code
    if outcome.folder is not None:
        report.audit_folders[reference] = outcome.folder


def make_hiring_log(folder: Path, *, rows: int = 1500, seed: int = 2026) -> Path:
    """A synthetic decision log of a vendor's résumé screen: who was advanced to interview, with demographics.

    Generated, not real: sex and EEO-1 race/ethnicity with a few missing answers, and advancement rates that
    differ a little by group, so that the NYC Local Law 144 tables have something to show.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=rows, p=[0.47, 0.53]).astype(object)
    race = rng.choice(list(EEO1_RACE), size=rows, p=list(EEO1_RACE.values())).astype(object)
    sex[rng.random(rows) < 0.03] = None
    race[rng.random(rows) < 0.04] = None
    rate = np.full(rows, 0.34) - 0.05 * (sex == "female")
    rate -= 0.06 * np.isin(race, ["Black or African American", "Hispanic or Latino"])
    advanced = (rng.random(rows) < rate).astype(int)
    log = pd.DataFrame(
        {
            "applicant_id": [f"J{index:05d}" for index in range(rows)],
            "requisition": rng.choice(["analyst", "associate", "teller"], size=rows),
            "advanced": advanced,
            "sex": sex,
            "race_ethnicity": race,
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "resume-screen-decisions.csv"
    log.to_csv(path, index=False)
    return path


def _vendor_hiring_tool(
    register: Any, workspace: Workspace, report: DemoReport, echo: Callable[[str], None]
) -> None:
    """A vendor's résumé screen, audited from its decisions alone (it cannot be loaded), in the LL144 format."""
    import json

    from governance.audit.registered import audit_registered

    root = workspace.root
    folder = root / "demo" / "vendor"
    log = make_hiring_log(folder)
    sheet = folder / f"{HIRING_MODEL}-{HIRING_VERSION}.json"
    sheet.write_text(
        json.dumps(
            {
                "vendor": "Acme Talent (fictional)",
                "product": "ResumeRank",
                "version": HIRING_VERSION,
                "output": "advance to interview: yes or no",
                "documentation": "vendor data sheet, received 2026-10-20",
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    register.add_model(HIRING_MODEL, HIRING_DESCRIPTION, actor=HR_LEAD)
    register.add_version(
        HIRING_MODEL,
        HIRING_VERSION,
        artifact_path=str(sheet.relative_to(root)),
        actor=HR_LEAD,
        framework="vendor (not loadable)",
        training_data_description="Unknown: a vendor model; audited on its own decision log.",
    )
    echo(f"Auditing {HIRING_MODEL}@{HIRING_VERSION} from its decision log ...")
    outcome = audit_registered(
        f"{HIRING_MODEL}@{HIRING_VERSION}",
        actor=DATA_SCIENTIST,
        workspace=workspace,
        data=log,
        predictions="advanced",
        sensitive=["sex", "race_ethnicity"],
        id_column="applicant_id",
        policy="nyc-ll144",
        reproducible_id=True,
        command_line=f"governance audit {HIRING_MODEL}@{HIRING_VERSION} --data {log.relative_to(root)} "
        "--predictions advanced --sensitive sex --sensitive race_ethnicity --id applicant_id --policy nyc-ll144",
    )
    _note_outcome(report, f"{HIRING_MODEL}@{HIRING_VERSION}", outcome)
    report.steps.append(
        f"Audited the vendor's {HIRING_MODEL}@{HIRING_VERSION} from {len(outcome.result.fairness.attributes)} "
        f"impact-ratio tables: {options_worded(outcome.result.policy.summary)}"
    )
    # LL144 sets no pass mark, so the audit is only reported: approval records the review as a risk acceptance.
    register.approve(
        HIRING_MODEL,
        HIRING_VERSION,
        role="risk-officer",
        actor=RISK_OFFICER,
        comment="LL144 tables reviewed; the independent auditor's sign-off is filed with HR.",
        risk_acceptance="NYC LL144 sets no pass mark: the impact-ratio tables were reviewed with the "
        "independent auditor, and recruiters review every rejection.",
    )
    register.deploy(
        HIRING_MODEL, HIRING_VERSION, actor=HR_LEAD, reason="In use from the published distribution date."
    )
    report.steps.append(
        f"Approved and deployed {HIRING_MODEL}@{HIRING_VERSION}; its NYC LL144 summary page is on the site."
    )


def _answer_checklist(register: Any, workspace: Workspace, report: DemoReport) -> None:
    """A few human checklist answers, as the risk officer would give them (item ids checked against the lists)."""
    from governance.checklists.loading import find_item, load_checklists
    from governance.paths import bundled_policies

    folder = workspace.policies_dir / "checklists"
    checklists = load_checklists(folder if folder.is_dir() else bundled_policies() / "checklists")
    answers = [
        (
            "eu-ai-act",
            "eu-ai-act.art14.oversight-design",
            "yes",
            "Every refusal is reviewed by a credit officer, who can override the score (credit procedure CP-7).",
        ),
        (
            "gdpr",
            "gdpr.art22.safeguards",
            "yes",
            "Decisions are not solely automated; applicants can contest a refusal and ask for a human review.",
        ),
    ]
    for framework, item, status, evidence in answers:
        find_item(checklists, item)
        register.record_checklist_answer(
            MODEL_NAME,
            framework=framework,
            item_id=item,
            status=status,
            evidence=evidence,
            actor=RISK_OFFICER,
        )
    report.steps.append(f"Recorded {len(answers)} checklist answers from the risk officer.")
