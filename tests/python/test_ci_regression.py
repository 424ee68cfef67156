"""docs/ci-regression.md works as written: its baseline refresh and every `build/bsnpu` line of its
GitHub Actions and GitLab CI pipelines run unchanged (BSNPU_IMAGES=16 in place of 1,000) in a
scratch checkout, pass against the fresh baseline, and an injected regression makes the same
`regress` line exit 1 naming the metric, in the JUnit and Markdown files too."""

import json
import os
import re
import subprocess

import pytest

from conftest import REPO_ROOT

DOC = os.path.join(REPO_ROOT, "docs", "ci-regression.md")
BSNPU = os.path.join(REPO_ROOT, "build", "bsnpu")


def blocks(language):
    with open(DOC) as f:
        text = f.read()
    return [body for lang, body in re.findall(r"```(\w+)\n(.*?)```", text, re.S) if lang == language]


def bsnpu_lines(block):
    """The build/bsnpu command lines of a shell or YAML block (a YAML `- ` item or `run: ` value)."""
    lines = []
    for line in block.splitlines():
        line = line.strip()
        for prefix in ("- ", "run: "):
            if line.startswith(prefix):
                line = line[len(prefix):]
        if line.startswith("build/bsnpu "):
            lines.append(line)
    return lines


@pytest.fixture
def checkout(tmp_path, data_dir):
    assert os.access(BSNPU, os.X_OK), f"{BSNPU} missing: run 'bash scripts/setup.sh'"
    os.symlink(os.path.join(REPO_ROOT, "build"), tmp_path / "build")
    os.symlink(os.path.join(REPO_ROOT, "configs"), tmp_path / "configs")
    os.symlink(data_dir, tmp_path / "cifar-10-batches-bin")
    (tmp_path / "ci").mkdir()
    tolerances = [body for body in blocks("json") if "bsnpu-tolerances" in body]
    assert len(tolerances) == 1
    (tmp_path / "ci" / "bsnpu-tolerances.json").write_text(tolerances[0])
    return tmp_path


def run(line, cwd):
    env = dict(os.environ, BSNPU_IMAGES="16", GITHUB_STEP_SUMMARY=str(cwd / "summary.md"))
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_pipelines_as_documented(checkout):
    refresh = [line for block in blocks("sh") for line in bsnpu_lines(block) if "--out ci/bsnpu-baseline.json" in line]
    review = [line for block in blocks("sh") for line in bsnpu_lines(block) if line.startswith("build/bsnpu compare")]
    github, gitlab = (bsnpu_lines(block) for block in blocks("yaml"))
    assert len(refresh) == 1 and len(review) == 1
    assert [line.split()[1] for line in github] == ["run", "compare", "regress"]
    assert [line.split()[1] for line in gitlab] == ["run", "regress"]

    r = run(refresh[0], checkout)
    assert r.returncode == 0, r.stderr
    for pipeline in (github, gitlab):
        for line in pipeline:
            r = run(line, checkout)
            assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
        assert "bsnpu regress: pass: 40 checks" in r.stdout
        junit = (checkout / "regress.xml").read_text()
        assert 'tests="40" failures="0"' in junit
        assert (checkout / "regress.md").read_text().startswith("### bsnpu regress: pass")
    summary = (checkout / "summary.md").read_text()
    assert "### bsnpu compare: run reports" in summary and "#### k=8" in summary

    # A change that makes k = 8 10 % slower: the same gate line fails and names it.
    with open(checkout / "new.json") as f:
        report = json.load(f)
    k8 = report["results"][-1]
    assert k8["bits"] == 8
    k8["cycles"] = round(k8["cycles"] * 1.1)
    k8["accuracy_per_mcycle"] = k8["accuracy"] / (k8["cycles"] / 1e6)
    with open(checkout / "new.json", "w") as f:
        json.dump(report, f)
    r = run(github[-1], checkout)
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(r"^FAIL k=8 cycles: baseline \d+, new \d+, delta \+10\.00 %, tolerance 1\.00 %$", r.stdout, re.M)
    assert re.search(r"^FAIL k=8 accuracy_per_mcycle: ", r.stdout, re.M)
    assert "bsnpu regress: REGRESSION: 2 of 40 checks failed" in r.stdout
    junit = (checkout / "regress.xml").read_text()
    assert 'tests="40" failures="2"' in junit
    assert '<testcase classname="bsnpu.regress.k8" name="cycles" time="0">\n      <failure ' in junit
    assert "| 8 | cycles |" in (checkout / "regress.md").read_text()

    r = run(review[0], checkout)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\| cycles \| cycles \| \d+ \| \d+ \| \+\d+ \| 1\.1x \|$", r.stdout, re.M)
