"""The Grafana dashboard (monitoring/grafana/video2audio.json): its structure and its queries.

Grafana is not installable here, so this checks what Grafana would need to load and draw it;
tests/e2e/test_monitoring.py checks that every query returns data from a running Prometheus.
"""

from __future__ import annotations

import pytest

from tests.support.monitoring import (
    dashboard_panels,
    load_dashboard,
    panel_queries,
    promql_parse_errors,
)

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


@pytest.fixture(scope="module")
def dashboard():
    return load_dashboard()


def test_the_dashboard_has_a_prometheus_datasource_variable(dashboard):
    [variable] = [v for v in dashboard["templating"]["list"] if v["name"] == "datasource"]
    assert variable["type"] == "datasource"
    assert variable["query"] == "prometheus"


def test_the_dashboard_has_a_uid_a_title_and_a_current_schema_version(dashboard):
    assert dashboard["uid"] == "video2audio"
    assert dashboard["title"]
    assert 36 <= dashboard["schemaVersion"] <= 41


def test_panel_ids_are_unique_integers(dashboard):
    ids = [panel["id"] for panel in dashboard_panels(dashboard)]
    assert all(isinstance(i, int) for i in ids)
    assert len(ids) == len(set(ids))


def test_every_panel_has_a_position_inside_the_24_column_grid(dashboard):
    for panel in dashboard_panels(dashboard):
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("h", "w", "x", "y")), panel["title"]
        assert grid["h"] > 0 and grid["w"] > 0 and grid["x"] >= 0 and grid["y"] >= 0
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_no_two_panels_overlap(dashboard):
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard_panels(dashboard):
        grid = panel["gridPos"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_every_panel_and_query_uses_the_datasource_variable(dashboard):
    for panel in dashboard_panels(dashboard):
        assert panel["datasource"] == DATASOURCE, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]


def test_every_panel_has_queries_with_distinct_ref_ids(dashboard):
    for panel in dashboard_panels(dashboard):
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert ref_ids, panel["title"]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        assert all(target["expr"].strip() for target in panel["targets"]), panel["title"]


def test_every_query_parses_as_promql(dashboard, tmp_path):
    exprs = [q.expr for q in panel_queries(dashboard)]
    assert promql_parse_errors(exprs, tmp_path) == ""


def test_a_query_that_does_not_parse_is_reported(tmp_path):
    errors = promql_parse_errors(["sum(rate(video2audio_uploads_total[5m])"], tmp_path)
    assert "dashboard:query_0" in errors and "could not parse expression" in errors


@pytest.mark.parametrize(
    "series",
    [
        "video2audio_conversions_total",
        "video2audio_conversion_duration_seconds_bucket",
        "video2audio_conversion_realtime_factor_bucket",
        "rabbitmq_queue_messages_ready",
        "video2audio_http_requests_total",
        "video2audio_http_request_duration_seconds_bucket",
    ],
)
def test_the_panels_an_operator_opens_first_are_there(dashboard, series):
    # jobs by outcome, conversion time, realtime factor, queues, parked, HTTP errors and latency
    assert any(series in q.expr for q in panel_queries(dashboard)), series
