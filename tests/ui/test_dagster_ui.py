"""The Dagster UI checked as a person would: a real headless Chromium against `dagster-webserver`.

`gim demo` runs once into a temporary state directory; the webserver then serves the code location
against that demo's Dagster instance, and Playwright drives Debian's Chromium (never a browser Playwright
downloads) through the asset graph, the tenant partitions' materialization metadata and a re-export backfill
up to today, launched in the UI and carried out by a `dagster-daemon` started for it.

Screenshots go to a temporary directory outside the repository; their paths are printed (`pytest -s`).
The test skips with a reason where Playwright or Chromium is missing (CI installs both).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gim_dagster.stack import LocalStack, free_port

try:
    from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - CI installs playwright with the test extras
    sync_playwright = None

ROOT = Path(__file__).parents[2]
TENANT = "acme"
STAGES = (
    "gca_snapshot",
    "gsp_microbatch",
    "infomart_load",
    "infomart_aggregates",
    "infomart_maintenance",
    "gim_export",
)
# What the machine notes say works for Debian's Chromium here (closed network, running as root).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000
WEBSERVER = [sys.executable, "-m", "dagster_webserver", "-m", "gim_dagster.definitions"]


def _chromium() -> str | None:
    """Debian's Chromium (or GIM_UI_CHROMIUM); Playwright's own browser download fails on CI machines."""
    for candidate in (os.environ.get("GIM_UI_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = _chromium()
pytestmark = [
    pytest.mark.skipif(
        sync_playwright is None, reason="playwright is not installed (pip install playwright)"
    ),
    pytest.mark.skipif(
        CHROMIUM is None, reason="no Chromium at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]


# ---- the demo instance and its webserver ----------------------------------------------------------------
@dataclass(frozen=True)
class DemoUI:
    url: str
    tenants: list[str]
    shots: Path
    state: Path
    env: dict[str, str]
    """The environment the webserver runs in (the stack's connections and DAGSTER_HOME)."""


def _graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any] | None:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{url}/graphql", data=body, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except OSError:
        return None


def _asset_names(url: str) -> set[str]:
    answer = _graphql(url, "{ assetNodes { assetKey { path } } }") or {}
    nodes = (answer.get("data") or {}).get("assetNodes") or []
    return {"/".join(node["assetKey"]["path"]) for node in nodes}


def _run_demo(env: dict[str, str]) -> list[str]:
    """A small `gim demo`; its reconciliation may report differences, which this test does not judge."""
    argv = [sys.executable, "-m", "gim_dagster.cli", "demo", "--hours", "1", "--agents", "8"]
    argv += ["--calls-per-hour", "40", "--json", "--no-metrics"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.stdout.strip(), (
        f"gim demo printed nothing (exit {result.returncode}):\n{result.stderr[-4000:]}"
    )
    summary = json.loads(result.stdout)
    tenants = [t["tenant"] for t in summary["tenants"]]
    assert TENANT in tenants, summary
    return tenants


@pytest.fixture(scope="module")
def demo_ui() -> Iterator[DemoUI]:
    # Outside pytest's rotating tmp dirs: a concurrent pytest session could delete a live PostgreSQL's data.
    state = Path(tempfile.mkdtemp(prefix="gim-ui-state-"))
    shots = Path(tempfile.mkdtemp(prefix="gim-ui-screenshots-"))
    settings = str(ROOT / "gim.yaml")
    env = {**os.environ, "GIM_STATE_DIR": str(state), "GIM_SETTINGS": settings}
    stack = LocalStack(state)
    web: subprocess.Popen[bytes] | None = None
    log = state / "webserver.log"
    output = ""
    try:
        began = time.monotonic()
        tenants = _run_demo(env)
        print(f"\ngim demo: {time.monotonic() - began:.0f} s, tenants {tenants}")
        web_env = {**env, **stack.environment()}
        port = free_port()
        with log.open("wb") as out:
            web = subprocess.Popen(
                [*WEBSERVER, "-h", "127.0.0.1", "-p", str(port)],
                env=web_env,
                cwd=state,
                start_new_session=True,  # its own process group: the code server it spawns goes with it
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while not set(STAGES) <= _asset_names(url):
            assert web.poll() is None, f"dagster-webserver exited:\n{log.read_text(errors='replace')[-3000:]}"
            assert time.monotonic() < deadline, (
                f"no assets served:\n{log.read_text(errors='replace')[-3000:]}"
            )
            time.sleep(1)
        print(f"dagster-webserver: {url} (ready {time.monotonic() - began:.0f} s after the demo began)")
        print(f"screenshots: {shots}")
        yield DemoUI(url=url, tenants=tenants, shots=shots, state=state, env=web_env)
    finally:
        if web is not None:
            _stop(web)
        stack.down()
        output = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(state, ignore_errors=True)
    assert "Exception in ASGI application" not in output, output[-3000:]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass


# ---- the browser ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(demo_ui: DemoUI) -> Iterator[BrowserContext]:
    assert sync_playwright is not None and CHROMIUM is not None
    profile = tempfile.mkdtemp(prefix="gim-ui-chromium-")  # a fresh --user-data-dir
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                args=CHROMIUM_FLAGS,
                headless=True,
                viewport={"width": 1600, "height": 1000},
            )
            context.set_default_timeout(TIMEOUT_MS)
            try:
                _skip_community_dialog(context, demo_ui)
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _skip_community_dialog(context: BrowserContext, demo_ui: DemoUI) -> None:
    """Dagster OSS greets a new instance with a "Join the Dagster community" dialog; a person clicks Skip.

    The dialog opens a second after any page loads, until it is dismissed (in the browser's storage and on
    the server), so it could open over a menu a test has just opened, and skipping it would close the menu.
    It is skipped here once, before any test, whenever the webserver says it is still to be shown.
    """
    answer = _graphql(demo_ui.url, "{ shouldShowNux }") or {}
    if not (answer.get("data") or {}).get("shouldShowNux"):
        return
    page = context.new_page()
    try:
        page.goto(demo_ui.url + "/")
        dialog = page.get_by_role("dialog").filter(has_text="Join the Dagster community")
        dialog.get_by_role("button", name="Skip").click()
        expect(dialog).to_be_hidden()
        print("dismissed the 'Join the Dagster community' dialog")
    finally:
        page.close()


@pytest.fixture()
def page(browser: BrowserContext, demo_ui: DemoUI) -> Iterator[Page]:
    page = browser.new_page()

    # Should the community dialog open after all (see _skip_community_dialog), a person clicks Skip.
    def skip() -> None:
        print("dismissed the 'Join the Dagster community' dialog")
        page.get_by_role("button", name="Skip").click()

    page.add_locator_handler(page.get_by_text("Join the Dagster community"), skip)
    try:
        yield page
    finally:
        page.close()


def _open(page: Page, demo_ui: DemoUI, path: str) -> None:
    page.goto(demo_ui.url + path)


def _shot(page: Page, demo_ui: DemoUI, name: str) -> Path:
    path = demo_ui.shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


# ---- the checks ----------------------------------------------------------------------------------------
ASSETS = (*STAGES, "infomart_reports", "gim_reexport")
# What the definitions declare each asset depends on (`deps=`): the edges of the lineage graph.
LINEAGE = {
    "gca_snapshot": set(),
    "gsp_microbatch": {"gca_snapshot"},
    "infomart_load": {"gca_snapshot", "gsp_microbatch"},
    "infomart_aggregates": {"infomart_load"},
    "infomart_reports": {"infomart_aggregates"},
    "infomart_maintenance": {"infomart_load"},
    "gim_export": {"infomart_load"},
    "gim_reexport": {"gim_export"},
}
GROUPS = ("gca", "gsp", "gim", "export")
# The fields the UI's asset graph is built from: an edge for every dependency key and depended-by key.
LINEAGE_QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } dependedByKeys { path } } }"


def test_asset_catalog_and_graph_show_every_stage(page: Page, demo_ui: DemoUI) -> None:
    _open(page, demo_ui, "/assets")
    for name in ASSETS:
        # Each name is a link to its asset page. The link's text is middle-truncated to fit its column
        # (the full name is only measured), so the link is found by where it leads, not by what it shows.
        expect(page.locator(f'a[href="/assets/{name}"]').first).to_be_visible()
    # Tenant-partitioned assets show their partition status once it has loaded.
    expect(page.get_by_text(f"{len(demo_ui.tenants)} partitions").first).to_be_visible()
    _shot(page, demo_ui, "01-asset-catalog")

    # The global lineage graph starts with its groups collapsed; a person expands them from the graph's menu.
    _open(page, demo_ui, "/asset-groups")
    expect(page.get_by_role("button", name=re.compile("Materialize all"))).to_be_visible()
    graph = page.locator("svg").filter(has=page.locator("foreignObject")).first
    for group in GROUPS:  # a group box holds its full name as an attribute, whatever its zoom
        expect(graph.locator(f'[data-tooltip="{group}"]').first).to_be_visible()
    _expand_all_groups(page, graph)
    _shot(page, demo_ui, "02-asset-graph")

    # Every asset is a node of the graph: the sidebar's "Jump to…" offers exactly the graph's nodes, and
    # selecting one opens its panel beside the graph. (The node's own label may be middle-truncated at any
    # zoom, and zoomed out it is a minimal node whose name is only in a hover tooltip.)
    jump = page.get_by_placeholder("Jump to…")
    for name in ASSETS:
        jump.fill(name)
        page.get_by_role("menuitem", name=name, exact=True).click()
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
        catalog_link = page.get_by_role("link", name="View in Asset Catalog")
        expect(catalog_link).to_have_attribute("href", f"/assets/{name}")

    # The graph's edges come from each asset node's dependency keys: the served lineage is the declared one.
    answer = _graphql(demo_ui.url, LINEAGE_QUERY)
    assert answer is not None and "errors" not in answer, answer
    served = {"/".join(node["assetKey"]["path"]): node for node in answer["data"]["assetNodes"]}
    for name, upstream in LINEAGE.items():
        downstream = {child for child, parents in LINEAGE.items() if name in parents}
        node = served[name]
        assert {"/".join(key["path"]) for key in node["dependencyKeys"]} == upstream, (name, node)
        assert {"/".join(key["path"]) for key in node["dependedByKeys"]} == downstream, (name, node)


def _expand_all_groups(page: Page, graph: Locator) -> None:
    """Right-click the graph's empty canvas, pick "Expand all groups" and wait until the graph draws them.

    The click is a locator action on the canvas (its bottom-left corner, clear of the graph's groups and of
    the zoom controls at the bottom right): Playwright waits until the click would land on the canvas, and
    dismisses the community dialog first if it is in the way.
    """
    canvas = page.locator("[data-svg-viewport]")
    box = canvas.bounding_box()
    assert box is not None, "the asset graph has no canvas"
    canvas.click(button="right", position={"x": 16, "y": box["height"] - 16})
    page.get_by_role("menuitem", name=re.compile("Expand all groups")).click()
    # A collapsed group's box shows an "unfold_more" icon, an expanded group's header an "unfold_less" one.
    expect(graph.get_by_role("img", name="unfold_more")).to_have_count(0)
    expect(graph.get_by_role("img", name="unfold_less").first).to_be_visible()


def test_tenant_partition_shows_its_materialization_metadata(page: Page, demo_ui: DemoUI) -> None:
    # infomart_load: row counts per fact table and the facts topic's offsets, for this tenant's partition.
    _open(page, demo_ui, f"/assets/infomart_load?view=partitions&partition={TENANT}")
    expect(page.get_by_text("Latest materialization").first).to_be_visible()
    for key in ("records_read", "rows_inserted", "rows_updated", "offsets_from", "offsets_to", "audit_keys"):
        expect(page.get_by_text(key, exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(r'"interaction_fact": \d+')).first).to_be_visible()
    expect(page.get_by_text(re.compile(rf'"{TENANT}\.gsp\.facts\[0\]": \d+')).first).to_be_visible()
    # The demo's reconciliation against the simulator's ledger, recorded as an observation of the partition.
    expect(page.get_by_text("reconciliation_differences", exact=True).first).to_be_visible()
    for other in demo_ui.tenants:
        if other != TENANT:  # the page shows this tenant's offsets, not another's
            expect(page.get_by_text(f"{other}.gsp.facts[0]")).to_have_count(0)
    _shot(page, demo_ui, "03-infomart_load-acme")

    # GSP: what the micro-batch read from the tenant's raw topics, and what it dead-lettered.
    _open(page, demo_ui, f"/assets/gsp_microbatch?view=partitions&partition={TENANT}")
    for key in ("records", "dead_lettered", "checkpoint_id", "offsets", "facts_by_table"):
        expect(page.get_by_text(key, exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(rf'"{TENANT}\.voice\.events\[0\]"')).first).to_be_visible()
    _shot(page, demo_ui, "04-gsp_microbatch-acme")

    # GCA: the snapshot in S3 and the dimension rows it wrote for the tenant.
    _open(page, demo_ui, f"/assets/gca_snapshot?view=partitions&partition={TENANT}")
    for key in ("snapshot_id", "s3_key", "dimension_rows", "violations", "audit_key"):
        expect(page.get_by_text(key, exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(rf"tenants/{TENANT}/gca/snapshots/")).first).to_be_visible()
    _shot(page, demo_ui, "05-gca_snapshot-acme")

    # The load's reconciliation checks (referential integrity, contiguous offsets, …) with their results.
    _open(page, demo_ui, "/assets/infomart_load?view=checks")
    for check in ("referential_integrity", "offsets_contiguous", "audit_keys_present", "load_freshness"):
        expect(page.get_by_text(check, exact=True).first).to_be_visible()
    expect(page.get_by_text("Evaluation result")).to_be_visible()
    _shot(page, demo_ui, "06-infomart_load-checks")


BACKFILL_QUERY = """
query ($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      id status isAssetBackfill numPartitions partitionNames assetSelection { path }
    }
  }
}
"""


def test_reexport_backfill_over_a_span_up_to_today_runs_to_success(page: Page, demo_ui: DemoUI) -> None:
    today = datetime.now(UTC).date()  # today's data day is a partition: a re-export reaches the newest export
    days = [today - timedelta(days=n) for n in (2, 1, 0)]
    _open(page, demo_ui, "/assets/gim_reexport")
    page.get_by_role("button", name="Materialize…").first.click()
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize gim_reexport")
    expect(dialog.get_by_text("Partition selection")).to_be_visible()

    day_input = dialog.get_by_placeholder(re.compile(r"^ex:"))  # "ex: 2025-01-01, …, [2025-01-03...]"
    day_input.fill(f"[{days[0]:%Y-%m-%d}...{days[-1]:%Y-%m-%d}]")
    day_input.press("Enter")
    dialog.get_by_text("Select a partition or create one").click()
    tenant_item = page.get_by_role("menuitem", name=re.compile(rf"^{TENANT}\b"))
    tenant_item.click()
    dialog.get_by_text("Launch runs to materialize gim_reexport").click()  # close the tenant menu
    expect(tenant_item).to_be_hidden()
    expect(dialog.get_by_text(f"{len(days)} partitions", exact=True)).to_be_visible()
    _shot(page, demo_ui, "07-reexport-launch-dialog")

    dialog.get_by_role("button", name="Launch backfill").click()
    toast = page.get_by_text(re.compile(r"Created backfill \w+"))
    expect(toast).to_be_visible()
    match = re.search(r"Created backfill (\w+)", toast.inner_text())
    assert match, toast.inner_text()
    backfill_id = match.group(1)
    print(f"backfill launched in the UI: {backfill_id}")

    # The backfill's own page, as a person would follow the toast's link.
    _open(page, demo_ui, f"/runs/b/{backfill_id}")
    expect(page.get_by_text("gim_reexport", exact=True).first).to_be_visible()
    for day in days:
        expect(page.get_by_text(_partition(day), exact=True).first).to_be_visible()
    _shot(page, demo_ui, "08-reexport-backfill")

    # And the webserver's GraphQL API agrees: an asset backfill of gim_reexport over exactly those partitions.
    answer = _graphql(demo_ui.url, BACKFILL_QUERY, {"id": backfill_id})
    assert answer is not None and "errors" not in answer, answer
    backfill = answer["data"]["partitionBackfillOrError"]
    assert backfill["__typename"] == "PartitionBackfill", backfill
    assert backfill["isAssetBackfill"] and backfill["assetSelection"] == [{"path": ["gim_reexport"]}]
    assert sorted(backfill["partitionNames"]) == [_partition(day) for day in days], backfill
    assert backfill["numPartitions"] == len(days)

    # A daemon carries the backfill out (queue, runs); wait for the terminal state Dagster records for it.
    status = _run_backfill_to_its_end(demo_ui, backfill_id)
    assert status == "COMPLETED_SUCCESS", status
    answer = _graphql(demo_ui.url, MATERIALIZATIONS_QUERY, {"partitions": [_partition(day) for day in days]})
    assert answer is not None and "errors" not in answer, answer
    done = {m["partition"] for m in answer["data"]["assetOrError"]["assetMaterializations"]}
    assert done == {_partition(day) for day in days}, done
    _open(page, demo_ui, f"/runs/b/{backfill_id}")
    _shot(page, demo_ui, "09-reexport-backfill-completed")


MATERIALIZATIONS_QUERY = """
query ($partitions: [String!]) {
  assetOrError(assetKey: {path: ["gim_reexport"]}) {
    ... on Asset { assetMaterializations(partitions: $partitions) { partition } }
  }
}
"""


TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def _run_backfill_to_its_end(demo_ui: DemoUI, backfill_id: str) -> str:
    """Start `dagster-daemon run` on the demo's instance until the backfill reaches a terminal status."""
    log = demo_ui.state / "daemon.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "dagster._daemon", "run", "-m", "gim_dagster.definitions"],
            env=demo_ui.env,
            cwd=demo_ui.state,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 600  # a bound on a broken daemon, not a timing assumption
        while True:
            answer = _graphql(demo_ui.url, BACKFILL_QUERY, {"id": backfill_id})
            status = (answer or {}).get("data", {}).get("partitionBackfillOrError", {}).get("status")
            if status in TERMINAL:
                return str(status)
            assert daemon.poll() is None, f"dagster-daemon exited:\n{log.read_text(errors='replace')[-3000:]}"
            assert time.monotonic() < deadline, f"backfill {backfill_id} still {status}"
            time.sleep(1)
    finally:
        _stop(daemon)


def _partition(day: date) -> str:
    """A gim_reexport partition key as Dagster writes multi-partition keys: dimensions in name order."""
    return f"{day:%Y-%m-%d}|{TENANT}"
