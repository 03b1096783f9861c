"""The HTTP router: registration of views and what it answers without one."""

from __future__ import annotations

import flask
import pytest

from video2audio.core.logs import log_context
from video2audio.core.settings import Settings
from video2audio.core.tokens import issue_token
from video2audio.core.tracing import parse_traceparent
from video2audio.web.router import Router, authenticate, json_response, request_span


def first(request, context):
    return json_response({"view": "first", "context": context})


def make_second():
    def first(request, context):  # same name as the module-level view, another function
        return json_response({})

    return first


def test_a_second_view_with_the_name_of_another_is_refused():
    router = Router("ctx")
    router.add("/first", first, methods=["GET"])
    with pytest.raises(ValueError, match="two views"):
        router.add("/second", make_second(), methods=["GET"])


def test_one_view_may_answer_several_paths():
    router = Router("ctx")
    router.add("/a", first, methods=["GET"])
    router.add("/b", first, methods=["GET"])
    assert {path for path, _ in router.rules()} == {"/a", "/b"}


def test_views_receive_the_routers_context():
    router = Router("the context")
    router.add("/first", first, methods=["GET"])
    app = flask.Flask(__name__)
    with app.test_request_context("/first"):
        response = router.dispatch(flask.request)
    assert response.get_json() == {"view": "first", "context": "the context"}


def test_an_unknown_path_is_a_json_404():
    router = Router(None)
    app = flask.Flask(__name__)
    with app.test_request_context("/nowhere"):
        response = router.dispatch(flask.request)
    assert (response.status_code, response.get_json()) == (404, {"error": "not found"})


def context_view(request, context, **arguments):
    if context is not None:
        authenticate(request, context)
    return json_response(
        {"context": dict(log_context()), "span": request_span(request).traceparent}
    )


def serve(router, path, headers=None):
    app = flask.Flask(__name__)
    with app.test_request_context(path, headers=headers or {}):
        return router.dispatch(flask.request).get_json()


def context_router(settings=None):
    router = Router(settings)
    router.add("/jobs/<job_id>", context_view, methods=["GET"])
    router.add("/other", context_view, methods=["GET"])
    return router


def test_a_request_continues_a_valid_traceparent_header_in_a_span_of_its_own():
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    seen = serve(context_router(), "/other", {"traceparent": parent})
    span = parse_traceparent(seen["span"])
    assert span.trace_id == seen["context"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert span.span_id == seen["context"]["span_id"] != "00f067aa0ba902b7"


def test_a_request_with_a_malformed_traceparent_header_starts_a_fresh_trace():
    malformed = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"
    seen = serve(context_router(), "/other", {"traceparent": malformed})
    assert seen["context"]["trace_id"] not in malformed.lower()
    assert parse_traceparent(seen["span"]) is not None


def test_a_route_with_a_job_id_puts_it_in_the_log_context():
    seen = serve(context_router(), f"/jobs/{'a' * 32}")
    assert seen["context"]["job_id"] == "a" * 32


def test_a_job_id_that_is_not_one_stays_out_of_the_log_context():
    seen = serve(context_router(), "/jobs/not-a-job")
    assert "job_id" not in seen["context"]


def test_the_verified_user_is_in_the_log_context():
    settings = Settings()
    token = issue_token(
        "alice", secret=settings.jwt_secret, issuer=settings.jwt_issuer, ttl_seconds=60
    )
    seen = serve(context_router(settings), "/other", {"Authorization": f"Bearer {token}"})
    assert seen["context"]["user"] == "alice"


def test_nothing_of_a_request_is_in_the_context_of_the_next_one_on_the_same_thread():
    router = context_router()
    first = serve(router, f"/jobs/{'a' * 32}")
    second = serve(router, "/other")
    assert "job_id" not in second["context"]
    assert second["context"]["trace_id"] != first["context"]["trace_id"]
    assert dict(log_context()) == {}
