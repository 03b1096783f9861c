"""The HTTP router: registration of views and what it answers without one."""

from __future__ import annotations

import flask
import pytest

from video2audio.web.router import Router, json_response


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
