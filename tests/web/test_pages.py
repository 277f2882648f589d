"""A clerk's session in a real browser (Debian's chromium, driven by Playwright) against
``fjordsync web`` over the demo's sandboxes: log in, see the demo's runs, open a run's problems
grouped by cause and filter its records, check a flow, save a plan, apply it, and find the
change in SmartDok through SmartDok's own API."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.web.conftest import PASSWORD, USER, fjordsync, smartdok_projects


@pytest.fixture(scope="module")
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    requests: list[str] = []
    opened.on("request", lambda request: requests.append(request.url))
    opened.goto(f"{site.url}/")
    # Read-only pages need a login unless [web] read_without_login: sent to the login page.
    assert opened.url == f"{site.url}/login?next=/"
    opened.fill("input[name=user]", USER)
    opened.fill("input[name=password]", PASSWORD)
    opened.click("button[type=submit]")
    opened.wait_for_url(f"{site.url}/")
    yield opened
    # One process, no data leaves the machine: every request the pages made was to this site.
    assert requests and all(url.startswith(site.url) for url in requests), {
        url for url in requests if not url.startswith(site.url)
    }
    context.close()


def test_the_login_cookie_is_httponly_strict_and_secure_and_chromium_keeps_it(page, site):
    (cookie,) = page.context.cookies()
    assert cookie["name"] == "fjordsync_web"
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Strict", True)
    assert page.locator("header .who").inner_text() == USER


def test_the_overview_lists_the_demos_flows_and_its_hours_run(page, site, screenshots):
    page.goto(f"{site.url}/")
    rows = page.locator("main table").first.locator("tr")
    flows = [rows.nth(n).locator("td").nth(1).inner_text() for n in range(1, rows.count())]
    assert flows == ["projects", "employees", "hours", "payroll-employees", "absences"]
    hours = rows.nth(3).locator("td")
    assert hours.nth(2).inner_text().startswith(f"run {site.hours_run} partial")
    assert hours.nth(4).inner_text() == "344 (344 new)"  # its open problems
    assert "first-run rule" in hours.nth(3).inner_text()
    page.screenshot(path=screenshots / "overview.png", full_page=True)


def test_a_run_shows_its_problems_by_cause_and_filters_its_records(page, site, screenshots):
    page.goto(f"{site.url}/runs")
    page.click(f"a[href='/runs/{site.hours_run}']")
    page.wait_for_url(f"{site.url}/runs/{site.hours_run}")
    assert page.locator("h1").inner_text() == f"Run {site.hours_run}: hours for demo"
    groups = page.locator("#problems tr")
    counts = [int(groups.nth(n).locator("td").first.inner_text()) for n in range(1, groups.count())]
    # A few causes, largest first, adding up to the run's 344 invalid hours.
    assert sum(counts) == 344
    assert counts == sorted(counts, reverse=True)
    assert 2 <= len(counts) <= 6
    first = groups.nth(1).locator("td")
    assert first.nth(1).inner_text() == "invalid"
    assert "wage code T110 has no Salary Type ID T110 in 24SevenOffice" in first.nth(2).inner_text()
    assert first.nth(3).inner_text().startswith("employee 2001 Nora Larsen, 2026-")
    page.screenshot(path=screenshots / "run-problems.png", full_page=False)
    # The outcome filter swaps the records table in place (htmx) and the address follows it.
    page.click("#outcome-filter >> text=invalid 344")
    page.wait_for_url(f"{site.url}/runs/{site.hours_run}?outcome=invalid")
    outcomes = page.locator("#records td:nth-child(3)").all_inner_texts()
    assert set(outcomes) == {"invalid"}
    assert len(outcomes) == 344
    page.click("#outcome-filter >> text=written 1287")
    page.wait_for_url(f"{site.url}/runs/{site.hours_run}?outcome=written")
    assert page.locator("#records tr").count() == 1 + 500 + 1  # 500 shown, then "and 787 more"
    assert page.locator("#records tr").last.inner_text().startswith("and 787 more")


def test_the_preflight_of_a_flow_shows_what_to_fix(page, site, screenshots):
    page.goto(f"{site.url}/flows/demo/hours")
    page.click("text=Check the ids line up")
    findings = page.locator("#findings tr")
    findings.nth(1).wait_for(timeout=30_000)
    records = findings.locator("td:nth-child(2)").all_inner_texts()
    # The demo's seeded misalignments that hold the 344 hours back.
    assert {"T110", "P-1004", "01.1"} <= set(records)
    page.screenshot(path=screenshots / "preflight.png", full_page=True)


def test_a_plan_is_saved_reviewed_and_applied_and_smartdok_has_the_change(page, site, screenshots):
    before = smartdok_projects(site)
    page.goto(f"{site.url}/flows/demo/projects")
    page.click("text=Save plan for review")
    page.wait_for_url(re.compile(rf"{site.url}/plans/demo-projects-\d{{8}}T\d{{6}}Z\.json"))
    name = page.url.rsplit("/", 1)[1]
    rows = page.locator("#changes tr")
    creates = [
        rows.nth(n).locator("td").first.inner_text()
        for n in range(1, rows.count())
        if rows.nth(n).locator("td").nth(1).inner_text() == "create"
    ]
    assert len(creates) == 1
    created = re.fullmatch(r"project (\d+) (.+)", creates[0])
    assert created, creates
    number, project_name = created.groups()
    assert number not in before
    # The create shows every field it sends, from nothing.
    create_row = rows.filter(has_text=creates[0])
    assert f"name: (none) → {project_name}" in create_row.inner_text()
    writes = rows.count() - 1
    updates = writes - 1
    assert page.locator("#plan-summary").inner_text() == (
        f"1 to create, {updates} to update, 0 unchanged, 0 skipped, 0 problems"
    )
    page.screenshot(path=screenshots / "plan.png", full_page=True)

    page.click("#apply")
    page.wait_for_url(re.compile(rf"{site.url}/runs/\d+$"))
    assert "apply" in page.locator("main p").first.inner_text()
    assert page.locator("main .status-succeeded").first.inner_text() == "succeeded"
    page.screenshot(path=screenshots / "applied.png", full_page=False)

    after = smartdok_projects(site)
    assert after[number]["ProjectName"] == project_name
    assert set(after) == set(before) | {number}

    # The plan was kept 0600 in plans/ beside the ledger, and the CLI's history has the run.
    plan_file = site.config.parent / "plans" / name
    assert plan_file.stat().st_mode & 0o777 == 0o600
    assert json.loads(plan_file.read_text())["personal_data"] == "masked"
    listed = fjordsync("runs", "list", "--config", str(site.config), "--json", env=site.env)
    runs = json.loads(listed.stdout)
    assert runs["runs"][0]["trigger"] == "web-apply"
    assert runs["runs"][0]["counts"] == {"written": writes}

    # A second apply of the same plan finds the source and target moved on: refused, by name.
    page.goto(f"{site.url}/plans/{name}")
    page.click("#apply")
    assert page.locator("h1").inner_text() == "The apply did not go ahead"
    assert "Nothing was written" in page.locator("main .error").inner_text()


def test_personal_values_are_masked_in_a_dry_run_and_a_saved_plan(page, site, screenshots):
    from tests.integration.test_leaks import _hits, _personal_values

    states = {
        name: httpx.get(f"{url}/_sandbox/state").json() for name, url in site.sandboxes.items()
    }
    personal = _personal_values(states)
    assert personal["text"] and personal["number"]
    page.goto(f"{site.url}/flows/demo/payroll-employees")
    page.click("text=Dry run")
    page.wait_for_url(f"{site.url}/flows/demo/payroll-employees/dry-run")
    dry_run = page.content()
    assert "***" in page.locator("#changes").inner_text()
    assert _hits(dry_run, personal) == []
    page.screenshot(path=screenshots / "dry-run-masked.png", full_page=False)
    page.goto(f"{site.url}/flows/demo/payroll-employees")
    page.click("text=Save plan for review")
    page.wait_for_url(re.compile(rf"{site.url}/plans/demo-payroll-employees-.*\.json"))
    masked = [
        line
        for line in page.locator("#changes .change").all_inner_texts()
        if line.endswith("→ ***")
    ]
    assert masked  # salaries, personal numbers, accounts: there, and shown as ***
    assert _hits(page.content(), personal) == []
