import pytest

from video2audio.core.settings import DEVELOPMENT_SECRET, Settings, SettingsError


def test_defaults_work_for_local_development():
    settings = Settings.from_env({})
    assert settings.is_development
    assert settings.rabbitmq_url.startswith("amqp://")
    assert settings.jwt_ttl_seconds == 3600


def test_values_are_typed_from_the_environment():
    settings = Settings.from_env(
        {"JWT_TTL_SECONDS": "60", "WEBHOOK_ALLOW_PRIVATE": "false", "CORS_ALLOWED_ORIGINS": "a, b"}
    )
    assert settings.jwt_ttl_seconds == 60
    assert settings.webhook_allow_private is False
    assert settings.cors_allowed_origins == ("a", "b")


def test_production_refuses_the_development_secret():
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        Settings.from_env({"APP_ENV": "production"})


def test_production_accepts_real_secrets():
    secret = "x" * 40
    settings = Settings.from_env(
        {
            "APP_ENV": "production",
            "JWT_SECRET": secret,
            "LINK_SECRET": secret,
        }
    )
    assert settings.jwt_secret != DEVELOPMENT_SECRET


def test_a_malformed_number_names_the_variable():
    with pytest.raises(SettingsError, match="BCRYPT_ROUNDS"):
        Settings.from_env({"BCRYPT_ROUNDS": "twelve"})


@pytest.mark.parametrize(
    ("name", "value"),
    [("CONVERT_LEASE_SECONDS", "0"), ("RETENTION_SECONDS", "-1"), ("SMTP_PORT", "70000")],
)
def test_durations_counts_and_ports_out_of_range_are_refused(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_an_unknown_app_env_is_refused():
    with pytest.raises(SettingsError, match="APP_ENV"):
        Settings.from_env({"APP_ENV": "staging"})


def test_a_short_secret_is_refused_in_production():
    secret = "x" * 40
    env = {"APP_ENV": "production", "LINK_SECRET": secret}
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        Settings.from_env({**env, "JWT_SECRET": "short"})


def test_settings_cannot_be_changed_after_they_are_built():
    settings = Settings.from_env({})
    with pytest.raises(ValueError, match="frozen"):
        settings.jwt_ttl_seconds = 1  # type: ignore[misc]


def test_variables_that_are_not_settings_are_ignored():
    assert Settings.from_env({"PATH": "/usr/bin", "HOME": "/root"}) == Settings.from_env({})


def test_logs_are_json_unless_text_is_asked_for():
    assert Settings.from_env({}).log_format == "json"
    assert Settings.from_env({"LOG_FORMAT": "text"}).log_format == "text"


def test_an_unknown_log_format_names_the_variable():
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"})


def test_a_short_metrics_token_is_refused_in_production():
    secret = "x" * 40
    env = {"APP_ENV": "production", "JWT_SECRET": secret, "LINK_SECRET": secret}
    with pytest.raises(SettingsError, match="METRICS_TOKEN"):
        Settings.from_env({**env, "METRICS_TOKEN": "short"})


def test_production_may_leave_the_metrics_token_empty():
    secret = "x" * 40
    env = {"APP_ENV": "production", "JWT_SECRET": secret, "LINK_SECRET": secret}
    assert Settings.from_env(env).metrics_token == ""
