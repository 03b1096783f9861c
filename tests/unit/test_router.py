"""The HTTP router's registration of views."""

from __future__ import annotations

import pytest

from video2audio.http import Router


def test_a_second_view_with_the_name_of_another_is_refused():
    routes = Router()

    @routes.route("/first", methods=["GET"])
    def view(request):
        return None

    with pytest.raises(ValueError, match="two views"):

        @routes.route("/second", methods=["GET"])
        def view(request):
            return None
