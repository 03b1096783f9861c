import pytest

from video2audio.auth.credentials import Credentials, validate_credentials
from video2audio.core.errors import BadRequestError


def test_an_email_username_becomes_the_email():
    valid = validate_credentials(Credentials("ann@example.com", "password1"), registering=True)
    assert valid.email == "ann@example.com"


@pytest.mark.parametrize("username", ["ab", "a" * 65, "has space", "semi;colon", "ünïcode"])
def test_invalid_usernames_are_refused(username):
    with pytest.raises(BadRequestError, match="username"):
        validate_credentials(Credentials(username, "password1"), registering=True)


def test_a_short_password_is_refused_on_registration():
    with pytest.raises(BadRequestError, match="at least 8"):
        validate_credentials(Credentials("alice", "short"), registering=True)


def test_a_password_over_72_bytes_is_refused_not_truncated():
    # 37 two-byte characters = 74 bytes although only 37 characters
    with pytest.raises(BadRequestError, match="72 bytes"):
        validate_credentials(Credentials("alice", "é" * 37), registering=True)


def test_an_invalid_email_is_refused():
    with pytest.raises(BadRequestError, match="email"):
        validate_credentials(Credentials("alice", "password1", "not-an-email"), registering=True)


def test_four_emoji_are_four_characters_not_a_password_of_sixteen():
    with pytest.raises(BadRequestError, match="at least 8 characters"):
        validate_credentials(Credentials("alice", "🔑🔑🔑🔑"), registering=True)


def test_eight_multibyte_characters_are_a_long_enough_password():
    assert validate_credentials(Credentials("alice", "ß" * 8), registering=True)  # 16 bytes
