"""What Flask answers itself, before the router, is a JSON error like every other answer."""

from __future__ import annotations

import flask
import pytest
from werkzeug.exceptions import MethodNotAllowed

from tests.support.functions import function_app
from video2audio.web.router import flask_error_response


# Found by schemathesis (GET /static/{path}): Flask's own static route answered its HTML page.
@pytest.mark.parametrize("function", ["auth", "upload"])
def test_a_missing_file_of_flasks_static_route_is_a_json_404(function):
    response = function_app(function).test_client().get("/static/no-such-file.js")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "not found"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_flask_error_keeps_its_headers_but_not_its_html_type():
    with flask.Flask(__name__).app_context():
        response = flask_error_response(MethodNotAllowed(valid_methods=["GET", "HEAD"]))
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert response.get_json() == {"error": "method not allowed"}
