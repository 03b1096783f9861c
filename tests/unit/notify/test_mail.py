"""What the notification emails say."""

from __future__ import annotations

from datetime import UTC, datetime

from video2audio.notify.mail import JobNotice, render_email

EXPIRY = datetime(2026, 11, 22, 6, 30, tzinfo=UTC)
DONE = JobNotice(
    job_id="0" * 32,
    owner="alice",
    succeeded=True,
    filename="holiday <clip>.mp4",
    audio_format="mp3",
    bitrate="192k",
    size=3_358_720,
    audio_fid="65a000000000000000000001",
    download_url="http://127.0.0.1:8082/download?fid=65a0&exp=1&sig=ab&x=<y>",
    expires_at=EXPIRY,
)


def render(notice: JobNotice):
    return render_email(
        notice,
        sender="V2A <noreply@v2a.local>",
        recipient="a@b.example",
        message_id="<k.email@video2audio>",
    )


def test_a_finished_job_email_states_file_format_size_id_link_and_expiry():
    message = render(DONE)
    text = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Your audio is ready: holiday <clip>.mp4"
    for expected in (
        "holiday <clip>.mp4",
        "MP3 (192k)",
        "3.2 MiB",
        "3,358,720 bytes",
        DONE.audio_fid,
        DONE.download_url,
        "2026-11-22 06:30 UTC",
    ):
        assert expected in text


def test_the_html_part_escapes_user_text_and_links_the_download():
    html = render(DONE).get_body(("html",)).get_content()
    assert "holiday &lt;clip&gt;.mp4" in html
    assert "<clip>" not in html
    assert (
        "href='http://127.0.0.1:8082/download?fid=65a0&amp;exp=1&amp;sig=ab&amp;x=&lt;y&gt;'"
        in html
    )


def test_a_failed_job_email_gives_the_reason():
    notice = JobNotice(
        job_id="1" * 32, owner="bob", succeeded=False, filename="x.mov", error="no audio stream"
    )
    message = render(notice)
    assert message["Subject"] == "Conversion failed: x.mov"
    assert "Reason:" in message.get_body(("plain",)).get_content()
    assert "no audio stream" in message.get_body(("plain",)).get_content()


def test_a_finished_job_whose_file_is_gone_says_so_instead_of_linking():
    gone = JobNotice(job_id="2" * 32, owner="c", succeeded=True, filename="y.mp4")
    assert "expired" in render(gone).get_body(("plain",)).get_content()


def test_a_subject_carries_a_file_name_cut_short_and_without_control_characters():
    hostile = "a\r\nBcc: victim@example.com\x1b[31m" + "x" * 10_000 + ".mp4"
    notice = JobNotice(job_id="j1", owner="alice", succeeded=False, filename=hostile, error="e")
    message = render_email(notice, sender="s@example.test", recipient="r@example.test",
                           message_id="<m@x>")  # fmt: skip
    subject = message["Subject"]
    assert len(subject) <= len("Conversion failed: ") + 60
    assert not any(not ch.isprintable() for ch in subject)
    assert message["Bcc"] is None
