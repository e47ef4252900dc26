"""The model layer's own pieces: timestamps read back exactly as Tortoise reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from tortoise import fields

from helpdesk.models import DatetimeField

ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])
MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=ZONES
)


@given(MOMENTS, st.sampled_from([" ", "T"]))
def test_a_stored_timestamp_reads_back_as_tortoise_reads_it(moment, separator):
    text = moment.isoformat(sep=separator)
    ours = DatetimeField().to_python_value(text)
    assert ours == fields.DatetimeField().to_python_value(text)
    assert ours is not None and ours.tzinfo is not None


def test_text_the_fast_path_cannot_read_is_still_read():
    text = "2026-11"  # ISO 8601 to Tortoise's parser, not to datetime.fromisoformat
    ours = DatetimeField().to_python_value(text)
    assert ours == datetime(2026, 11, 1, tzinfo=UTC)
    assert ours == fields.DatetimeField().to_python_value(text)
