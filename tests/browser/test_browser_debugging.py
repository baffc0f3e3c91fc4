"""The debugger in the page: layer-by-layer steps, breakpoints, time travel, diagnostics,
optimizer internals, the gradient checks, in-place settings and the homework exports.

As in test_page.py, every number the page shows carries the API's exact value in
`data-value`, and the tests compare those with what the REST API returns.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx

from test_page import PHASES, api, click_link, inspector_value, instant, run_phase, select_weight, session_id, value

# A network that diverges within a few iterations: linear units and a learning rate of 5.
DIVERGING = {"preset": "curve", "network": {"activation": "linear"}, "optimizer": {"name": "sgd", "learning_rate": 5.0}}
# ReLUs driven dead by a learning rate of 10 (the engine's own test of the dead-unit hint).
DEAD_RELUS = {"network": {"layers": [2, 8, 8, 1], "activation": "relu", "output_activation": "tanh"},
              "optimizer": {"learning_rate": 10.0}}
ADAM = {"preset": "circle", "optimizer": {"name": "adam", "learning_rate": 0.01}}


def open_session(pages, config, **kwargs):
    """A page steering a new session made from `config` (its token kept in that page's storage)."""
    page = pages.open("/", **kwargs)
    created = page.evaluate("async (config) => (await import('/static/js/api.js')).createSession(config)", config)
    page.goto(f"/s/{created['id']}")
    page.wait_for_selector("body[data-ready='1'][data-connected='1']")
    return page


def steer(page, path: str, body: dict):
    """POST a change with the page's own token, as a script driving the same session would."""
    sid = session_id(page)
    token = page.evaluate(f"localStorage.getItem('taffy.token.{sid}')")
    origin = page.url.split("/s/")[0]
    response = httpx.post(f"{origin}/api/sessions/{sid}{path}", json=body, timeout=30,
                          headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.json()


def rows_of(page, selector: str) -> dict[str, float]:
    """A numbers table as {row heading: exact value}."""
    found = {}
    for row in page.locator(f"{selector} tr").all():
        heading, number = row.locator("th"), row.locator(".num")
        if heading.count() and number.count() and number.first.get_attribute("data-value"):
            found[heading.first.inner_text()] = float(number.first.get_attribute("data-value"))
    return found


def test_layer_by_layer_steps_show_each_layer_as_the_api_computes_it(pages, artifacts):
    page = pages.open("/")
    instant(page)
    page.check("#layer-mode")
    assert page.inner_text(".phase-button[data-phase='forward']") == "Forward: next layer"
    layers = api(page)["config"]["network"]["layers"]
    last = len(layers) - 1
    for reached in range(1, last + 1):
        page.click(".phase-button[data-phase='forward']")
        page.wait_for_function(f"document.getElementById('a-{reached}-0').dataset.value !== ''")
        trace = api(page, "/trace")["forward"]
        assert trace["layer"] == reached
        for l in range(reached + 1):
            for j in range(layers[l]):
                assert value(page, f"#a-{l}-{j}") == trace["a"][l][0][j]
        for l in range(reached + 1, last + 1):  # not computed yet: drawn empty
            assert page.get_attribute(f"#a-{l}-0", "data-value") == ""
        if reached < last:
            assert api(page)["layer"] == reached
            assert page.inner_text("#layer-at-forward") == f"· layer {reached} of {last}"
            if reached == 1:
                page.screenshot(path=artifacts / "layer-by-layer-forward.png", full_page=False)
    assert api(page)["next_phase"] == "loss"

    run_phase(page, "loss")
    page.click(".phase-button[data-phase='backward']")
    page.wait_for_selector(f"#delta-{last}-0[data-value]:not([data-value=''])")
    backward = api(page, "/trace")["backward"]
    assert backward["layer"] == last - 1 and api(page)["next_phase"] == "backward"
    assert value(page, f"#delta-{last}-0") == backward["delta"][last][0][0]
    assert page.get_attribute("#delta-1-0", "data-value") == ""
    assert page.inner_text("#layer-at-backward") == f"· down to layer {last - 1}"


def test_the_scrubber_shows_a_past_iteration_and_resume_rewinds_to_it(pages, artifacts):
    page = pages.open("/")
    steer(page, "/train", {"iterations": 12})
    page.wait_for_selector("#status-iteration:text-is('12')")
    k = 5
    past = api(page, f"/history/{k}")
    scrubber = page.locator("#history-range")
    assert page.is_enabled("#history-range")
    oldest = int(scrubber.get_attribute("min"))
    scrubber.focus()
    page.keyboard.press("Home")
    page.wait_for_selector(f"#past-text:has-text('Viewing iteration {oldest} (read-only)')")
    for _ in range(k - oldest):
        page.keyboard.press("ArrowRight")
    page.wait_for_selector(f"#past-text:has-text('Viewing iteration {k} (read-only)')")
    assert page.is_disabled(".phase-button[data-phase='forward']")  # the past is read-only

    l, i, j = 1, 1, 0
    select_weight(page, l, i, j)
    assert inspector_value(page, "w (now)") == past["network"]["W"][l][i][j]
    assert inspector_value(page, "∂L/∂w") == past["trace"]["backward"]["grad_W"][l][i][j]
    page.screenshot(path=artifacts / "time-travel.png", full_page=True)

    page.click("#back-to-now")
    page.wait_for_selector("#past-banner", state="hidden")
    assert inspector_value(page, "w (now)") == api(page, "/network")["W"][l][i][j]

    url = page.url
    page.keyboard.press("Escape")
    scrubber.focus()
    page.keyboard.press("Home")
    for _ in range(k - oldest):
        page.keyboard.press("ArrowRight")
    page.wait_for_selector(f"#past-text:has-text('Viewing iteration {k}')")
    page.click("#resume-here")
    page.wait_for_selector("#past-banner", state="hidden")
    page.wait_for_selector(f"#status-iteration:text-is('{k}')")
    assert page.url == url
    assert api(page)["iteration"] == k
    assert api(page, "/network")["W"] == past["network"]["W"]


def test_a_nan_while_playing_pauses_names_it_and_highlights_the_layer(pages, artifacts):
    page = open_session(pages, DIVERGING)
    page.click("#play-button")
    page.wait_for_selector("#stop-report:not([hidden])")
    page.wait_for_selector("body[data-playing='0']")
    text = page.inner_text("#stop-text")
    session = api(page)
    assert session["status"] == "diverged" and not session["playing"]
    divergence = session["divergence"]
    assert f"Stopped at iteration {divergence['iteration']}" in text and "NaN or ∞" in text
    assert divergence["phase"] in text
    band = page.locator("[data-highlight-layer]")
    assert band.count() == 1
    page.screenshot(path=artifacts / "breakpoint-nan.png", full_page=False)


def test_a_loss_rising_breakpoint_stops_an_epoch_and_names_the_condition(pages):
    page = pages.open("/")
    page.check("#bp-on-loss_rising")
    page.fill("#bp-loss_rising", "1")
    page.dispatch_event("#bp-loss_rising", "change")
    page.wait_for_selector("#breakpoints-note:has-text('Set:')")
    assert api(page, "/breakpoints")["breakpoints"]["loss_rising"] == 1
    page.click("#epoch-button")
    page.wait_for_selector("#stop-report:not([hidden])")
    text = page.inner_text("#stop-text")
    history = api(page, "/history")
    iteration = api(page)["iteration"]
    assert iteration < api(page)["batches_per_epoch"]  # stopped before the epoch's end
    assert f"Stopped at iteration {iteration}" in text and "rose 1 iterations in a row" in text
    assert history["batch_loss"][-1] > history["batch_loss"][-2]
    assert page.locator("[data-highlight-neuron]").count() == 1  # the output, where the loss is read


def test_the_inspector_shows_adams_state_for_the_selected_weight(pages, artifacts):
    page = open_session(pages, ADAM)
    instant(page)
    for _ in range(2):
        page.click("#step-button")
    page.wait_for_selector("#status-iteration:text-is('2')")
    l, i, j = 0, 1, 2
    select_weight(page, l, i, j)
    page.wait_for_selector("#inspector-content tr:has(th:text-is('m (exp_avg)'))")
    state = api(page, "/network")["optimizer_state"]
    shown = rows_of(page, "#inspector-content")
    assert shown["step count t"] == state["step"] == 2
    assert shown["m (exp_avg)"] == state["exp_avg_W"][l][i][j]
    assert shown["v (exp_avg_sq)"] == state["exp_avg_sq_W"][l][i][j]
    assert shown["m̂ = m / (1 − β₁ᵗ)"] == state["exp_avg_hat_W"][l][i][j]
    assert shown["v̂ = v / (1 − β₂ᵗ)"] == state["exp_avg_sq_hat_W"][l][i][j]
    assert shown["effective step (last update)"] == api(page, "/trace")["update"]["step_W"][l][i][j]
    page.locator(".inspector-panel").screenshot(path=artifacts / "inspector-adam.png")


def test_the_chain_rule_shows_f_prime_as_a_number_and_a_weight_can_be_set_by_hand(pages):
    page = pages.open("/")
    for phase in ["forward", "loss", "backward"]:
        run_phase(page, phase)
    l, i, j = 0, 1, 0
    select_weight(page, l, i, j)
    page.wait_for_selector("#inspector-content tr:has(th:has-text('f′(z')) .num")
    rule = api(page, f"/chain_rule?layer={l}&i={i}&j={j}")
    assert rows_of(page, "#inspector-content")["f′(zj)"] == rule["samples"][0]["f_prime_z_j"]

    page.fill("#inspector-edit input[name=value]", "0.75")
    page.click("#edit-set")
    page.wait_for_selector("#message:has-text('set to 0.75 by hand')")
    assert api(page, "/network")["W"][l][i][j] == 0.75
    assert api(page)["phase"] is None  # the iteration in progress was dropped
    assert inspector_value(page, "w (now)") == 0.75

    page.fill("#inspector-edit input[name=value]", "0.7")
    page.click("#edit-watch")
    page.wait_for_selector("#bp-on-watch:checked")
    page.wait_for_selector("#breakpoints-note:has-text('Set:')")
    assert api(page, "/breakpoints")["breakpoints"]["watch"] == {"layer": l, "i": i, "j": j, "value": 0.7}
    assert page.inner_text("#bp-watch-label") == f"W[{l}][{i}][{j}] crosses 0.7000"


def test_hints_explain_a_dead_relu_network_with_the_numbers_behind_them(pages, artifacts):
    page = open_session(pages, DEAD_RELUS)
    steer(page, "/train", {"iterations": 100})
    page.wait_for_selector(".hint-item[data-kind='dead_relu']")
    hint = next(h for h in api(page, "/diagnostics")["hints"] if h["kind"] == "dead_relu")
    item = page.locator(".hint-item[data-kind='dead_relu']").first
    assert item.locator("p").inner_text() == hint["message"]
    item.locator("button").click()
    assert rows_of(page, "#hint-table")["dead fraction"] == hint["numbers"]["dead_fraction"]
    assert page.locator(f"[data-highlight-neuron^='{hint['layer']}-']").count() == 8
    assert page.locator("#diagnostic-charts figure:not([hidden])").count() >= 3
    page.screenshot(path=artifacts / "hints-dead-relu.png", full_page=True)


def test_the_gradient_check_view_agrees_and_highlights_what_disagrees(pages, artifacts):
    page = pages.open("/")
    page.click("#gradcheck-run")
    page.wait_for_selector("#gradcheck-worst .num")
    check = api(page, "/gradcheck")
    assert value(page, "#gradcheck-worst .num") == check["max_relative_error"]
    assert "agree" in page.inner_text(".verdict") and page.locator("[data-highlight-weight]").count() == 0

    # A broken derivative, as the server would report it: one weight's gradients disagree.
    broken = json.loads(json.dumps(check))
    broken["W"][1][0][1] = {"analytic": 0.5, "numerical": 0.1, "relative_error": 0.8}
    broken["max_relative_error"] = 0.8
    page.route("**/gradcheck", lambda route: route.fulfill(json=broken))
    page.click("#gradcheck-run")
    page.wait_for_selector("[data-highlight-weight='1-0-1']")
    assert "1 of" in page.inner_text(".verdict.bad")
    assert page.locator("#gradcheck-table tr.disagrees").count() == 1
    page.screenshot(path=artifacts / "gradcheck-disagrees.png", full_page=False)

    page.click("#full-run")
    page.wait_for_selector("#full-table")
    full = api(page, "/full_gradient")
    assert [float(x) for x in page.locator("#full-table tbody tr td:nth-child(2) .num").evaluate_all(
        "els => els.map(e => e.dataset.value)")] == full["cosine"]


def test_in_place_settings_and_reset_keep_the_link(pages):
    page = pages.open("/")
    instant(page)
    page.click("#step-button")
    page.wait_for_selector("#status-iteration:text-is('1')")
    url, weights = page.url, api(page, "/network")["W"]
    page.fill("#set-learning-rate", "0.1")
    page.check("#set-freeze-biases")
    assert "in place" in page.inner_text("#settings-note")
    page.click("#apply-settings")
    page.wait_for_selector("#message:has-text('changed in place')")
    assert page.url == url
    config = api(page)["config"]
    assert config["optimizer"]["learning_rate"] == 0.1 and config["freeze_biases"] is True
    assert api(page)["iteration"] == 1 and api(page, "/network")["W"] == weights

    page.click("#reset-button")
    page.wait_for_selector("#status-iteration:text-is('0')")
    assert page.url == url and api(page)["iteration"] == 0


def test_the_homework_exports_download_and_parse(pages):
    page = pages.open("/")
    for phase in PHASES:
        run_phase(page, phase)
    click_link(page, 0)
    page.wait_for_selector("#inspected")
    downloads = {}
    page.click("#export-menu summary")
    for button in ["#export-trace-csv", "#export-trace-json", "#export-chain-tex"]:
        with page.expect_download() as info:
            page.click(button)
        downloads[button] = Path(info.value.path()).read_text()
    trace = api(page, "/trace")
    assert json.loads(downloads["#export-trace-json"]) == trace
    rows = list(csv.DictReader(io.StringIO(downloads["#export-trace-csv"])))
    loss = next(r for r in rows if r["phase"] == "loss" and r["quantity"] == "loss")
    assert float(loss["value"]) == trace["loss"]["loss"]
    tex = downloads["#export-chain-tex"]
    assert "\\begin{tabular}" in tex or "\\begin{array}" in tex

