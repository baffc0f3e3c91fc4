"""The page, driven like a teacher and a student would, checked against the API's numbers.

Every number the page shows carries the API's exact value in `data-value`; the tests
compare those with what the REST API returns for the same session.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pytest

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
PHASES = ["forward", "loss", "backward", "update"]


def session_id(page) -> str:
    return page.url.rsplit("/s/", 1)[1]


def api(page, path: str = "", base: str | None = None):
    """GET a session resource straight from the server (reads need no token)."""
    origin = base or page.url.split("/s/")[0]
    response = httpx.get(f"{origin}/api/sessions/{session_id(page)}{path}", timeout=10)
    response.raise_for_status()
    return response.json()


def value(page, selector: str) -> float:
    return float(page.locator(selector).first.get_attribute("data-value"))


def inspector_value(page, label: str) -> float:
    """The exact number in the inspector's row whose heading starts with `label`."""
    row = page.locator("#inspector-content tr", has=page.locator(f"th:text-is('{label}')"))
    return float(row.locator(".num").first.get_attribute("data-value"))


def run_phase(page, phase: str):
    """Click a phase's button, wait for the server's answer, skip to the animation's end."""
    page.click(f".phase-button[data-phase='{phase}']")
    # After the update the iteration is complete: step 5, iterate, is lit.
    lit = "iterate" if phase == "update" else phase
    page.wait_for_selector(f"#phasebar li[data-phase='{lit}'].current")
    page.keyboard.press("Escape")


def instant(page):
    """The fastest speed: phases show at once, play runs as fast as the server goes."""
    page.fill("#speed", "5")
    page.dispatch_event("#speed", "input")


def click_link(page, index: int):
    """Click a link's (invisible, wider) hit stroke, as a pointer over that link would."""
    page.dispatch_event(f"[data-link='{index}']", "click")


def select_weight(page, l: int, i: int, j: int):
    """Through the inspector's picker: layer l, neuron i → neuron j of layer l+1 (0-based)."""
    page.fill("#inspector-picker input[name=layer]", str(l))
    page.fill("#inspector-picker input[name=from]", str(i + 1))
    page.fill("#inspector-picker input[name=to]", str(j + 1))
    page.click("#inspector-picker button[value=link]")
    page.wait_for_selector("#inspected")


def test_start_page_creates_a_session_and_keeps_its_token(pages):
    page = pages.open("/")
    sid = session_id(page)
    assert page.evaluate(f"localStorage.getItem('taffy.token.{sid}')")
    summary = api(page)
    assert summary["iteration"] == 0 and summary["next_phase"] == "forward"
    assert page.is_enabled(".phase-button[data-phase='forward']")
    assert page.is_hidden("#readonly-note")
    assert page.locator("#network circle").count() == sum(summary["config"]["network"]["layers"])


def test_each_phase_shows_the_api_numbers(pages, artifacts):
    page = pages.open("/")
    page.screenshot(path=artifacts / "phase-0-start.png", full_page=True)

    run_phase(page, "forward")
    trace = api(page, "/trace")
    # The focused sample is the batch's first: neuron 1 of layer 1 shows its activation.
    assert value(page, "#a-1-0") == trace["forward"]["a"][1][0][0]
    assert value(page, "#a-0-1") == trace["forward"]["a"][0][0][1]
    page.screenshot(path=artifacts / "phase-1-forward.png", full_page=True)

    run_phase(page, "loss")
    trace = api(page, "/trace")
    assert value(page, ".loss-label") == trace["loss"]["loss"]
    assert value(page, "#target-0") == trace["loss"]["targets"][0][0]
    page.screenshot(path=artifacts / "phase-2-loss.png", full_page=True)

    run_phase(page, "backward")
    trace = api(page, "/trace")
    assert value(page, "#delta-1-0") == trace["backward"]["delta"][1][0][0]
    click_link(page, 0)  # the first link drawn: layer 0, neuron 1 → neuron 1
    page.wait_for_selector("#inspected")
    assert inspector_value(page, "∂L/∂w") == trace["backward"]["grad_W"][0][0][0]
    page.screenshot(path=artifacts / "phase-3-backward.png", full_page=True)

    before = api(page, "/network")["W"][0][0][0]
    run_phase(page, "update")
    trace = api(page, "/trace")
    network = api(page, "/network")
    assert inspector_value(page, "w (now)") == trace["update"]["W"][0][0][0] == network["W"][0][0][0]
    assert inspector_value(page, "w before the update") == before
    assert inspector_value(page, "last step") == trace["update"]["step_W"][0][0][0]
    page.wait_for_selector("#status-iteration:text-is('1')")
    page.screenshot(path=artifacts / "phase-4-update.png", full_page=True)


def test_step_runs_a_whole_iteration_and_back_rewinds(pages):
    page = pages.open("/")
    instant(page)
    page.click("#step-button")
    page.wait_for_selector("#status-iteration:text-is('1')")
    assert api(page)["iteration"] == 1
    weights_after_one = api(page, "/network")["W"]

    page.click("#step-button")
    page.wait_for_selector("#status-iteration:text-is('2')")
    page.click("#back-button")
    page.wait_for_selector("#status-iteration:text-is('1')")
    assert api(page)["iteration"] == 1
    assert api(page, "/network")["W"] == weights_after_one

    page.click(".phase-button[data-phase='forward']")
    page.wait_for_selector("#phasebar li[data-phase='forward'].current")
    page.keyboard.press("ArrowLeft")  # back drops the iteration in progress
    page.wait_for_selector(".phase-button[data-phase='forward']:enabled")
    assert api(page)["phase"] is None


def test_play_then_pause_advances_and_a_viewer_follows_read_only(pages, artifacts):
    teacher = pages.open("/")
    student = pages.open(f"/s/{session_id(teacher)}", viewport=(390, 844))
    assert student.is_visible("#readonly-note")
    for control in ["forward", "loss", "backward", "update"]:
        assert student.is_disabled(f".phase-button[data-phase='{control}']")
    for control in ["#step-button", "#epoch-button", "#play-button", "#back-button", "#reset-button"]:
        assert student.is_disabled(control)

    teacher.click("#play-button")
    teacher.wait_for_selector("body[data-playing='1']")
    # The student's iteration only moves through the frames it receives.
    student.wait_for_function("Number(document.body.dataset.iteration) > 5")
    teacher.screenshot(path=artifacts / "play-teacher.png", full_page=True)
    student.screenshot(path=artifacts / "play-student-phone.png", full_page=True)
    teacher.keyboard.press("Space")
    teacher.wait_for_selector("body[data-playing='0']")
    student.wait_for_selector("body[data-playing='0']")

    summary = api(teacher)
    assert summary["iteration"] > 5 and not summary["playing"]
    for page in (teacher, student):
        page.wait_for_selector(f"#status-iteration:text-is('{summary['iteration']}')")
    select_weight(student, 0, 0, 0)
    assert inspector_value(student, "w (now)") == api(teacher, "/network")["W"][0][0][0]


def test_settings_change_creates_the_right_session(pages):
    page = pages.open("/")
    old = session_id(page)
    page.click("button[aria-label='More neurons in hidden layer 1']")
    page.select_option("#set-activation", "relu")
    assert "new session" in page.inner_text("#settings-note")
    page.click("#apply-settings")
    page.wait_for_url(lambda url: "/s/" in url and old not in url)
    page.wait_for_selector("body[data-ready='1']")
    config = api(page)["config"]
    assert config["network"]["layers"] == [2, 5, 2, 1]
    assert config["network"]["activation"] == "relu"
    assert "new network" in page.inner_text("#message")
    assert page.is_enabled(".phase-button[data-phase='forward']")  # the creator steers it


def test_inspector_writes_out_the_chain_rule_with_the_selected_weights_numbers(pages, artifacts):
    page = pages.open("/")
    for phase in ["forward", "loss", "backward"]:
        run_phase(page, phase)
    # A hidden → hidden weight of the 2-4-2-1 circle network: layer 1, neuron 2 → neuron 1.
    l, i, j = 1, 1, 0
    select_weight(page, l, i, j)
    trace = api(page, "/trace")
    forward, backward = trace["forward"], trace["backward"]
    content = page.locator("#inspector-content")
    assert "∂L/∂w" in content.inner_text() and "Σ" in content.inner_text()

    table = content.locator("table.per-sample").first
    rows = table.locator("tbody tr")
    assert rows.count() == len(forward["batch"])
    for s in range(rows.count()):
        a_i, delta_j = (float(x) for x in rows.nth(s).locator(".num").evaluate_all("els => els.map(e => e.dataset.value)"))
        assert a_i == forward["a"][l][s][i]
        assert delta_j == backward["delta"][l + 1][s][j]
    assert float(content.locator(".formula strong .num").first.get_attribute("data-value")) == backward["grad_W"][l][i][j]

    # δ_j = f′(z_j) · Σ_k w_jk δ_k: the weights and deltas one layer up, for the focused sample.
    network = api(page, "/network")
    sums = content.locator("table.sum-terms tbody tr")
    for k in range(sums.count()):
        w_jk, delta_k = (float(x) for x in sums.nth(k).locator(".num").evaluate_all("els => els.map(e => e.dataset.value)"))
        assert w_jk == network["W"][l + 1][j][k]
        assert delta_k == backward["delta"][l + 2][0][k]

    page.wait_for_selector("#inspector-content tr:has(th:text-is('numerical gradient')) .num")
    check = api(page, "/gradcheck")
    assert inspector_value(page, "numerical gradient") == check["W"][l][i][j]["numerical"]
    page.locator(".inspector-panel").screenshot(path=artifacts / "inspector-chain-rule.png")


def test_keyboard_help_and_phase_shortcuts(pages):
    page = pages.open("/")
    page.locator("body").press("?")
    assert page.is_visible("#help")
    page.keyboard.press("Escape")
    assert page.is_hidden("#help")
    page.locator("body").press("ArrowRight")
    page.wait_for_selector("#phasebar li[data-phase='forward'].current")
    assert api(page)["phase"] == "forward"


def test_exports(pages):
    page = pages.open("/")
    instant(page)
    page.click("#step-button")
    page.wait_for_selector("#status-iteration:text-is('1')")
    page.click("#export-menu summary")
    downloads = {}
    for button in ["#export-csv", "#export-json", "#export-svg", "#export-png"]:
        with page.expect_download() as info:
            page.click(button)
        downloads[button] = Path(info.value.path()).read_bytes()
    rows = list(csv.reader(io.StringIO(downloads["#export-csv"].decode())))
    assert rows[0][:2] == ["iteration", "batch_loss"]
    assert float(rows[1][1]) == api(page, "/history")["batch_loss"][0]
    exported = json.loads(downloads["#export-json"])
    assert exported["iteration"] == 1
    assert exported["config"]["network"] == {**api(page)["config"]["network"], **exported["config"]["network"]}
    assert downloads["#export-svg"].startswith(b"<svg")
    assert downloads["#export-png"].startswith(b"\x89PNG")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_accessibility_violations(pages, theme):
    page = pages.open("/")
    if theme == "dark" and page.get_attribute("html", "data-theme") != "dark":
        page.click("#theme-toggle")
    run_phase(page, "forward")
    click_link(page, 0)
    page.wait_for_selector("#inspected")
    page.add_script_tag(content=AXE.read_text())
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in results["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], "\n".join(serious)


def test_phone_and_projector_layouts(pages, artifacts):
    phone = pages.open("/", viewport=(390, 844))
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    network, data = phone.locator(".network-panel").bounding_box(), phone.locator(".data-panel").bounding_box()
    assert data["y"] > network["y"] + network["height"] - 1  # stacked, network first
    phone.screenshot(path=artifacts / "phone.png", full_page=True)

    desk = pages.open("/")
    size = desk.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    desk.click("#projector-toggle")
    assert desk.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") > size * 1.3
    desk.screenshot(path=artifacts / "projector.png")
